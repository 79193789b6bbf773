package outbox_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/testnats"
	"github.com/switchboard-chat/switchboard/outbox"
)

// drain runs passes until nothing is left.
func drain(t *testing.T, r *outbox.Relay) int {
	t.Helper()
	total := 0
	for {
		n, err := r.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// End to end through a real JetStream: the stream is created, each event
// is on <namespace>.<eventName> with Nats-Msg-Id = its envelope id, in
// commit order; the same events published again are dropped as copies.
func TestNATSJetStream(t *testing.T) {
	url := testnats.URL(t)
	forDialects(t, func(t *testing.T, dialect string) {
		ns, stream := testnats.Unique("sbtest-"), strings.ToUpper(testnats.Unique("SBTEST_"))
		js := testnats.JetStream(t, url, stream)
		e := newEnv(t, dialect, ns)
		for i := range 5 {
			e.write(t, change("ticketCreated", "s-a", "u1", i), change("personalChatSent", "s-b", "u2", i))
		}
		sink, err := outbox.Open(url, outbox.SinkOptions{Namespace: ns, Stream: stream})
		if err != nil {
			t.Fatal(err)
		}
		r := outbox.NewRelay(e.db, e.committer, sink, outbox.RelayOptions{Now: e.clock.Now, Batch: 4})
		defer r.Stop()
		if n := drain(t, r); n != 10 {
			t.Fatalf("published %d, want 10", n)
		}
		st, err := js.Stream(context.Background(), stream)
		if err != nil {
			t.Fatalf("the stream was not created: %v", err)
		}
		info, err := st.Info(context.Background())
		if err != nil || info.State.Msgs != 10 || info.Config.Subjects[0] != ns+".>" {
			t.Fatalf("stream %+v, %v", info, err)
		}
		var ids []string
		next := map[string]int{}
		for seq := uint64(1); seq <= 10; seq++ {
			msg, err := st.GetMsg(context.Background(), seq)
			if err != nil {
				t.Fatal(err)
			}
			env := envelopeOf(t, msg.Data)
			if msg.Subject != ns+"."+env.Name || msg.Header.Get("Nats-Msg-Id") != env.ID || env.Namespace != ns {
				t.Fatalf("message %d: subject %s, id %q, envelope %+v", seq, msg.Subject, msg.Header.Get("Nats-Msg-Id"), env)
			}
			if n := int(env.Payload[env.Name].(map[string]any)["n"].(float64)); n != next[env.SessionID] {
				t.Fatalf("session %s: event %d, want %d", env.SessionID, n, next[env.SessionID])
			}
			next[env.SessionID]++
			ids = append(ids, env.ID)
		}
		// Published again (a relay that died before marking them): the
		// stream keeps one copy of each.
		again := []outbox.Record{{ID: ids[0], Namespace: ns, Name: "ticketCreated", Envelope: []byte(`{}`)}}
		if n, err := sink.Publish(context.Background(), again); err != nil || n != 1 {
			t.Fatalf("republish: %d, %v", n, err)
		}
		if info, _ := st.Info(context.Background()); info.State.Msgs != 10 {
			t.Fatalf("%d messages after a copy was published, want 10", info.State.Msgs)
		}
	})
}

// A sink that is down delays the events: they stay pending, the chat
// writes go on, and once a sink is reachable every event arrives, in
// order.
func TestNATSDownDelaysEvents(t *testing.T) {
	url := testnats.URL(t)
	ns, stream := testnats.Unique("sbtest-"), strings.ToUpper(testnats.Unique("SBTEST_"))
	js := testnats.JetStream(t, url, stream)
	e := newEnv(t, "sqlite", ns)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "nats://" + ln.Addr().String()
	ln.Close()
	down, err := outbox.Open(closed, outbox.SinkOptions{Namespace: ns, Stream: stream})
	if err != nil {
		t.Fatalf("a sink that is down must open (and be retried): %v", err)
	}
	r := outbox.NewRelay(e.db, e.committer, down, outbox.RelayOptions{Now: e.clock.Now, Timeout: 300 * time.Millisecond})
	for i := range 3 {
		e.write(t, change("ticketCreated", "s", "u", i))
		if n, err := r.Pass(context.Background()); err == nil || n != 0 {
			t.Fatalf("pass to a sink that is down: %d, %v", n, err)
		}
	}
	if lag, _ := outbox.PendingLag(e.db.DB); lag.Pending != 3 {
		t.Fatalf("%d pending, want 3", lag.Pending)
	}
	r.Stop()
	up, err := outbox.Open(url, outbox.SinkOptions{Namespace: ns, Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	r = outbox.NewRelay(e.db, e.committer, up, outbox.RelayOptions{Now: e.clock.Now})
	defer r.Stop()
	e.clock.Add(time.Minute) // the stopped relay's lease has expired
	if n := drain(t, r); n != 3 {
		t.Fatalf("published %d after the sink came back, want 3", n)
	}
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 3; seq++ {
		msg, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if n := envelopeOf(t, msg.Data).Payload["ticketCreated"].(map[string]any)["n"].(float64); int(n) != int(seq-1) {
			t.Fatalf("message %d is event %v", seq, n)
		}
	}
}

func envelopeOf(t *testing.T, data []byte) outbox.Envelope {
	t.Helper()
	return envelope(t, outbox.Record{Envelope: data})
}

// BenchmarkNATSPublish publishes batches of 32 envelopes to a real
// JetStream (the relay's batch under load), reporting the client's CPU
// per event: what the sink costs the server beside nats-server's own.
//
//	go test -run '^$' -bench NATSPublish -benchtime 500x ./outbox/
func BenchmarkNATSPublish(b *testing.B) {
	url := testnats.URL(b)
	ns, stream := testnats.Unique("sbbench-"), strings.ToUpper(testnats.Unique("SBBENCH_"))
	testnats.JetStream(b, url, stream)
	sink, err := outbox.Open(url, outbox.SinkOptions{Namespace: ns, Stream: stream})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	envelope := []byte(strings.Repeat("x", 600))
	batch := make([]outbox.Record, 32)
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		for i := range batch {
			n++
			batch[i] = outbox.Record{Seq: int64(n), ID: testnats.Unique("id-"), Namespace: ns, Name: "personalChatSent",
				Envelope: envelope}
		}
		if got, err := sink.Publish(context.Background(), batch); err != nil || got != len(batch) {
			b.Fatalf("published %d of %d: %v", got, len(batch), err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n)/1e3, "cpu-µs/event")
}

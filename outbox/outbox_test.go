package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/outbox"
)

// clock is a movable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	db        *database.DB
	committer *database.Committer
	clock     *clock
	ns        string
}

func newEnv(t *testing.T, dialect, ns string) *env {
	db := testdb.Open(t, dialect)
	clk := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	w := outbox.NewWriter(outbox.WriterOptions{Namespace: ns, Now: clk.Now})
	c := database.NewCommitter(db, nil, database.CommitterOptions{Outbox: w})
	t.Cleanup(c.Close)
	return &env{db: db, committer: c, clock: clk, ns: ns}
}

func forDialects(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

// change is a stream event of a test change in session, by user.
func change(name, session, user string, n int) switchboard.Event {
	return switchboard.StreamEvent(name, session, switchboard.DomainEvent{Tenant: "acme", UserID: user,
		Payload: map[string]any{"n": n}})
}

// write commits one Op making evs (and a socket event, which the outbox
// leaves alone).
func (e *env) write(t *testing.T, evs ...switchboard.Event) {
	t.Helper()
	err := e.committer.Run(context.Background(), func(*gorm.DB) ([]switchboard.Event, error) {
		return append([]switchboard.Event{{Name: "socketOnly", To: []string{"room"}}}, evs...), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rows lists the outbox: seq, name and whether published.
func (e *env) rows(t *testing.T) (names []string, published []bool) {
	t.Helper()
	rows, err := e.db.Raw(`SELECT name, published_at FROM outbox ORDER BY seq`).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var at *int64
		if err := rows.Scan(&name, &at); err != nil {
			t.Fatal(err)
		}
		names, published = append(names, name), append(published, at != nil)
	}
	return names, published
}

// recordSink records what it is given; failAfter >= 0 makes it accept
// that many records of a call and fail the rest.
type recordSink struct {
	mu        sync.Mutex
	got       []outbox.Record
	failAfter int
	calls     int
}

func (s *recordSink) Publish(_ context.Context, rs []outbox.Record) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failAfter >= 0 && s.failAfter < len(rs) {
		s.got = append(s.got, rs[:s.failAfter]...)
		return s.failAfter, errors.New("sink down")
	}
	s.got = append(s.got, rs...)
	return len(rs), nil
}

// set changes how many records of a call the sink accepts (-1: all).
func (s *recordSink) set(failAfter int) {
	s.mu.Lock()
	s.failAfter = failAfter
	s.mu.Unlock()
}

func (s *recordSink) String() string { return "test sink" }
func (s *recordSink) Close() error   { return nil }

func (s *recordSink) records() []outbox.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]outbox.Record(nil), s.got...)
}

func envelope(t *testing.T, r outbox.Record) outbox.Envelope {
	t.Helper()
	var env outbox.Envelope
	if err := json.Unmarshal(r.Envelope, &env); err != nil {
		t.Fatalf("envelope %s: %v", r.Envelope, err)
	}
	return env
}

// The envelope is written in the transaction of its change: a failed Op
// leaves no row, its neighbours in the batch keep theirs.
func TestWrittenInTheTransactionOfTheChange(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, "sb-test")
		var wg sync.WaitGroup
		results := make([]error, 3)
		for i := range 3 {
			wg.Add(1)
			e.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
				if i == 1 {
					return []switchboard.Event{change("failed", "s1", "u", i)}, errors.New("refused")
				}
				return []switchboard.Event{change(fmt.Sprintf("ok%d", i), "s1", "u", i)}, nil
			}, func(err error) { results[i] = err; wg.Done() })
		}
		wg.Wait()
		if results[0] != nil || results[1] == nil || results[2] != nil {
			t.Fatalf("outcomes %v", results)
		}
		names, _ := e.rows(t)
		if fmt.Sprint(names) != "[ok0 ok2]" {
			t.Fatalf("outbox holds %v, want [ok0 ok2]", names)
		}
		// A panicking Op, too, leaves nothing.
		err := e.committer.Run(context.Background(), func(tx *gorm.DB) ([]switchboard.Event, error) {
			panic("bad op")
		})
		if err == nil {
			t.Fatal("a panicking op succeeded")
		}
		if names, _ := e.rows(t); len(names) != 2 {
			t.Fatalf("outbox holds %v after a failed op", names)
		}
	})
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// The envelope has the source's shape, field for field.
func TestEnvelopeShape(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, "chat-service")
		e.write(t, switchboard.StreamEvent("personalChatSent", "session-1", switchboard.DomainEvent{Tenant: "acme",
			UserID: "op-1", Payload: map[string]any{"message_id": "m1"}}), change("second", "session-1", "op-1", 2))
		sink := &recordSink{failAfter: -1}
		r := outbox.NewRelay(e.db, e.committer, sink, outbox.RelayOptions{Now: e.clock.Now})
		if n, err := r.Pass(context.Background()); err != nil || n != 2 {
			t.Fatalf("pass: %d, %v", n, err)
		}
		got := sink.records()
		var raw map[string]any
		if err := json.Unmarshal(got[0].Envelope, &raw); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "version", "name", "namespace", "parentNamespace", "timestamp", "clientId",
			"userId", "traceId", "sessionId", "spanContext", "payload"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("envelope lacks %q: %s", k, got[0].Envelope)
			}
		}
		if len(raw) != 12 {
			t.Errorf("envelope has %d fields, want 12: %s", len(raw), got[0].Envelope)
		}
		env := envelope(t, got[0])
		if env.Name != "personalChatSent" || env.Namespace != "chat-service" || env.Version != 1 ||
			env.ClientID != "acme" || env.UserID != "op-1" || env.SessionID != "session-1" || env.ID != got[0].ID {
			t.Fatalf("envelope %+v", env)
		}
		if p, ok := env.Payload["personalChatSent"].(map[string]any); !ok || p["message_id"] != "m1" {
			t.Fatalf("payload %v", env.Payload)
		}
		if _, err := time.Parse(time.RFC3339, env.Timestamp); err != nil || env.Timestamp != "2026-12-01T09:00:00.000Z" {
			t.Fatalf("timestamp %q: %v", env.Timestamp, err)
		}
		if !uuidV4.MatchString(env.ID) || !uuidV4.MatchString(env.TraceID) {
			t.Fatalf("id %q, traceId %q: not UUIDs", env.ID, env.TraceID)
		}
		// One command's events share a trace; each has its own id.
		second := envelope(t, got[1])
		if second.TraceID == "" || second.TraceID != env.TraceID || second.ID == env.ID {
			t.Fatalf("trace/id: %+v vs %+v", env, second)
		}
		if got[0].Key != "session-1" || got[0].Namespace != "chat-service" {
			t.Fatalf("record %+v", got[0])
		}
	})
}

// The relay publishes in commit order (so each session's events in
// theirs) and marks what it published; nothing is published twice by a
// sink that accepted it.
func TestRelayPublishesInCommitOrder(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, "sb")
		for i := range 10 {
			e.write(t, change("a", "s-a", "u1", i), change("b", "s-b", "u2", i))
		}
		sink := &recordSink{failAfter: -1}
		r := outbox.NewRelay(e.db, e.committer, sink, outbox.RelayOptions{Now: e.clock.Now, Batch: 7})
		total := 0
		for {
			n, err := r.Pass(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			total += n
		}
		got := sink.records()
		if total != 20 || len(got) != 20 {
			t.Fatalf("published %d (%d records), want 20", total, len(got))
		}
		next := map[string]int{}
		for i, rec := range got {
			if i > 0 && rec.Seq <= got[i-1].Seq {
				t.Fatalf("seq %d after %d", rec.Seq, got[i-1].Seq)
			}
			n := int(envelope(t, rec).Payload[rec.Name].(map[string]any)["n"].(float64))
			if n != next[rec.SessionID] {
				t.Fatalf("session %s: event %d, want %d", rec.SessionID, n, next[rec.SessionID])
			}
			next[rec.SessionID]++
		}
		if _, published := e.rows(t); len(published) != 20 || !allTrue(published) {
			t.Fatalf("published marks %v", published)
		}
		if lag, err := outbox.PendingLag(e.db.DB); err != nil || lag.Pending != 0 {
			t.Fatalf("lag %+v, %v", lag, err)
		}
	})
}

func allTrue(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return false
		}
	}
	return true
}

// A sink that fails part way keeps the rest pending; a new relay (a
// restart) publishes from there, and nothing is lost.
func TestRelayResumesWhereItStopped(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, "sb")
		for i := range 5 {
			e.write(t, change("a", "s-a", "u1", i))
		}
		down := &recordSink{failAfter: 2}
		first := outbox.NewRelay(e.db, e.committer, down, outbox.RelayOptions{Now: e.clock.Now})
		if n, err := first.Pass(context.Background()); err == nil || n != 2 {
			t.Fatalf("pass with a failing sink: %d, %v", n, err)
		}
		if st := first.Status(); st.Err == nil || !st.Leader {
			t.Fatalf("status %+v", st)
		}
		lag, err := outbox.PendingLag(e.db.DB)
		if err != nil || lag.Pending != 3 || !lag.Oldest.Equal(e.clock.Now()) {
			t.Fatalf("lag %+v, %v; want 3 pending since %v", lag, err, e.clock.Now())
		}
		first.Stop()
		// The restarted node has a new identity: it waits for the old
		// lease to expire.
		up := &recordSink{failAfter: -1}
		second := outbox.NewRelay(e.db, e.committer, up, outbox.RelayOptions{Now: e.clock.Now})
		if n, err := second.Pass(context.Background()); err != nil || n != 0 || second.Status().Leader {
			t.Fatalf("pass under another's lease: %d, %v, %+v", n, err, second.Status())
		}
		e.clock.Add(31 * time.Second)
		if n, err := second.Pass(context.Background()); err != nil || n != 3 {
			t.Fatalf("pass after the lease expired: %d, %v", n, err)
		}
		all := append(down.records(), up.records()...)
		for i, rec := range all {
			if n := envelope(t, rec).Payload["a"].(map[string]any)["n"].(float64); int(n) != i {
				t.Fatalf("event %d is n=%v", i, n)
			}
		}
	})
}

// Of two relays only the lease holder publishes.
func TestOneRelayPublishes(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, "sb")
		e.write(t, change("a", "s", "u", 0))
		s1, s2 := &recordSink{failAfter: -1}, &recordSink{failAfter: -1}
		r1 := outbox.NewRelay(e.db, e.committer, s1, outbox.RelayOptions{Now: e.clock.Now})
		r2 := outbox.NewRelay(e.db, e.committer, s2, outbox.RelayOptions{Now: e.clock.Now})
		if n, _ := r1.Pass(context.Background()); n != 1 {
			t.Fatalf("leader published %d", n)
		}
		e.write(t, change("a", "s", "u", 1))
		if n, _ := r2.Pass(context.Background()); n != 0 || len(s2.records()) != 0 {
			t.Fatal("the second relay published under the first one's lease")
		}
		e.clock.Add(10 * time.Second)
		if n, _ := r1.Pass(context.Background()); n != 1 { // renews
			t.Fatalf("leader published %d", n)
		}
		e.clock.Add(25 * time.Second) // within the renewed lease
		if _, _ = r2.Pass(context.Background()); r2.Status().Leader {
			t.Fatal("the lease was taken while renewed")
		}
	})
}

// Prune deletes published rows older than the retention, never pending
// ones.
func TestPrune(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, "sb")
		e.write(t, change("old", "s", "u", 0))
		r := outbox.NewRelay(e.db, e.committer, &recordSink{failAfter: -1}, outbox.RelayOptions{Now: e.clock.Now})
		if n, err := r.Pass(context.Background()); err != nil || n != 1 {
			t.Fatalf("pass: %d, %v", n, err)
		}
		e.clock.Add(2 * time.Hour)
		e.write(t, change("pending", "s", "u", 1))
		var pruned int64
		err := e.committer.Run(context.Background(), func(tx *gorm.DB) ([]switchboard.Event, error) {
			var err error
			pruned, err = outbox.Prune(tx, e.clock.Now().Add(-time.Hour))
			return nil, err
		})
		if err != nil || pruned != 1 {
			t.Fatalf("pruned %d, %v", pruned, err)
		}
		if names, _ := e.rows(t); fmt.Sprint(names) != "[pending]" {
			t.Fatalf("outbox holds %v", names)
		}
	})
}

// The relay's loop publishes as soon as a commit wakes it.
func TestRelayLoopPublishesCommittedEvents(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	sink := &recordSink{failAfter: -1}
	var relay *outbox.Relay
	c := database.NewCommitter(db, switchboard.PublisherFunc(func(evs []switchboard.Event) { relay.Publish(evs) }),
		database.CommitterOptions{Outbox: outbox.NewWriter(outbox.WriterOptions{})})
	defer c.Close()
	relay = outbox.NewRelay(db, c, sink, outbox.RelayOptions{Poll: time.Hour})
	relay.Start()
	defer relay.Stop()
	time.Sleep(50 * time.Millisecond) // the first pass finds nothing; then only a wake-up helps
	e := &env{db: db, committer: c}
	e.write(t, change("a", "s", "u", 0))
	deadline := time.Now().Add(5 * time.Second)
	for len(sink.records()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the relay did not publish a committed event")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A woken relay lingers before its pass: commits that follow one another
// closely are published in one call (and marked in one commit), not one
// call each.
func TestWokenRelayBatchesCommits(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	sink := &recordSink{failAfter: -1}
	var relay *outbox.Relay
	c := database.NewCommitter(db, switchboard.PublisherFunc(func(evs []switchboard.Event) { relay.Publish(evs) }),
		database.CommitterOptions{Outbox: outbox.NewWriter(outbox.WriterOptions{})})
	defer c.Close()
	relay = outbox.NewRelay(db, c, sink, outbox.RelayOptions{Poll: time.Hour, Linger: time.Second})
	relay.Start()
	defer relay.Stop()
	time.Sleep(50 * time.Millisecond) // the first pass finds nothing
	e := &env{db: db, committer: c}
	for i := range 10 {
		e.write(t, change("a", "s", "u", i))
		time.Sleep(20 * time.Millisecond)
	}
	for deadline := time.Now().Add(10 * time.Second); relay.Status().Published < 10; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 10 events published", relay.Status().Published)
		}
	}
	sink.mu.Lock()
	calls := sink.calls
	sink.mu.Unlock()
	if calls > 2 {
		t.Fatalf("10 commits 20 ms apart took %d publications, want them batched (at most 2)", calls)
	}
}

// A namespace must be a NATS subject prefix and a Kafka topic.
func TestValidNamespace(t *testing.T) {
	for _, ok := range []string{"switchboard", "chat-service", "a.b_c"} {
		if err := outbox.ValidNamespace(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a*", "a>", ".a", "ü"} {
		if outbox.ValidNamespace(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := outbox.Open("redis://x", outbox.SinkOptions{}); err == nil {
		t.Error("an unknown sink opened")
	}
}

// An idle leader does not write on every pass: it renews its lease once
// a third of it has gone by.
func TestIdleRelayWritesRarely(t *testing.T) {
	e := newEnv(t, "sqlite", "sb")
	r := outbox.NewRelay(e.db, e.committer, &recordSink{failAfter: -1}, outbox.RelayOptions{Now: e.clock.Now})
	ops := func() int64 { return e.committer.Stats().Ops }
	if _, err := r.Pass(context.Background()); err != nil || !r.Status().Leader {
		t.Fatalf("first pass: %v, %+v", err, r.Status())
	}
	before := ops()
	for range 9 {
		e.clock.Add(time.Second)
		if _, err := r.Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if ops() != before {
		t.Fatalf("%d writes in 9 idle passes within the lease's first third", ops()-before)
	}
	e.clock.Add(time.Second)
	if _, err := r.Pass(context.Background()); err != nil || ops() != before+1 {
		t.Fatalf("the lease was not renewed after 10 s: %v, %d writes", err, ops()-before)
	}
}

// A running relay whose sink is down keeps retrying, with pauses, while
// changes keep committing; once the sink is back every event arrives,
// once each, in order.
func TestRelayLoopRetriesUntilTheSinkIsBack(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	sink := &recordSink{failAfter: 0}
	var relay *outbox.Relay
	c := database.NewCommitter(db, switchboard.PublisherFunc(func(evs []switchboard.Event) { relay.Publish(evs) }),
		database.CommitterOptions{Outbox: outbox.NewWriter(outbox.WriterOptions{})})
	defer c.Close()
	relay = outbox.NewRelay(db, c, sink, outbox.RelayOptions{Poll: time.Hour, MaxBackoff: 200 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	relay.Start()
	defer relay.Stop()
	e := &env{db: db, committer: c}
	for i := range 20 {
		start := time.Now()
		e.write(t, change("a", "s", "u", i))
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("a write took %v while the sink was down", d)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if relay.Status().Err == nil || len(sink.records()) != 0 {
		t.Fatalf("status %+v, %d records, with the sink down", relay.Status(), len(sink.records()))
	}
	sink.set(-1)
	deadline := time.Now().Add(10 * time.Second)
	for relay.Status().Published < 20 { // the sink has them before the relay has marked them
		if time.Now().After(deadline) {
			t.Fatalf("%d of 20 events after the sink came back", len(sink.records()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, rec := range sink.records() {
		if n := envelope(t, rec).Payload["a"].(map[string]any)["n"].(float64); int(n) != i {
			t.Fatalf("event %d is n=%v", i, n)
		}
	}
	if st := relay.Status(); st.Err != nil || st.Published != 20 {
		t.Fatalf("status %+v", st)
	}
}

// TestRelayLeaseTakenOverWhenItsNodeDies: the relay holding the lease
// stops renewing it (its node died, releasing nothing); once the lease
// has expired the other node's relay takes it and publishes what waits,
// and the first, were it to come back, no longer publishes.
func TestRelayLeaseTakenOverWhenItsNodeDies(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, "sb")
		e.write(t, change("a", "s", "u", 0))
		s1, s2 := &recordSink{failAfter: -1}, &recordSink{failAfter: -1}
		r1 := outbox.NewRelay(e.db, e.committer, s1, outbox.RelayOptions{Now: e.clock.Now})
		r2 := outbox.NewRelay(e.db, e.committer, s2, outbox.RelayOptions{Now: e.clock.Now})
		if n, _ := r1.Pass(context.Background()); n != 1 {
			t.Fatalf("leader published %d", n)
		}
		// r1's node dies: no more passes, no release.
		e.write(t, change("a", "s", "u", 1))
		e.clock.Add(29 * time.Second)
		if n, _ := r2.Pass(context.Background()); n != 0 || r2.Status().Leader {
			t.Fatal("the lease was taken before it expired")
		}
		e.clock.Add(2 * time.Second)
		if n, _ := r2.Pass(context.Background()); n != 1 || !r2.Status().Leader || len(s2.records()) != 1 {
			t.Fatalf("after the lease expired the second relay published %d (leader %v)", n, r2.Status().Leader)
		}
		e.write(t, change("a", "s", "u", 2))
		if n, _ := r1.Pass(context.Background()); n != 0 || r1.Status().Leader || len(s1.records()) != 1 {
			t.Fatal("the first relay published again under the second one's lease")
		}
	})
}

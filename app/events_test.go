package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/internal/testnats"
	"github.com/switchboard-chat/switchboard/outbox"
)

// A server with SWITCHBOARD_EVENTS_SINK publishes what the sockets do to
// JetStream, each event on <namespace>.<eventName>, and /readyz reports
// the sink and the outbox.
func TestEventsToNATS(t *testing.T) {
	url := testnats.URL(t)
	ns, stream := testnats.Unique("sbapp-"), strings.ToUpper(testnats.Unique("SBAPP_"))
	js := testnats.JetStream(t, url, stream)

	cfg := testConfig(t, t.TempDir(), testEnv(map[string]string{"SWITCHBOARD_EVENTS_SINK": url,
		"SWITCHBOARD_EVENTS_NAMESPACE": ns, "SWITCHBOARD_EVENTS_STREAM": stream}))
	cfg.Limits.MaxConnsPerIP, cfg.Limits.MaxConnsPerPrincipal = -1, -1
	n := runNode(t, cfg)
	op, _ := dial(t, n, n.token(t, "operator-1"))
	user, _ := dial(t, n, n.token(t, "user-1"))
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1"})
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketNm": "Printer"})
	mustAck(t, op, "acceptTicket", "t-1", map[string]any{}, "user-1")
	mustAck(t, user, "updateMessage", "t-1", "m-1", map[string]any{"content": "hello", "type": 1}, "operator-1")

	want := []string{"ticketCreated", "ticketAccepted", "personalChatSent"}
	var got []outbox.Envelope
	deadline := time.Now().Add(15 * time.Second)
	for {
		got = streamOf(t, js, stream)
		if len(sessionEvents(got, "t-1")) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ticket := sessionEvents(got, "t-1")
	if len(ticket) != len(want) {
		t.Fatalf("ticket events %v, want %v", eventNames(ticket), want)
	}
	for i, env := range ticket {
		if env.Name != want[i] || env.Namespace != ns || env.ClientID == "" {
			t.Fatalf("event %d: %+v, want %s", i, env, want[i])
		}
	}
	connected := 0
	for _, env := range got {
		if env.Name == "userConnected" {
			connected++
		}
	}
	if connected < 2 {
		t.Fatalf("%d userConnected events for two users: %v", connected, eventNames(got))
	}

	// The stream may have the last events before the relay has marked
	// them published: ask until it has.
	var res *http.Response
	var body []byte
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err = http.Get(n.base + "/readyz"); err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(body), "outbox: 0 pending") || time.Now().After(deadline) {
			break
		}
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "events sink "+url+" (stream "+stream+"): ok") ||
		!strings.Contains(string(body), "outbox: 0 pending") {
		t.Fatalf("/readyz %d:\n%s", res.StatusCode, body)
	}
}

// streamOf reads every envelope in the stream, in its order.
func streamOf(t *testing.T, js jetstream.JetStream, stream string) []outbox.Envelope {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil // not created yet
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []outbox.Envelope
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var env outbox.Envelope
		if err := json.Unmarshal(msg.Data, &env); err != nil {
			t.Fatal(err)
		}
		if msg.Subject != env.Namespace+"."+env.Name || msg.Header.Get("Nats-Msg-Id") != env.ID {
			t.Fatalf("subject %s, Nats-Msg-Id %q for %+v", msg.Subject, msg.Header.Get("Nats-Msg-Id"), env)
		}
		out = append(out, env)
	}
	return out
}

func sessionEvents(envs []outbox.Envelope, session string) []outbox.Envelope {
	var out []outbox.Envelope
	for _, e := range envs {
		if e.SessionID == session {
			out = append(out, e)
		}
	}
	return out
}

func eventNames(envs []outbox.Envelope) []string {
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = e.Name
	}
	return out
}

// The stream's settings are checked at start.
func TestEventsSettings(t *testing.T) {
	cfg, err := Load("switchboard", nil, testEnv(nil), io.Discard)
	if err != nil || cfg.Events.On() || cfg.Events.Namespace != "switchboard" || cfg.Events.Stream != "SWITCHBOARD" {
		t.Fatalf("defaults %+v, %v", cfg.Events, err)
	}
	for _, env := range []map[string]string{
		{"SWITCHBOARD_EVENTS_SINK": "redis://localhost"},
		{"SWITCHBOARD_EVENTS_NAMESPACE": "two words"},
		{"SWITCHBOARD_EVENTS_SINK": "nats://localhost:4222", "SWITCHBOARD_EVENTS_RETENTION": "0s"},
		{"SWITCHBOARD_EVENTS_SINK": "kafka://localhost:9092", "SWITCHBOARD_EVENTS_PRUNE_SCHEDULE": "hourly"},
	} {
		if _, err := Load("switchboard", nil, testEnv(env), io.Discard); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}

// The prune job deletes the published events older than the retention,
// and runs only with a sink.
func TestOutboxPruneJob(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			c := database.NewCommitter(db, nil, database.CommitterOptions{
				Outbox: outbox.NewWriter(outbox.WriterOptions{Now: func() time.Time { return now }})})
			t.Cleanup(c.Close)
			for _, name := range []string{"old", "recent", "pending"} {
				ev := switchboard.StreamEvent(name, "s", switchboard.DomainEvent{Tenant: "acme", UserID: "u", Payload: struct{}{}})
				if err := c.Run(context.Background(), func(*gorm.DB) ([]switchboard.Event, error) {
					return []switchboard.Event{ev}, nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			for name, at := range map[string]time.Time{"old": now.Add(-25 * time.Hour), "recent": now.Add(-time.Hour)} {
				if err := db.Exec(`UPDATE outbox SET published_at = ? WHERE name = ?`, at.UnixMilli(), name).Error; err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_EVENTS_SINK": testnats.DefaultURL}), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			var job func(context.Context, time.Time) error
			for _, j := range scheduledJobs(cfg, c, nil, log) {
				if j.Name == OutboxPruneJob {
					job = j.Run
				}
			}
			if job == nil {
				t.Fatal("no prune job with a sink")
			}
			if err := job(context.Background(), now); err != nil {
				t.Fatal(err)
			}
			var left []string
			if err := db.Raw(`SELECT name FROM outbox ORDER BY seq`).Scan(&left).Error; err != nil {
				t.Fatal(err)
			}
			if strings.Join(left, ",") != "recent,pending" {
				t.Fatalf("outbox holds %v after pruning, want recent,pending", left)
			}
			cfg.Events.Sink = ""
			for _, j := range scheduledJobs(cfg, c, nil, log) {
				if j.Name == OutboxPruneJob {
					t.Fatal("a prune job without a sink")
				}
			}
		})
	}
}

// The limiter's stream events, made outside any write, reach the outbox
// in a write of their own; the socket events beside them go on to the
// sockets.
func TestLimiterEventsReachTheOutbox(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	c := database.NewCommitter(db, nil, database.CommitterOptions{Outbox: outbox.NewWriter(outbox.WriterOptions{})})
	t.Cleanup(c.Close)
	var sockets []switchboard.Event
	p := streamPublisher(c, switchboard.PublisherFunc(func(evs []switchboard.Event) { sockets = append(sockets, evs...) }))
	p.Publish([]switchboard.Event{switchboard.UserNoticeEvent("userChatRateLimited", switchboard.UserNotice{
		Tenant: "acme", UserID: "ann", Reason: "too fast", Code: switchboard.ERATELIMITED})})
	p.Publish([]switchboard.Event{{Name: "notice", To: []string{"room"}}})
	if len(sockets) != 1 || sockets[0].Name != "notice" {
		t.Fatalf("sockets got %+v", sockets)
	}
	// The outbox write is asynchronous: wait for it behind a write of our own.
	if err := c.Run(context.Background(), func(*gorm.DB) ([]switchboard.Event, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	var raw []string
	if err := db.Raw(`SELECT envelope FROM outbox`).Scan(&raw).Error; err != nil || len(raw) != 1 {
		t.Fatalf("outbox %v, %v", raw, err)
	}
	var env outbox.Envelope
	if err := json.Unmarshal([]byte(raw[0]), &env); err != nil {
		t.Fatal(err)
	}
	body, _ := env.Payload["userChatRateLimited"].(map[string]any)
	if env.Name != "userChatRateLimited" || env.ClientID != "acme" || env.UserID != "ann" || body["reason"] != "too fast" {
		t.Fatalf("envelope %+v", env)
	}
	// Without a stream the publisher is the sockets' own.
	off := database.NewCommitter(db, nil, database.CommitterOptions{})
	t.Cleanup(off.Close)
	next := switchboard.PublisherFunc(func([]switchboard.Event) {})
	if got := streamPublisher(off, next); got == nil {
		t.Fatal("no publisher without a stream")
	}
}

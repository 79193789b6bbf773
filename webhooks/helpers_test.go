package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/webhooks"
)

const secret = "a-secret-of-32-bytes-for-testing"

var acme42 = webhooks.Program{Tenant: "acme", ID: "program-42"}

func forDialects(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

// env is a database whose committer queues notifications, and the store.
type env struct {
	db        *database.DB
	committer *database.Committer
	store     *webhooks.Store
	n         int
}

func newEnv(t *testing.T, dialect string) *env {
	db := testdb.Open(t, dialect)
	w := webhooks.NewWriter(nil)
	w.SetRegistered(true)
	c := database.NewCommitter(db, nil, database.CommitterOptions{Outbox: w})
	t.Cleanup(c.Close)
	return &env{db: db, committer: c, store: webhooks.NewStore(db, c, nil)}
}

// fastOptions are a dispatcher's options scaled down for tests.
func fastOptions() webhooks.Options {
	return webhooks.Options{Linger: 5 * time.Millisecond, Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Probe: 50 * time.Millisecond, Poll: 10 * time.Millisecond, Lease: 200 * time.Millisecond, Timeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func (e *env) dispatcher(t *testing.T, opts webhooks.Options) *webhooks.Dispatcher {
	d := webhooks.NewDispatcher(e.db, e.committer, opts)
	d.Start()
	t.Cleanup(d.Stop)
	return d
}

func (e *env) register(t *testing.T, p webhooks.Program, url string, events ...string) {
	t.Helper()
	if _, err := e.store.Register(context.Background(), p, url, secret, events); err != nil {
		t.Fatal(err)
	}
}

// messages commits count changes of program p's ticket in one
// transaction: a message sent each, numbered n from 1 on.
func (e *env) messages(t *testing.T, p webhooks.Program, count int) {
	t.Helper()
	var evs []switchboard.Event
	for i := 0; i < count; i++ {
		e.n++
		evs = append(evs, switchboard.StreamEvent("personalChatSent", "t-1", switchboard.DomainEvent{
			Tenant: p.Tenant, UserID: p.ID + "/7",
			Payload: map[string]any{"message_id": e.n, "target_id": "t-1", "programId": p.ID}}))
	}
	err := e.committer.Run(context.Background(), func(*gorm.DB) ([]switchboard.Event, error) { return evs, nil })
	if err != nil {
		t.Fatal(err)
	}
}

// delivery is one request a receiver got; status is 0 until answered.
type delivery struct {
	status        int
	validSig      bool
	notifications []webhooks.Notification
}

// receiver is an httptest endpoint that answers status(i) to the i-th
// request (from 0) and keeps what it got.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []delivery
	status func(i int) int
	delay  func(i int) time.Duration
}

func newReceiver(t *testing.T, status func(i int) int) *receiver {
	r := &receiver{status: status, delay: func(int) time.Duration { return 0 }}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	ts := req.Header.Get(webhooks.TimestampHeader)
	var b struct {
		Notifications []webhooks.Notification `json:"notifications"`
	}
	_ = json.Unmarshal(body, &b)
	r.mu.Lock()
	i := len(r.got)
	status := r.status(i)
	r.got = append(r.got, delivery{notifications: b.Notifications,
		validSig: ts != "" && req.Header.Get(webhooks.SignatureHeader) == webhooks.Sign(secret, ts, body)})
	delay := r.delay(i)
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			r.mu.Lock()
			r.got[i].status = 499 // the sender gave up: nothing was taken
			r.mu.Unlock()
			return
		}
	}
	r.mu.Lock()
	r.got[i].status = status
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// accepted is the ids of the notifications the receiver took (2xx), in
// the order received, and how many it got in all (with retries).
func (r *receiver) accepted() (ids []string, all int) {
	for _, d := range r.deliveries() {
		all += len(d.notifications)
		if d.status >= 200 && d.status < 300 {
			for _, n := range d.notifications {
				ids = append(ids, n.ID)
			}
		}
	}
	return ids, all
}

// eventually waits for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func always(status int) func(int) int { return func(int) int { return status } }

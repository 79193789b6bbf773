package webhooks_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/webhooks"
)

// messageNumbers reads the message numbers of notifications (the
// object's message_id of env.messages).
func messageNumbers(t *testing.T, ns []webhooks.Notification) []int {
	var out []int
	for _, n := range ns {
		var obj struct {
			MessageID int `json:"message_id"`
		}
		if err := json.Unmarshal(n.Object, &obj); err != nil {
			t.Fatal(err)
		}
		out = append(out, obj.MessageID)
	}
	return out
}

// checkExactlyOnce checks that the receiver took messages 1..total, each
// once, oldest first, in signed batches of at most 100.
func checkExactlyOnce(t *testing.T, r *receiver, total int) {
	t.Helper()
	var took []webhooks.Notification
	seen := map[string]bool{}
	for i, d := range r.deliveries() {
		if !d.validSig {
			t.Errorf("delivery %d: bad signature", i)
		}
		if len(d.notifications) == 0 || len(d.notifications) > 100 {
			t.Errorf("delivery %d: %d notifications, want 1 to 100", i, len(d.notifications))
		}
		if d.status < 200 || d.status >= 300 {
			continue
		}
		for _, n := range d.notifications {
			if seen[n.ID] {
				t.Errorf("notification %s taken twice", n.ID)
			}
			seen[n.ID] = true
			if n.Event != "new" || n.ObjectType != "message" {
				t.Errorf("notification %+v, want a new message", n)
			}
			took = append(took, n)
		}
	}
	nums := messageNumbers(t, took)
	for i, n := range nums {
		if n != i+1 {
			t.Fatalf("received messages %v, want 1..%d in order", nums, total)
		}
	}
	if len(nums) != total {
		t.Fatalf("received %d messages, want %d", len(nums), total)
	}
}

// TestFailingReceiverGetsEveryNotificationOnce: an endpoint that fails
// its first 3 deliveries gets every notification once by id, the retries
// carrying the same ids, in signed batches of at most 100, oldest first.
func TestFailingReceiverGetsEveryNotificationOnce(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		r := newReceiver(t, func(i int) int {
			if i < 3 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		e.register(t, acme42, r.srv.URL+"/hook")
		for i := 0; i < 5; i++ {
			e.messages(t, acme42, 50)
		}
		e.dispatcher(t, fastOptions())
		e.messages(t, acme42, 30)
		eventually(t, "280 notifications taken", func() bool { ids, _ := r.accepted(); return len(ids) >= 280 })
		checkExactlyOnce(t, r, 280)

		got := r.deliveries()
		first := ids(got[0].notifications)
		if len(first) != 100 {
			t.Errorf("first delivery carried %d notifications, want a full batch of 100", len(first))
		}
		for i := 1; i <= 3; i++ {
			if !slices.Equal(ids(got[i].notifications), first) {
				t.Fatalf("attempt %d carried other ids than the first", i+1)
			}
		}
		var log []webhooks.Delivery
		eventually(t, "the log", func() bool {
			log, _ = e.store.Deliveries(context.Background(), acme42)
			return len(log) == len(got)
		})
		if len(log) != len(got) || log[len(log)-1].Status != 500 || log[0].Status != 200 || log[len(log)-1].Count != 100 {
			t.Fatalf("delivery log %+v (receiver got %d)", log, len(got))
		}
		if n, _ := e.store.Pending(context.Background(), acme42); n != 0 {
			t.Fatalf("%d notifications still queued", n)
		}
	})
}

func ids(ns []webhooks.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// TestTimeoutIsAFailure: a delivery unanswered within the timeout fails
// and is retried with the same notifications.
func TestTimeoutIsAFailure(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		r := newReceiver(t, always(http.StatusOK))
		r.delay = func(i int) time.Duration {
			if i == 0 {
				return 2 * time.Second
			}
			return 0
		}
		e.register(t, acme42, r.srv.URL)
		e.messages(t, acme42, 5)
		opts := fastOptions()
		opts.Timeout = 100 * time.Millisecond
		e.dispatcher(t, opts)
		eventually(t, "5 notifications taken", func() bool { ids, _ := r.accepted(); return len(ids) == 5 })
		checkExactlyOnce(t, r, 5)
		got := r.deliveries()
		if !slices.Equal(ids(got[0].notifications), ids(got[1].notifications)) {
			t.Fatal("the retry after the timeout carried other ids")
		}
		log, _ := e.store.Deliveries(context.Background(), acme42)
		if last := log[len(log)-1]; last.Status != 0 || last.Error == "" {
			t.Fatalf("timed-out delivery logged as %+v", last)
		}
	})
}

// TestParkedEndpointResumesAfterProbe: after MaxFailures failures the
// endpoint is parked and tried only by the probe; once it answers, the
// queue (with what came while it was parked) goes on where it stopped.
func TestParkedEndpointResumesAfterProbe(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		var healthy atomic.Bool
		r := newReceiver(t, func(int) int {
			if healthy.Load() {
				return http.StatusOK
			}
			return http.StatusServiceUnavailable
		})
		e.register(t, acme42, r.srv.URL)
		e.messages(t, acme42, 10)
		opts := fastOptions()
		opts.MaxFailures, opts.Probe = 3, 400*time.Millisecond
		e.dispatcher(t, opts)
		eventually(t, "the endpoint parked", func() bool {
			h, err := e.store.Get(context.Background(), acme42)
			return err == nil && !h.Parked.IsZero()
		})
		if n := len(r.deliveries()); n != 3 {
			t.Fatalf("%d attempts before parking, want 3", n)
		}
		e.messages(t, acme42, 5)
		time.Sleep(100 * time.Millisecond)
		if n := len(r.deliveries()); n != 3 {
			t.Fatalf("a parked endpoint got %d attempts before the probe", n)
		}
		healthy.Store(true)
		eventually(t, "15 notifications taken", func() bool { ids, _ := r.accepted(); return len(ids) == 15 })
		checkExactlyOnce(t, r, 15)
		eventually(t, "the endpoint unparked", func() bool {
			h, _ := e.store.Get(context.Background(), acme42)
			return h.Parked.IsZero() && h.Failures == 0
		})
		log, _ := e.store.Deliveries(context.Background(), acme42)
		if log[len(log)-3].Status != 503 || log[len(log)-4].Status != 200 {
			t.Fatalf("the probe was not the delivery after the 3 failures: %+v", log)
		}
	})
}

// TestRegisteringAgainUnparks: a parked endpoint registered again is
// delivered to at once, from where it stopped.
func TestRegisteringAgainUnparks(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		var healthy atomic.Bool
		r := newReceiver(t, func(int) int {
			if healthy.Load() {
				return http.StatusOK
			}
			return http.StatusBadGateway
		})
		e.register(t, acme42, r.srv.URL)
		e.messages(t, acme42, 3)
		opts := fastOptions()
		opts.MaxFailures, opts.Probe = 2, time.Hour
		d := e.dispatcher(t, opts)
		e.store.OnRegistered(d.Wake)
		eventually(t, "the endpoint parked", func() bool {
			h, err := e.store.Get(context.Background(), acme42)
			return err == nil && !h.Parked.IsZero()
		})
		healthy.Store(true)
		e.register(t, acme42, r.srv.URL)
		eventually(t, "3 notifications taken", func() bool { ids, _ := r.accepted(); return len(ids) == 3 })
		checkExactlyOnce(t, r, 3)
	})
}

// TestRestartResumes: a new dispatcher (another node, or this one
// restarted) delivers what its predecessor left, and nothing twice.
func TestRestartResumes(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		r := newReceiver(t, always(http.StatusNoContent))
		e.register(t, acme42, r.srv.URL)
		e.messages(t, acme42, 20)
		first := e.dispatcher(t, fastOptions())
		eventually(t, "20 notifications taken", func() bool { ids, _ := r.accepted(); return len(ids) == 20 })
		// and recorded as delivered: a delivery cut short by Stop after the
		// receiver took it is sent again (at least once), which is not what
		// this test is about.
		eventually(t, "the 20 recorded", func() bool { n, _ := e.store.Pending(context.Background(), acme42); return n == 0 })
		first.Stop()
		e.messages(t, acme42, 30)
		time.Sleep(50 * time.Millisecond)
		if ids, _ := r.accepted(); len(ids) != 20 {
			t.Fatalf("a stopped dispatcher delivered: %d", len(ids))
		}
		e.dispatcher(t, fastOptions()) // takes over once the lease expires
		eventually(t, "50 notifications taken", func() bool { ids, _ := r.accepted(); return len(ids) >= 50 })
		checkExactlyOnce(t, r, 50)
	})
}

// TestRedirectsAreNotFollowed: a 3xx is a failed delivery; its target
// never gets the notifications.
func TestRedirectsAreNotFollowed(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		var hits atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
		defer target.Close()
		redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			http.Redirect(w, req, target.URL, http.StatusTemporaryRedirect)
		}))
		defer redirect.Close()
		e.register(t, acme42, redirect.URL)
		e.messages(t, acme42, 1)
		e.dispatcher(t, fastOptions())
		eventually(t, "a delivery", func() bool {
			log, _ := e.store.Deliveries(context.Background(), acme42)
			return len(log) > 0
		})
		log, _ := e.store.Deliveries(context.Background(), acme42)
		if log[0].Status != http.StatusTemporaryRedirect || hits.Load() != 0 {
			t.Fatalf("redirect: logged %+v, target hit %d times", log[0], hits.Load())
		}
		if n, _ := e.store.Pending(context.Background(), acme42); n != 1 {
			t.Fatalf("%d queued after a redirect, want 1", n)
		}
	})
}

// TestWhatIsQueued: only a program with a webhook gets notifications,
// only in its tenant, only the events it asked for; the mapping of the
// stream events.
func TestWhatIsQueued(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		globex42 := webhooks.Program{Tenant: "globex", ID: "program-42"}
		e.messages(t, acme42, 2) // no webhook yet
		e.register(t, acme42, "https://example.com/hook", "changed", "is_online")
		e.messages(t, acme42, 2)   // "new": not asked for
		e.messages(t, globex42, 2) // another tenant's program-42
		stream := func(name string, d switchboard.DomainEvent) {
			err := e.committer.Run(ctx, func(*gorm.DB) ([]switchboard.Event, error) {
				return []switchboard.Event{switchboard.StreamEvent(name, "t-1", d)}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		stream("ticketStatusUpdated", switchboard.DomainEvent{Tenant: "acme", UserID: "operator-1",
			Payload: map[string]any{"ticketId": "t-1", "statusId": 300, "programId": "program-42"}})
		stream("userConnected", switchboard.DomainEvent{Tenant: "acme", UserID: "program-42/7", Payload: struct{}{}})
		stream("userConnected", switchboard.DomainEvent{Tenant: "acme", UserID: "user-1", Payload: struct{}{}})
		stream("ticketCreated", switchboard.DomainEvent{Tenant: "acme", UserID: "user-1",
			Payload: map[string]any{"ticketId": "t-2"}}) // no program
		r := newReceiver(t, always(http.StatusOK))
		e.register(t, acme42, r.srv.URL, "changed", "is_online")
		e.dispatcher(t, fastOptions())
		eventually(t, "2 notifications taken", func() bool { ids, _ := r.accepted(); return len(ids) == 2 })
		time.Sleep(50 * time.Millisecond)
		got := r.deliveries()
		var all []webhooks.Notification
		for _, d := range got {
			all = append(all, d.notifications...)
		}
		if len(all) != 2 || all[0].Event != "changed" || all[0].ObjectType != "ticket" ||
			all[1].Event != "is_online" || all[1].ObjectType != "user" || string(all[1].Object) != `{"id":"program-42/7"}` {
			t.Fatalf("delivered %+v", all)
		}
		if n, _ := e.store.Pending(ctx, globex42); n != 0 {
			t.Fatalf("globex's program-42 has no webhook but %d notifications", n)
		}
	})
}

// TestOneDispatcherDelivers: of two dispatchers on one database (two
// nodes), only the lease holder delivers, so nothing is sent twice.
func TestOneDispatcherDelivers(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		r := newReceiver(t, always(http.StatusOK))
		r.delay = func(int) time.Duration { return 5 * time.Millisecond }
		e.register(t, acme42, r.srv.URL)
		opts := fastOptions()
		opts.Batch = 10
		e.dispatcher(t, opts)
		e.dispatcher(t, opts)
		for i := 0; i < 10; i++ {
			e.messages(t, acme42, 15)
			time.Sleep(10 * time.Millisecond)
		}
		eventually(t, "150 notifications taken", func() bool { ids, _ := r.accepted(); return len(ids) >= 150 })
		time.Sleep(100 * time.Millisecond)
		checkExactlyOnce(t, r, 150)
	})
}

// TestDispatcherLeaseTakenOverWhenItsNodeDies: the dispatcher holding the
// lease stops (its node died) without releasing it; the other node's
// dispatcher takes the lease once it expires and delivers everything
// queued, before and after.
func TestDispatcherLeaseTakenOverWhenItsNodeDies(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		r := newReceiver(t, always(http.StatusOK))
		e.register(t, acme42, r.srv.URL)
		first := e.dispatcher(t, fastOptions())
		e.messages(t, acme42, 10)
		eventually(t, "the first node's deliveries", func() bool { ids, _ := r.accepted(); return len(ids) >= 10 })
		first.Stop() // no release: the lease expires on its own
		e.messages(t, acme42, 10)
		e.dispatcher(t, fastOptions())
		e.messages(t, acme42, 10)
		eventually(t, "30 notifications taken", func() bool {
			ids, _ := r.accepted()
			seen := map[string]bool{}
			for _, id := range ids {
				seen[id] = true
			}
			return len(seen) >= 30
		})
	})
}

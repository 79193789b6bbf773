package alerts_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/alerts"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

type recorder struct {
	mu  sync.Mutex
	evs []switchboard.Event
}

func (r *recorder) Publish(evs []switchboard.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, evs...)
	r.mu.Unlock()
}

func wait(t *testing.T, run func(done func(error))) {
	t.Helper()
	ch := make(chan error, 1)
	run(func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
}

func operator(tenant, id string) switchboard.Principal {
	return switchboard.Principal{ID: id, Role: switchboard.RoleOperator, Tenant: tenant}
}

// Create, in the caller's Op, stores the alert and returns its push to
// the recipient's sockets, published after the commit; a failed Op
// stores and publishes nothing. The recipient lists, reads and reads
// all; nobody else sees them.
func TestAlerts(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			pub := &recorder{}
			c := database.NewCommitter(db, pub, database.CommitterOptions{})
			t.Cleanup(c.Close)
			svc := alerts.NewService(db, c, func() int64 { return 5000 })
			create := func(recipient, text string, fail bool) error {
				ch := make(chan error, 1)
				c.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
					ev, err := alerts.Create(tx, alerts.Alert{Tenant: "acme", RecipientID: recipient, Kind: alerts.KindMention,
						TicketID: "t1", NoteID: "n1", ByID: "ann", ByName: "Ann", Text: text, CreatedAt: 1000})
					if err == nil && fail {
						err = switchboard.Errorf(switchboard.ECONFLICT, "the cause failed")
					}
					return []switchboard.Event{ev}, err
				}, func(err error) { ch <- err })
				return <-ch
			}
			if err := create("bob", "first", false); err != nil {
				t.Fatal(err)
			}
			if err := create("bob", "rolled back", true); err == nil {
				t.Fatal("the failing Op succeeded")
			}
			long := strings.Repeat("ü", 400)
			if err := create("bob", long, false); err != nil {
				t.Fatal(err)
			}
			pub.mu.Lock()
			evs := append([]switchboard.Event(nil), pub.evs...)
			pub.mu.Unlock()
			if len(evs) != 2 || evs[0].Name != "alert" || evs[0].To[0] != switchboard.OperatorRoom("acme", "bob") {
				t.Fatalf("events %+v", evs)
			}

			as, unread, next, err := svc.List(context.Background(), operator("acme", "bob"), alerts.Page{})
			if err != nil || len(as) != 2 || unread != 2 || next != "" {
				t.Fatalf("list: %v %d %q %v", as, unread, next, err)
			}
			if text := as[0].Text; len(text) > alerts.MaxTextBytes || !utf8.ValidString(text) || !strings.HasSuffix(text, "…") {
				t.Fatalf("a long text: %d bytes %q", len(text), text)
			}
			if others, n, _, _ := svc.List(context.Background(), operator("globex", "bob"), alerts.Page{}); len(others) != 0 || n != 0 {
				t.Fatalf("another tenant's bob sees %v", others)
			}
			var read alerts.Alert
			wait(t, func(done func(error)) {
				svc.Read(operator("acme", "bob"), as[1].ID, func(a alerts.Alert, err error) { read = a; done(err) })
			})
			if read.ReadAt != 5000 || read.Text != "first" {
				t.Fatalf("read %+v", read)
			}
			ch := make(chan error, 1)
			svc.Read(operator("acme", "carl"), as[0].ID, func(_ alerts.Alert, err error) { ch <- err })
			if err := <-ch; switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
				t.Fatalf("carl reads bob's alert: %v", err)
			}
			var n int
			wait(t, func(done func(error)) {
				svc.ReadAll(operator("acme", "bob"), func(read int, err error) { n = read; done(err) })
			})
			if _, unread, _, _ := svc.List(context.Background(), operator("acme", "bob"), alerts.Page{UnreadOnly: true}); n != 1 || unread != 0 {
				t.Fatalf("read all: %d read, %d unread after", n, unread)
			}
			if _, _, _, err := svc.List(context.Background(), switchboard.Principal{ID: "u", Role: switchboard.RoleUser, Tenant: "acme"},
				alerts.Page{}); switchboard.ErrorCode(err) != switchboard.EFORBIDDEN {
				t.Fatalf("a user lists alerts: %v", err)
			}
		})
	}
}

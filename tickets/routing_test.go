package tickets_test

import (
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/operators"
	"github.com/switchboard-chat/switchboard/tickets"
)

// routed is a service with automatic routing on one database, and the
// operators it knows.
type routed struct {
	t        *testing.T
	db       *database.DB
	svc      *tickets.Service
	pub      *recorder
	presence *operators.Presence
	c        *database.Committer
}

func newRouted(t *testing.T, db *database.DB, mode tickets.RoutingMode, presence *operators.Presence) *routed {
	t.Helper()
	pub := &recorder{}
	c := database.NewCommitter(db, pub, database.CommitterOptions{})
	svc := tickets.NewService(db, c, tickets.Options{Routing: &tickets.RoutingOptions{
		Mode: mode, Capacity: 2, Presence: presence, Sweep: -1}})
	t.Cleanup(func() { svc.Close(); c.Close() })
	return &routed{t: t, db: db, svc: svc, pub: pub, presence: presence, c: c}
}

// addOperators stores AVAILABLE operators with capacities (0: the
// default, 2) and brings them online.
func (r *routed) addOperators(capacity map[string]int) {
	r.t.Helper()
	for id, c := range capacity {
		u := chat.User{Tenant: tenant, ID: id, Role: string(switchboard.RoleOperator), FullName: "Operator " + id,
			Status: "AVAILABLE"}
		if err := r.db.Create(&u).Error; err != nil {
			r.t.Fatal(err)
		}
		if err := r.db.Exec(`UPDATE users SET capacity = ? WHERE tenant = ? AND id = ?`, c, tenant, id).Error; err != nil {
			r.t.Fatal(err)
		}
		r.presence.Join(tenant, id)
	}
}

// create opens ticket id for user u and waits for its commit.
func (r *routed) create(u, id string) {
	ch := make(chan error, 1)
	r.svc.CreateTicket(user(u), id, tickets.TicketInput{TicketName: id}, func(err error) { ch <- err })
	if err := <-ch; err != nil {
		r.t.Errorf("create %s: %v", id, err)
	}
}

// run runs one command and returns its outcome.
func (r *routed) run(f func(done database.Done)) error {
	ch := make(chan error, 1)
	f(func(err error) { ch <- err })
	return <-ch
}

// state is every ticket's status and handler.
func (r *routed) state() map[string]tickets.Ticket {
	r.t.Helper()
	var all []tickets.Ticket
	if err := r.db.Where("tenant = ?", tenant).Find(&all).Error; err != nil {
		r.t.Fatal(err)
	}
	out := map[string]tickets.Ticket{}
	for _, t := range all {
		out[t.ID] = t
	}
	return out
}

// openBy counts open tickets per handler.
func (r *routed) openBy() map[string]int {
	out := map[string]int{}
	for _, t := range r.state() {
		if t.Status == tickets.StatusOpen {
			out[t.HandlerID]++
		}
	}
	return out
}

// told is the last queuePosition each waiting ticket's owner got.
func (r *routed) told() map[string]int {
	out := map[string]int{}
	for _, ev := range r.pub.since(0) {
		if ev.Name == "queuePosition" {
			p := ev.Args[0].(map[string]any)
			out[p["ticketId"].(string)] = p["position"].(int)
		}
	}
	return out
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// queue is the waiting tickets, oldest first, with the position their
// owners were last told.
func (r *routed) queue() []string {
	st, told := r.state(), r.told()
	var waiting []tickets.Ticket
	for _, t := range st {
		if t.Status == tickets.StatusNew {
			waiting = append(waiting, t)
		}
	}
	sort.Slice(waiting, func(i, j int) bool {
		if waiting[i].CreatedAt != waiting[j].CreatedAt {
			return waiting[i].CreatedAt < waiting[j].CreatedAt
		}
		return waiting[i].ID < waiting[j].ID
	})
	out := make([]string, len(waiting))
	for i, t := range waiting {
		out[i] = fmt.Sprintf("%s@%d", t.ID, told[t.ID])
	}
	return out
}

// wantQueue is the queue of ids told positions 1..n.
func wantQueue(q []string) bool {
	for i, s := range q {
		var id string
		var pos int
		if _, err := fmt.Sscanf(s, "%3s@%d", &id, &pos); err != nil || pos != i+1 {
			return false
		}
	}
	return true
}

// TestRoutingLeastBusyCapacity: 3 operators of capacity 2 and 10 tickets
// opened at once: 6 assigned, 2 each, 4 waiting told positions 1–4;
// closing one ticket gives its operator the oldest waiting one within a
// second, and the rest move up.
func TestRoutingLeastBusyCapacity(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			r := newRouted(t, testdb.Open(t, d), tickets.RoutingLeastBusy, &operators.Presence{})
			r.addOperators(map[string]int{"a": 2, "b": 2, "c": 0})
			var wg sync.WaitGroup
			for i := range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r.create(fmt.Sprintf("u%d", i), fmt.Sprintf("t%02d", i))
				}()
			}
			wg.Wait()
			if !waitFor(10*time.Second, func() bool {
				q := r.queue()
				return len(q) == 4 && wantQueue(q)
			}) {
				t.Fatalf("queue %v, open %v; want 4 waiting told 1..4", r.queue(), r.openBy())
			}
			if got := r.openBy(); fmt.Sprint(got) != "map[a:2 b:2 c:2]" {
				t.Fatalf("open tickets per operator %v, want 2 each", got)
			}
			assertOneAssignmentEach(t, r.db)
			first := r.queue()[0][:3]

			// a closes one of its tickets: the oldest waiting ticket is a's.
			var closing string
			for id, tk := range r.state() {
				if tk.HandlerID == "a" && tk.Status == tickets.StatusOpen {
					closing = id
					break
				}
			}
			start := time.Now()
			if err := r.run(func(done database.Done) {
				r.svc.UpdateTicketStatus(operator("a"), closing, tickets.StatusClosed, done)
			}); err != nil {
				t.Fatal(err)
			}
			if !waitFor(time.Second, func() bool {
				tk := r.state()[first]
				return tk.Status == tickets.StatusOpen && tk.HandlerID == "a"
			}) {
				t.Fatalf("%s not assigned to a within 1 s: %+v", first, r.state()[first])
			}
			t.Logf("closing to the next assignment: %v", time.Since(start))
			if !waitFor(5*time.Second, func() bool { q := r.queue(); return len(q) == 3 && wantQueue(q) }) {
				t.Errorf("after the close: queue %v, want 3 told 1..3", r.queue())
			}
			if got := r.openBy(); fmt.Sprint(got) != "map[a:2 b:2 c:2]" {
				t.Errorf("open tickets per operator %v, want 2 each", got)
			}
		})
	}
}

// assertOneAssignmentEach: the audit trail shows each ticket taken from
// the queue at most once per time it was waiting.
func assertOneAssignmentEach(t *testing.T, db *database.DB) {
	t.Helper()
	var rows []tickets.AuditEntry
	if err := db.Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	waiting := map[string]bool{}
	for _, e := range rows {
		switch {
		case e.ToStatus == tickets.StatusNew:
			waiting[e.TicketID] = true
		case e.FromStatus == tickets.StatusNew:
			if !waiting[e.TicketID] {
				t.Fatalf("ticket %s taken from the queue twice: %+v", e.TicketID, e)
			}
			waiting[e.TicketID] = false
		}
	}
}

// TestRoutingUnderRaces: tickets opened from many goroutines while
// operators close theirs and change status, on two nodes sharing the
// database (PostgreSQL; on SQLite one node, whose single writer is the
// only one): replaying the audit trail, no operator ever held more open
// tickets than its capacity and no ticket was assigned twice.
func TestRoutingUnderRaces(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := testdb.Open(t, d)
			presence := &operators.Presence{}
			nodes := []*routed{newRouted(t, db, tickets.RoutingLeastBusy, presence)}
			if d == "postgres" {
				nodes = append(nodes, newRouted(t, db, tickets.RoutingRoundRobin, presence))
			}
			capacity := map[string]int{"a": 1, "b": 2, "c": 3, "d": 2}
			nodes[0].addOperators(capacity)
			const n = 80
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					nodes[i%len(nodes)].create(fmt.Sprintf("u%d", i), fmt.Sprintf("t%03d", i))
				}()
			}
			// Operators close what they have, on either node, until every
			// ticket has been served.
			for _, op := range []string{"a", "b", "c", "d"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewSource(int64(op[0])))
					deadline := time.Now().Add(30 * time.Second)
					for time.Now().Before(deadline) {
						node := nodes[rng.Intn(len(nodes))]
						var mine []string
						closed := 0
						for id, tk := range node.state() {
							if tk.HandlerID == op && tk.Status == tickets.StatusOpen {
								mine = append(mine, id)
							}
							if tk.Status == tickets.StatusClosed {
								closed++
							}
						}
						if closed == n {
							return
						}
						for _, id := range mine {
							_ = node.run(func(done database.Done) {
								node.svc.UpdateTicketStatus(operator(op), id, tickets.StatusClosed, done)
							})
						}
						time.Sleep(time.Duration(rng.Intn(20)) * time.Millisecond)
					}
				}()
			}
			wg.Wait()
			closed := 0
			for _, tk := range nodes[0].state() {
				if tk.Status == tickets.StatusClosed {
					closed++
				}
			}
			if closed != n {
				t.Fatalf("%d of %d tickets served and closed", closed, n)
			}
			var rows []tickets.AuditEntry
			if err := db.Order("id").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			open, most := map[string]int{}, map[string]int{}
			for _, e := range rows {
				if e.FromStatus == tickets.StatusOpen {
					open[e.FromHandler]--
				}
				if e.ToStatus == tickets.StatusOpen {
					open[e.ToHandler]++
					if e.ActorID != "switchboard:routing" {
						t.Errorf("%s opened by %s, not routing", e.TicketID, e.ActorID)
					}
					if open[e.ToHandler] > capacity[e.ToHandler] {
						t.Fatalf("%s holds %d open tickets, capacity %d (at %+v)", e.ToHandler,
							open[e.ToHandler], capacity[e.ToHandler], e)
					}
					most[e.ToHandler] = max(most[e.ToHandler], open[e.ToHandler])
				}
			}
			assertOneAssignmentEach(t, db)
			t.Logf("most open tickets at once per operator: %v (capacities %v)", most, capacity)
		})
	}
}

// TestRoutingRoundRobinFair: over many tickets, round-robin gives each
// operator its turn: equal shares, never the same operator twice in a row.
func TestRoutingRoundRobinFair(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			r := newRouted(t, testdb.Open(t, d), tickets.RoutingRoundRobin, &operators.Presence{})
			r.addOperators(map[string]int{"a": 1000, "b": 1000, "c": 1000})
			const n = 90
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r.create(fmt.Sprintf("u%d", i), fmt.Sprintf("t%03d", i))
				}()
				if i%10 == 0 {
					wg.Wait() // some in bursts, some one at a time
				}
			}
			wg.Wait()
			if !waitFor(10*time.Second, func() bool {
				by := r.openBy()
				return by["a"]+by["b"]+by["c"] == n
			}) {
				t.Fatalf("assigned %v of %d", r.openBy(), n)
			}
			if got := r.openBy(); got["a"] != n/3 || got["b"] != n/3 || got["c"] != n/3 {
				t.Errorf("shares %v, want %d each", got, n/3)
			}
			var order []string
			if err := r.db.Model(&tickets.AuditEntry{}).Where("action = ?", tickets.ActionAssign).
				Order("id").Pluck("to_handler", &order).Error; err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(order); i++ {
				if order[i] == order[i-1] {
					t.Fatalf("%s served twice in a row at %d: %v", order[i], i, order)
				}
			}
		})
	}
}

// TestRoutingDecline: a declined ticket goes back to the queue and to
// another operator, never to one who declined it; only a ticket routing
// gave may be declined.
func TestRoutingDecline(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			r := newRouted(t, testdb.Open(t, d), tickets.RoutingLeastBusy, &operators.Presence{})
			r.addOperators(map[string]int{"a": 1, "b": 1})
			r.create("u1", "t01")
			handler := func() string { tk := r.state()["t01"]; return fmt.Sprint(tk.Status, "/", tk.HandlerID) }
			if !waitFor(5*time.Second, func() bool { return handler() == "200/a" }) {
				t.Fatalf("t01 is %s, want a's", handler())
			}
			if err := r.run(func(done database.Done) { r.svc.DeclineTicket(operator("b"), "t01", done) }); switchboard.ErrorCode(err) != switchboard.EFORBIDDEN {
				t.Errorf("b declines a's ticket: %v, want FORBIDDEN", err)
			}
			if err := r.run(func(done database.Done) { r.svc.DeclineTicket(operator("a"), "t01", done) }); err != nil {
				t.Fatal(err)
			}
			if !waitFor(5*time.Second, func() bool { return handler() == "200/b" }) {
				t.Fatalf("declined by a: t01 is %s, want b's", handler())
			}
			if err := r.run(func(done database.Done) { r.svc.DeclineTicket(operator("b"), "t01", done) }); err != nil {
				t.Fatal(err)
			}
			// Both declined: it waits, first in the queue, though both are free.
			if !waitFor(5*time.Second, func() bool { q := r.queue(); return len(q) == 1 && wantQueue(q) }) {
				t.Fatalf("declined by both: queue %v, want t01 told 1", r.queue())
			}
			time.Sleep(100 * time.Millisecond)
			if handler() != "100/" {
				t.Fatalf("declined by both: t01 is %s, want waiting", handler())
			}
			// A ticket taken by hand is not declined: it is passed on.
			if err := r.run(func(done database.Done) { r.svc.AcceptTicket(operator("a"), "t01", done) }); err != nil {
				t.Fatal(err)
			}
			if err := r.run(func(done database.Done) { r.svc.DeclineTicket(operator("a"), "t01", done) }); switchboard.ErrorCode(err) != switchboard.EFORBIDDEN {
				t.Errorf("declining an accepted ticket: %v, want FORBIDDEN", err)
			}
			var actions []string
			if err := r.db.Model(&tickets.AuditEntry{}).Where("ticket_id = ?", "t01").Order("id").
				Pluck("action", &actions).Error; err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(actions) != "[create assign decline assign decline accept]" {
				t.Errorf("audit trail %v", actions)
			}
		})
	}
}

// TestRoutingOnlyAvailableOnlineOperators: an operator who is away or
// offline gets nothing; becoming available routes the queue to it.
func TestRoutingOnlyAvailableOnlineOperators(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			r := newRouted(t, testdb.Open(t, d), tickets.RoutingRoundRobin, &operators.Presence{})
			r.addOperators(map[string]int{"a": 3, "b": 3})
			r.presence.Leave(tenant, "b")
			if err := r.db.Exec(`UPDATE users SET status = 'AWAY' WHERE id = 'a'`).Error; err != nil {
				t.Fatal(err)
			}
			r.create("u1", "t01")
			r.create("u2", "t02")
			if !waitFor(5*time.Second, func() bool { q := r.queue(); return len(q) == 2 && wantQueue(q) }) {
				t.Fatalf("queue %v, want both waiting told 1, 2", r.queue())
			}
			if err := r.db.Exec(`UPDATE users SET status = 'AVAILABLE' WHERE id = 'a'`).Error; err != nil {
				t.Fatal(err)
			}
			r.svc.RouteQueue(tenant)
			if !waitFor(5*time.Second, func() bool { return r.openBy()["a"] == 2 }) {
				t.Fatalf("a available: open %v, want a holding both", r.openBy())
			}
			var notified []string
			for _, ev := range r.pub.since(0) {
				if ev.Name == "notifyOfAssignment" && ev.To[0] == oRoom("a") {
					notified = append(notified, fmt.Sprintf("%v %v %v", ev.Args...))
				}
			}
			if len(notified) != 2 || notified[0] != "t01 1 Switchboard" {
				t.Errorf("a was notified %v, want two assignments by Switchboard", notified)
			}
		})
	}
}

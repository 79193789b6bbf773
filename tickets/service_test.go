package tickets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/tickets"
)

const (
	tenant  = "acme"
	program = "program-42"
)

// The rooms of the default tenant's parties.
func uRoom(userID string) string { return switchboard.UserRoom(tenant, userID) }
func oRoom(opID string) string   { return switchboard.OperatorRoom(tenant, opID) }
func opsRoom() string            { return switchboard.OperatorsRoom(tenant) }

// t0 is the fixed clock's start; every time below is relative to it.
var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

const t0Wire = "2024-05-01T10:00:00.000Z"

// clock is a fixed clock tests move by hand.
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

// recorder is the Committer's publisher: it keeps every livechat event in
// order (the chat protocol's view of tickets is tested in chat_test.go),
// and the chat protocol's apart.
type recorder struct {
	mu     sync.Mutex
	events []switchboard.Event
	chat   []switchboard.Event
	// unread holds the unread-count pushes of both protocols, apart from
	// the rest: unread_test.go checks them, the other tests the rest.
	unread []switchboard.Event
}

func (r *recorder) Publish(evs []switchboard.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		switch {
		case ev.Name == chat.EventUnreadCount:
			r.unread = append(r.unread, ev)
		case ev.Protocol == switchboard.ProtocolLivechat:
			r.events = append(r.events, ev)
		case ev.Protocol == switchboard.ProtocolChat:
			r.chat = append(r.chat, ev)
		}
	}
}

// unreadSince returns the unread-count pushes after the first mark.
func (r *recorder) unreadSince(mark int) []switchboard.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]switchboard.Event(nil), r.unread[mark:]...)
}

// chatEvents returns the chat protocol's events so far.
func (r *recorder) chatEvents() []switchboard.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]switchboard.Event(nil), r.chat...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) since(mark int) []switchboard.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]switchboard.Event(nil), r.events[mark:]...)
}

// env is one test's service on one database.
type env struct {
	t     *testing.T
	db    *database.DB
	svc   *tickets.Service
	pub   *recorder
	clock *clock
	c     *database.Committer
}

func newEnv(t *testing.T, dialect string) *env {
	t.Helper()
	db := testdb.Open(t, dialect)
	pub := &recorder{}
	c := database.NewCommitter(db, pub, database.CommitterOptions{})
	t.Cleanup(c.Close)
	clk := &clock{now: t0}
	svc := tickets.NewService(db, c, tickets.Options{Now: clk.Now})
	t.Cleanup(svc.Close)
	return &env{t: t, db: db, svc: svc, pub: pub, clock: clk, c: c}
}

// forDialects runs f once per database, each with a fresh one.
func forDialects(t *testing.T, f func(t *testing.T, e *env)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) { f(t, newEnv(t, d)) })
	}
}

func principal(id string, role switchboard.Role, tenant string) switchboard.Principal {
	return switchboard.Principal{ID: id, Role: role, DisplayName: displayName(id, role), Tenant: tenant,
		ExpiresAt: t0.Add(time.Hour)}
}

func displayName(id string, role switchboard.Role) string {
	if role == switchboard.RoleOperator {
		return "Operator " + id
	}
	return "User " + id
}

func userIn(tenant, id string) tickets.Caller {
	p := principal(id, switchboard.RoleUser, tenant)
	return tickets.Caller{Principal: p, UserID: id, Name: p.DisplayName, Socket: "sock-" + id}
}

func operatorIn(tenant, id string) tickets.Caller {
	p := principal(id, switchboard.RoleOperator, tenant)
	return tickets.Caller{Principal: p, UserID: id, Name: p.DisplayName, Socket: "sock-" + id}
}

func user(id string) tickets.Caller     { return userIn(tenant, id) }
func operator(id string) tickets.Caller { return operatorIn(tenant, id) }

// programFor is program p acting for its end user userID ("" = not
// subscribed yet).
func programFor(p, userID string) tickets.Caller {
	pr := switchboard.Principal{ID: p, Role: switchboard.RoleProgram, DisplayName: "Program " + p,
		ProgramID: p, Tenant: tenant, ExpiresAt: t0.Add(time.Hour)}
	c := tickets.Caller{Principal: pr, Socket: "sock-" + p}
	if userID != "" {
		c.UserID, c.Name = switchboard.ScopedUserID(p, userID), "End user "+userID
	}
	return c
}

// do runs one command and returns its outcome.
func (e *env) do(f func(done database.Done)) error {
	e.t.Helper()
	ch := make(chan error, 1)
	f(func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		e.t.Fatal("command timed out")
		return nil
	}
}

// ok runs a command that must succeed and returns the events it caused.
func (e *env) ok(what string, f func(done database.Done)) []switchboard.Event {
	e.t.Helper()
	mark := e.pub.len()
	if err := e.do(f); err != nil {
		e.t.Fatalf("%s = %v, want nil", what, err)
	}
	return e.pub.since(mark)
}

// noop runs a command that must succeed without changing anything.
func (e *env) noop(what string, f func(done database.Done)) {
	e.t.Helper()
	e.refused(what, "", f)
}

// refused runs a command that must fail with code ("" = succeed) and
// checks it changed no row and emitted nothing.
func (e *env) refused(what, code string, f func(done database.Done)) {
	e.t.Helper()
	before := e.snapshot()
	mark := e.pub.len()
	err := e.do(f)
	if got := switchboard.ErrorCode(err); got != code {
		e.t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
	if evs := e.pub.since(mark); len(evs) != 0 {
		e.t.Fatalf("%s: emitted %+v, want nothing", what, evs)
	}
	if after := e.snapshot(); after != before {
		e.t.Fatalf("%s changed the database:\nbefore %s\nafter  %s", what, before, after)
	}
}

// snapshot renders every row the service writes, to compare before and
// after a command that must change nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	s := ""
	for _, q := range []string{
		"SELECT * FROM tickets ORDER BY id",
		"SELECT * FROM messages ORDER BY seq",
		"SELECT * FROM ticket_events ORDER BY id",
		"SELECT * FROM chat_sessions ORDER BY id",
		"SELECT * FROM chat_members ORDER BY session_id, user_id",
		"SELECT * FROM users ORDER BY tenant, id",
	} {
		var rows []map[string]any
		if err := e.db.Raw(q).Scan(&rows).Error; err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
		s += fmt.Sprint(rows) + "\n"
	}
	return s
}

func (e *env) count(table, where string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) ticket(id string) tickets.Ticket {
	e.t.Helper()
	var t tickets.Ticket
	if res := e.db.Where("id = ?", id).Limit(1).Find(&t); res.Error != nil || res.RowsAffected != 1 {
		e.t.Fatalf("ticket %s: %v (rows %d)", id, res.Error, res.RowsAffected)
	}
	return t
}

func (e *env) create(c tickets.Caller, id string) {
	e.t.Helper()
	e.ok("createTicket "+id, func(d database.Done) {
		e.svc.CreateTicket(c, id, tickets.TicketInput{DisplayName: "Display " + id, TicketName: "Ticket " + id}, d)
	})
}

func (e *env) accept(c tickets.Caller, id string) {
	e.t.Helper()
	e.ok("acceptTicket "+id, func(d database.Done) { e.svc.AcceptTicket(c, id, d) })
}

func (e *env) ensure(c tickets.Caller) {
	e.t.Helper()
	e.ok("EnsureUser "+c.UserID, func(d database.Done) { e.svc.EnsureUser(c.Principal, d) })
}

// members lists a session's members as uRoom("role:in|left").
func (e *env) members(sessionID string) []string {
	e.t.Helper()
	var rows []struct {
		UserID string
		Role   string
		LeftAt int64
	}
	if err := e.db.Raw("SELECT user_id, role, left_at FROM chat_members WHERE session_id = ? ORDER BY user_id",
		sessionID).Scan(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		state := "in"
		if r.LeftAt != 0 {
			state = "left"
		}
		out[i] = r.UserID + ":" + r.Role + ":" + state
	}
	return out
}

// wire is the ticket object tests expect; fields are overridden by kv.
func wire(id, owner, ownerName string, status int, kv ...any) map[string]any {
	w := map[string]any{
		"ticketId": id, "displayNm": "Display " + id, "ticketNm": "Ticket " + id, "statusId": status,
		"createdAt": t0Wire, "handleById": "", "handleByNm": "", "lastResponseAt": "",
		"ownerId": owner, "ownerNm": ownerName, "programId": "", "isExternal": false, "rating": nil,
	}
	for i := 0; i < len(kv); i += 2 {
		w[kv[i].(string)] = kv[i+1]
	}
	return w
}

func ev(name string, session string, to []string, args ...any) switchboard.Event {
	return switchboard.Event{Name: name, Args: args, To: to, SessionID: session}
}

// wantEvents compares events with their arguments as clients get them:
// in JSON (a wire object may be a struct in got and a map in want).
func wantEvents(t *testing.T, what string, got, want []switchboard.Event) {
	t.Helper()
	if g, w := onTheWire(t, got), onTheWire(t, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s events:\n got %#v\nwant %#v", what, g, w)
	}
}

func onTheWire(t *testing.T, evs []switchboard.Event) []switchboard.Event {
	t.Helper()
	out := make([]switchboard.Event, len(evs))
	for i, ev := range evs {
		ev.Args, _ = jsonOf(t, ev.Args).([]any)
		out[i] = ev
	}
	return out
}

// jsonOf is v as a client decodes it.
func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func codeOf(err error) string { return switchboard.ErrorCode(err) }

func TestCreateTicket(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1 := user("u1")
		evs := e.ok("create", func(d database.Done) {
			e.svc.CreateTicket(u1, "t1", tickets.TicketInput{DisplayName: "Display t1", TicketName: "Ticket t1"}, d)
		})
		wantEvents(t, "create", evs, []switchboard.Event{
			ev("ticketCreated", "t1", []string{opsRoom()}, wire("t1", "u1", "User u1", 100, "labels", []any{})),
		})
		tk := e.ticket("t1")
		if tk.Tenant != tenant || tk.Status != tickets.StatusNew || tk.OwnerID != "u1" || tk.HandlerID != "" ||
			tk.CreatedAt != t0.UnixMilli() || tk.IsExternal || tk.ProgramID != "" {
			t.Fatalf("stored ticket = %+v", tk)
		}
		if got, want := e.members("t1"), []string{"u1:owner:in"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("members = %v, want %v", got, want)
		}
		if n := e.count("chat_sessions", "id = ? AND type = ?", "t1", "ONETOONE"); n != 1 {
			t.Fatalf("%d ONETOONE sessions t1, want 1", n)
		}

		// A retry by the same owner: ack nil, nothing new.
		e.noop("repeat create", func(d database.Done) {
			e.svc.CreateTicket(u1, "t1", tickets.TicketInput{DisplayName: "changed"}, d)
		})
		// The same id by someone else.
		e.refused("create by another owner", switchboard.ECONFLICT, func(d database.Done) {
			e.svc.CreateTicket(user("u2"), "t1", tickets.TicketInput{}, d)
		})
		e.refused("create by another tenant", switchboard.ECONFLICT, func(d database.Done) {
			e.svc.CreateTicket(userIn("other", "u1"), "t1", tickets.TicketInput{}, d)
		})
		e.refused("create by an operator", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.CreateTicket(operator("op1"), "t9", tickets.TicketInput{}, d)
		})
		e.refused("create by a program without an end user", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.CreateTicket(programFor(program, ""), "t9", tickets.TicketInput{}, d)
		})

		// A program for its end user 42: scoped owner, external.
		evs = e.ok("program create", func(d database.Done) {
			e.svc.CreateTicket(programFor(program, "42"), "t2",
				tickets.TicketInput{DisplayName: "Display t2", TicketName: "Ticket t2"}, d)
		})
		wantEvents(t, "program create", evs, []switchboard.Event{
			ev("ticketCreated", "t2", []string{opsRoom()},
				wire("t2", "program-42/42", "End user 42", 100, "programId", program, "isExternal", true, "labels", []any{})),
		})
		// User "42" of another program is someone else.
		e.refused("create by another program's user 42", switchboard.ECONFLICT, func(d database.Done) {
			e.svc.CreateTicket(programFor("program-7", "42"), "t2", tickets.TicketInput{}, d)
		})
		e.noop("program repeat create", func(d database.Done) {
			e.svc.CreateTicket(programFor(program, "42"), "t2", tickets.TicketInput{}, d)
		})

		trail, err := tickets.AuditTrail(e.db.DB, "t1")
		if err != nil {
			t.Fatal(err)
		}
		if len(trail) != 1 || trail[0].Action != tickets.ActionCreate || trail[0].ActorID != "u1" ||
			trail[0].FromStatus != 0 || trail[0].ToStatus != tickets.StatusNew {
			t.Fatalf("audit trail = %+v, want one create row", trail)
		}
	})
}

func TestAcceptTicket(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		e.create(user("u1"), "t1")
		e.clock.Add(time.Second)
		op1 := operator("op1")
		evs := e.ok("accept", func(d database.Done) { e.svc.AcceptTicket(op1, "t1", d) })
		wantEvents(t, "accept", evs, []switchboard.Event{
			ev("ticketAccepted", "t1", []string{uRoom("u1"), opsRoom()},
				wire("t1", "u1", "User u1", 200, "handleById", "op1", "handleByNm", "Operator op1")),
		})
		tk := e.ticket("t1")
		if tk.Status != tickets.StatusOpen || tk.HandlerID != "op1" || tk.HandlerName != "Operator op1" ||
			tk.AcceptedAt != t0.Add(time.Second).UnixMilli() {
			t.Fatalf("accepted ticket = %+v", tk)
		}
		if got, want := e.members("t1"), []string{"op1:handler:in", "u1:owner:in"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("members = %v, want %v", got, want)
		}

		e.refused("accept by a second operator", switchboard.ECONFLICT, func(d database.Done) {
			e.svc.AcceptTicket(operator("op2"), "t1", d)
		})
		e.noop("accept again by the handler", func(d database.Done) { e.svc.AcceptTicket(op1, "t1", d) })
		e.refused("accept by a user", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.AcceptTicket(user("u1"), "t1", d)
		})
		e.refused("accept by a program", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.AcceptTicket(programFor(program, "42"), "t1", d)
		})
		e.refused("accept an unknown ticket", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.AcceptTicket(op1, "nope", d)
		})

		e.create(user("u1"), "t2")
		e.ok("reject t2", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t2", tickets.StatusClosed, d) })
		e.refused("accept a closed ticket", switchboard.EINVALIDTRANSITION, func(d database.Done) {
			e.svc.AcceptTicket(op1, "t2", d)
		})
	})
}

func TestAcceptRace(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		e.create(user("u1"), "t1")
		mark := e.pub.len()
		const n = 20
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				done := make(chan error, 1)
				<-start
				e.svc.AcceptTicket(operator(fmt.Sprintf("op%02d", i)), "t1", func(err error) { done <- err })
				errs[i] = <-done
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch codeOf(err) {
			case "":
				if winner >= 0 {
					t.Fatalf("operators %d and %d both won", winner, i)
				}
				winner = i
			case switchboard.ECONFLICT:
			default:
				t.Fatalf("operator %d: %v, want nil or CONFLICT", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no operator won")
		}
		w := fmt.Sprintf("op%02d", winner)
		if tk := e.ticket("t1"); tk.HandlerID != w || tk.Status != tickets.StatusOpen {
			t.Fatalf("ticket = %+v, want open, handled by the winner %s", tk, w)
		}
		evs := e.pub.since(mark)
		if len(evs) != 1 || evs[0].Name != "ticketAccepted" {
			t.Fatalf("events = %+v, want one ticketAccepted", evs)
		}
		if got := evs[0].Args[0].(map[string]any)["handleById"]; got != w {
			t.Fatalf("ticketAccepted handleById = %v, want %s", got, w)
		}
		if n := e.count("ticket_events", "ticket_id = ? AND action = ?", "t1", "accept"); n != 1 {
			t.Fatalf("%d accept rows in the audit trail, want 1", n)
		}
		if got, want := e.members("t1"), []string{w + ":handler:in", "u1:owner:in"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("members = %v, want %v", got, want)
		}
	})
}

func TestAssignTicket(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		op1, op2, op3 := operator("op1"), operator("op2"), operator("op3")
		// Every operator authenticated once; op2 is offline now.
		e.ensure(op1)
		e.ensure(op2)
		e.ensure(op3)
		e.ensure(user("u1"))
		e.ensure(operatorIn("other", "op9"))
		e.create(user("u1"), "t1")
		e.ok("u1 writes", func(d database.Done) {
			e.svc.SendMessage(user("u1"), "t1", "m1", tickets.MessageInput{Type: 1, Content: "hi", Encoding: "utf-8"}, d)
		})
		e.accept(op1, "t1")

		// op3 assigns op1's ticket to op2.
		evs := e.ok("assign to op2", func(d database.Done) { e.svc.AssignTicket(op3, "t1", "op2", d) })
		opened := wire("t1", "u1", "User u1", 200, "handleById", "op2", "handleByNm", "Operator op2")
		wantEvents(t, "assign", evs, []switchboard.Event{
			ev("notifyOfAssignment", "t1", []string{oRoom("op1")}, "t1", 0, "Operator op3"),
			ev("notifyOfAssignment", "t1", []string{oRoom("op2")}, "t1", 1, "Operator op3"),
			ev("ticketAccepted", "t1", []string{uRoom("u1"), opsRoom()}, opened),
		})
		if tk := e.ticket("t1"); tk.HandlerID != "op2" || tk.HandlerName != "Operator op2" || tk.Status != tickets.StatusOpen {
			t.Fatalf("ticket = %+v, want open with handler op2", tk)
		}
		if got, want := e.members("t1"), []string{"op1:handler:left", "op2:handler:in", "u1:owner:in"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("members = %v, want %v", got, want)
		}
		// The owner's unread message is now op2's to read.
		if n := e.count("messages", "id = ? AND recipient_id = ? AND recipient_name = ?", "m1", "op2", "Operator op2"); n != 1 {
			t.Fatal("m1 was not readdressed to op2")
		}

		// op1 hijacks it back: op2 hears it was taken, op1 acted itself.
		evs = e.ok("hijack", func(d database.Done) { e.svc.AssignTicket(op1, "t1", "", d) })
		wantEvents(t, "hijack", evs, []switchboard.Event{
			ev("notifyOfAssignment", "t1", []string{oRoom("op2")}, "t1", 0, "Operator op1"),
			ev("ticketAccepted", "t1", []string{uRoom("u1"), opsRoom()},
				wire("t1", "u1", "User u1", 200, "handleById", "op1", "handleByNm", "Operator op1")),
		})
		if n := e.count("messages", "id = ? AND recipient_id = ?", "m1", "op1"); n != 1 {
			t.Fatal("m1 was not readdressed to op1 after the hijack")
		}

		e.noop("hijack by the handler", func(d database.Done) { e.svc.AssignTicket(op1, "t1", "", d) })
		e.noop("assign to the handler", func(d database.Done) { e.svc.AssignTicket(op3, "t1", "op1", d) })
		e.refused("assign to an unknown operator", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.AssignTicket(op1, "t1", "ghost", d)
		})
		e.refused("assign to a user", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.AssignTicket(op1, "t1", "u1", d)
		})
		e.refused("assign to another tenant's operator", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.AssignTicket(op1, "t1", "op9", d)
		})
		e.refused("assign by a user", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.AssignTicket(user("u1"), "t1", "op2", d)
		})
		e.refused("assign an unknown ticket", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.AssignTicket(op1, "nope", "op2", d)
		})

		// A new ticket assigned to an offline operator opens and waits.
		e.create(user("u1"), "t2")
		e.clock.Add(time.Second)
		evs = e.ok("assign new ticket", func(d database.Done) { e.svc.AssignTicket(op1, "t2", "op2", d) })
		wantEvents(t, "assign new", evs, []switchboard.Event{
			ev("notifyOfAssignment", "t2", []string{oRoom("op2")}, "t2", 1, "Operator op1"),
			ev("ticketAccepted", "t2", []string{uRoom("u1"), opsRoom()},
				wire("t2", "u1", "User u1", 200, "handleById", "op2", "handleByNm", "Operator op2")),
		})
		if tk := e.ticket("t2"); tk.AcceptedAt != t0.Add(time.Second).UnixMilli() {
			t.Fatalf("accepted_at = %d, want the assignment time", tk.AcceptedAt)
		}

		// A new ticket hijacked: no one to notify but the queues.
		e.create(user("u1"), "t3")
		evs = e.ok("hijack new ticket", func(d database.Done) { e.svc.AssignTicket(op3, "t3", "", d) })
		wantEvents(t, "hijack new", evs, []switchboard.Event{
			ev("ticketAccepted", "t3", []string{uRoom("u1"), opsRoom()},
				wire("t3", "u1", "User u1", 200, "handleById", "op3", "handleByNm", "Operator op3",
					"createdAt", "2024-05-01T10:00:01.000Z")),
		})

		// Closed tickets are not assigned.
		e.ok("close t3", func(d database.Done) { e.svc.UpdateTicketStatus(op3, "t3", tickets.StatusClosed, d) })
		e.refused("assign a closed ticket", switchboard.EINVALIDTRANSITION, func(d database.Done) {
			e.svc.AssignTicket(op1, "t3", "op2", d)
		})
		e.refused("hijack a closed ticket", switchboard.EINVALIDTRANSITION, func(d database.Done) {
			e.svc.AssignTicket(op1, "t3", "", d)
		})
	})
}

func TestUpdateTicketStatus(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		op1, op2 := operator("op1"), operator("op2")
		statusEvent := func(id string, status int) []switchboard.Event {
			return []switchboard.Event{ev("ticketStatusUpdated", id, []string{uRoom("u1"), opsRoom()}, id, status)}
		}
		e.create(user("u1"), "t1")
		e.refused("new → new", switchboard.EINVALIDTRANSITION, func(d database.Done) {
			e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusNew, d)
		})
		e.refused("new → open", switchboard.EINVALIDTRANSITION, func(d database.Done) {
			e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusOpen, d)
		})
		e.refused("new → 300", switchboard.EINVALIDTRANSITION, func(d database.Done) {
			e.svc.UpdateTicketStatus(op1, "t1", 300, d)
		})
		e.refused("status by the owner", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.UpdateTicketStatus(user("u1"), "t1", tickets.StatusClosed, d)
		})
		e.refused("status of an unknown ticket", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.UpdateTicketStatus(op1, "nope", tickets.StatusClosed, d)
		})

		// Any operator may reject a new ticket.
		e.clock.Add(time.Second)
		evs := e.ok("reject", func(d database.Done) { e.svc.UpdateTicketStatus(op2, "t1", tickets.StatusClosed, d) })
		wantEvents(t, "reject", evs, statusEvent("t1", 10000))
		if tk := e.ticket("t1"); tk.Status != tickets.StatusClosed || tk.HandlerID != "" || tk.ClosedAt != t0.Add(time.Second).UnixMilli() {
			t.Fatalf("rejected ticket = %+v", tk)
		}
		e.noop("close a closed ticket", func(d database.Done) { e.svc.UpdateTicketStatus(op2, "t1", tickets.StatusClosed, d) })
		e.refused("closed → new", switchboard.EINVALIDTRANSITION, func(d database.Done) {
			e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusNew, d)
		})

		// Reopen a rejected ticket: the caller becomes the handler.
		evs = e.ok("reopen rejected", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusOpen, d) })
		wantEvents(t, "reopen", evs, statusEvent("t1", 200))
		if tk := e.ticket("t1"); tk.Status != tickets.StatusOpen || tk.HandlerID != "op1" || tk.HandlerName != "Operator op1" || tk.ClosedAt != 0 {
			t.Fatalf("reopened ticket = %+v", tk)
		}
		e.noop("open → open by the handler", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusOpen, d) })
		e.refused("open → open by another operator", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.UpdateTicketStatus(op2, "t1", tickets.StatusOpen, d)
		})
		e.refused("close by another operator", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.UpdateTicketStatus(op2, "t1", tickets.StatusClosed, d)
		})
		e.refused("open → new", switchboard.EINVALIDTRANSITION, func(d database.Done) {
			e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusNew, d)
		})

		e.clock.Add(time.Second)
		evs = e.ok("close", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusClosed, d) })
		wantEvents(t, "close", evs, statusEvent("t1", 10000))
		if tk := e.ticket("t1"); tk.Status != tickets.StatusClosed || tk.HandlerID != "op1" || tk.ClosedAt != t0.Add(2*time.Second).UnixMilli() {
			t.Fatalf("closed ticket = %+v", tk)
		}

		// Reopened by someone else: op2 takes over.
		evs = e.ok("reopen by op2", func(d database.Done) { e.svc.UpdateTicketStatus(op2, "t1", tickets.StatusOpen, d) })
		wantEvents(t, "reopen by op2", evs, statusEvent("t1", 200))
		if tk := e.ticket("t1"); tk.HandlerID != "op2" || tk.HandlerName != "Operator op2" {
			t.Fatalf("ticket = %+v, want handler op2", tk)
		}
		if got, want := e.members("t1"), []string{"op1:handler:left", "op2:handler:in", "u1:owner:in"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("members = %v, want %v", got, want)
		}
	})
}

func TestAuditTrail(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		op1, op2 := operator("op1"), operator("op2")
		e.ensure(op1)
		e.create(user("u1"), "t1")
		step := func(what string, f func(d database.Done)) {
			t.Helper()
			e.clock.Add(time.Second)
			e.ok(what, f)
		}
		step("accept", func(d database.Done) { e.svc.AcceptTicket(op1, "t1", d) })
		e.noop("accept again", func(d database.Done) { e.svc.AcceptTicket(op1, "t1", d) })
		step("hijack", func(d database.Done) { e.svc.AssignTicket(op2, "t1", "", d) })
		step("assign", func(d database.Done) { e.svc.AssignTicket(op2, "t1", "op1", d) })
		e.refused("close by op2", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.UpdateTicketStatus(op2, "t1", tickets.StatusClosed, d)
		})
		step("close", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusClosed, d) })
		step("reopen", func(d database.Done) { e.svc.UpdateTicketStatus(op2, "t1", tickets.StatusOpen, d) })

		trail, err := tickets.AuditTrail(e.db.DB, "t1")
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			Action           tickets.Action
			Actor            string
			From, To         tickets.Status
			FromHand, ToHand string
			At               int64
		}
		got := make([]row, len(trail))
		for i, r := range trail {
			got[i] = row{r.Action, r.ActorID, r.FromStatus, r.ToStatus, r.FromHandler, r.ToHandler, r.At}
		}
		at := func(s int) int64 { return t0.Add(time.Duration(s) * time.Second).UnixMilli() }
		want := []row{
			{tickets.ActionCreate, "u1", 0, 100, "", "", at(0)},
			{tickets.ActionAccept, "op1", 100, 200, "", "op1", at(1)},
			{tickets.ActionHijack, "op2", 200, 200, "op1", "op2", at(2)},
			{tickets.ActionAssign, "op2", 200, 200, "op2", "op1", at(3)},
			{tickets.ActionClose, "op1", 200, 10000, "op1", "op1", at(4)},
			{tickets.ActionReopen, "op2", 10000, 200, "op1", "op2", at(5)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("audit trail:\n got %+v\nwant %+v", got, want)
		}
		other, err := tickets.AuditTrail(e.db.DB, "nope")
		if err != nil || len(other) != 0 {
			t.Fatalf("trail of an unknown ticket = %v, %v; want empty", other, err)
		}
	})
}

func TestListTickets(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		e.create(user("u1"), "a")
		e.clock.Add(time.Millisecond)
		e.create(user("u2"), "b")
		e.clock.Add(time.Millisecond)
		e.create(programFor(program, "42"), "c")
		e.clock.Add(time.Millisecond)
		e.create(programFor(program, "43"), "d")
		e.clock.Add(time.Millisecond)
		e.create(programFor("program-7", "42"), "e")
		e.clock.Add(time.Millisecond)
		e.create(userIn("other", "u1"), "f")
		e.accept(operator("op1"), "b")

		ctx := context.Background()
		ids := func(c tickets.Caller, status tickets.Status) []string {
			t.Helper()
			ts, _, err := e.svc.ListTickets(ctx, c, tickets.TicketPage{Status: status})
			if err != nil {
				t.Fatal(err)
			}
			out := make([]string, len(ts))
			for i, tk := range ts {
				out[i] = tk.ID
			}
			sort.Strings(out)
			return out
		}
		for _, tc := range []struct {
			name   string
			caller tickets.Caller
			status tickets.Status
			want   []string
		}{
			{"user u1", user("u1"), 0, []string{"a"}},
			{"user u2", user("u2"), 0, []string{"b"}},
			{"user u3", user("u3"), 0, []string{}},
			{"operator", operator("op1"), 0, []string{"a", "b", "c", "d", "e"}},
			{"operator, new", operator("op1"), tickets.StatusNew, []string{"a", "c", "d", "e"}},
			{"operator, open", operator("op1"), tickets.StatusOpen, []string{"b"}},
			{"operator, closed", operator("op1"), tickets.StatusClosed, []string{}},
			{"program-42 for 42", programFor(program, "42"), 0, []string{"c", "d"}},
			{"program-42 over HTTP", tickets.Caller{Principal: programFor(program, "").Principal, UserID: program}, 0, []string{"c", "d"}},
			{"program-7", programFor("program-7", "42"), 0, []string{"e"}},
			{"other tenant's user u1", userIn("other", "u1"), 0, []string{"f"}},
			{"other tenant's operator", operatorIn("other", "op1"), 0, []string{"f"}},
		} {
			if got := ids(tc.caller, tc.status); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s sees %v, want %v", tc.name, got, tc.want)
			}
		}
		// Newest first.
		ts, _, err := e.svc.ListTickets(ctx, operator("op1"), tickets.TicketPage{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 5 || ts[0].ID != "e" || ts[4].ID != "a" {
			t.Fatalf("operator listing order = %v, want newest first", ts)
		}
	})
}

func TestTenantsDoNotCross(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		e.create(user("u1"), "t1")
		e.ok("u1 writes", func(d database.Done) {
			e.svc.SendMessage(user("u1"), "t1", "m1", tickets.MessageInput{Type: 1, Content: "hi", Encoding: "utf-8"}, d)
		})
		e.accept(operator("op1"), "t1")
		e.ok("op1 answers", func(d database.Done) {
			e.svc.SendMessage(operator("op1"), "t1", "m2", tickets.MessageInput{Type: 1, Content: "hello", Encoding: "utf-8"}, d)
		})
		e.create(user("u1"), "t2")

		// Tenant B has an operator and a user with the same ids.
		opB, uB := operatorIn("beta", "op1"), userIn("beta", "u1")
		e.ensure(opB)
		for _, c := range []struct {
			what string
			f    func(d database.Done)
		}{
			{"accept", func(d database.Done) { e.svc.AcceptTicket(opB, "t2", d) }},
			{"hijack", func(d database.Done) { e.svc.AssignTicket(opB, "t1", "", d) }},
			{"assign", func(d database.Done) { e.svc.AssignTicket(opB, "t2", "op1", d) }},
			{"close", func(d database.Done) { e.svc.UpdateTicketStatus(opB, "t1", tickets.StatusClosed, d) }},
			{"reject", func(d database.Done) { e.svc.UpdateTicketStatus(opB, "t2", tickets.StatusClosed, d) }},
			{"operator message", func(d database.Done) {
				e.svc.SendMessage(opB, "t1", "mB1", tickets.MessageInput{Type: 1, Content: "x"}, d)
			}},
			{"user message", func(d database.Done) {
				e.svc.SendMessage(uB, "t1", "mB2", tickets.MessageInput{Type: 1, Content: "x"}, d)
			}},
			{"operator reads", func(d database.Done) { e.svc.UpdateMessageStatus(opB, "m1", 3, "u1", false, d) }},
			{"user reads", func(d database.Done) { e.svc.UpdateMessageStatus(uB, "m2", 3, "op1", false, d) }},
		} {
			e.refused("tenant B "+c.what, switchboard.ENOTFOUND, c.f)
		}
		e.noop("tenant B reads all", func(d database.Done) { e.svc.UpdateMessageStatus(uB, "all", 3, "op1", false, d) })
		for _, c := range []tickets.Caller{opB, uB} {
			if _, _, err := e.svc.Messages(context.Background(), c, "t1", "", 0); codeOf(err) != switchboard.ENOTFOUND {
				t.Fatalf("tenant B %s Messages = %v, want NOT_FOUND", c.UserID, err)
			}
			if ts, _, err := e.svc.ListTickets(context.Background(), c, tickets.TicketPage{}); err != nil || len(ts) != 0 {
				t.Fatalf("tenant B %s lists %v, %v; want nothing", c.UserID, ts, err)
			}
			if _, err := e.svc.Typing(context.Background(), c, "t1"); codeOf(err) != switchboard.ENOTFOUND {
				t.Fatalf("tenant B %s Typing = %v, want NOT_FOUND", c.UserID, err)
			}
		}
	})
}

func TestTyping(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.create(user("u1"), "t1")
		evs, err := e.svc.Typing(ctx, user("u1"), "t1")
		if err != nil || len(evs) != 0 {
			t.Fatalf("typing with no handler = %v, %v; want nothing, nil", evs, err)
		}
		e.accept(operator("op1"), "t1")
		evs, err = e.svc.Typing(ctx, user("u1"), "t1")
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, "owner typing", switchboard.ForProtocol(evs, switchboard.ProtocolLivechat),
			[]switchboard.Event{ev("typing", "t1", []string{oRoom("op1")}, "t1", "User u1")})
		evs, err = e.svc.Typing(ctx, operator("op1"), "t1")
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, "handler typing", switchboard.ForProtocol(evs, switchboard.ProtocolLivechat),
			[]switchboard.Event{ev("typing", "t1", []string{uRoom("u1")}, "t1", "Operator op1")})
		if _, err := e.svc.Typing(ctx, operator("op2"), "t1"); codeOf(err) != switchboard.EFORBIDDEN {
			t.Fatalf("typing by another operator = %v, want FORBIDDEN", err)
		}
		if _, err := e.svc.Typing(ctx, user("u2"), "t1"); codeOf(err) != switchboard.ENOTFOUND {
			t.Fatalf("typing by another user = %v, want NOT_FOUND", err)
		}
	})
}

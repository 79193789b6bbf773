package tickets_test

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
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

// admin is an administrator of the default tenant.
func admin(id string) tickets.Caller {
	c := operator(id)
	c.Principal.Admin = true
	return c
}

// makeTeam creates team id with members (operators already stored)
// through the teams' own API, as an administrator does.
func makeTeam(t *testing.T, teams *operators.Teams, id string, members ...string) {
	t.Helper()
	ctx, p := context.Background(), admin("boss").Principal
	if _, _, err := teams.Put(ctx, p, id, "Team "+id, ""); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if err := teams.AddMember(ctx, p, id, m); err != nil {
			t.Fatal(err)
		}
	}
}

// createFor opens ticket id for user u for team and returns the outcome.
func createFor(svc *tickets.Service, u, id, team string) error {
	ch := make(chan error, 1)
	svc.CreateTicket(user(u), id, tickets.TicketInput{TicketName: id, Team: team}, func(err error) { ch <- err })
	return <-ch
}

// TestCreateTicketForTeam: a ticket opened for a team carries it (stored,
// in the audit trail, as teamId on the wire); one for a team the tenant
// does not have is NOT_FOUND and stores nothing.
func TestCreateTicketForTeam(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		teams := operators.NewTeams(e.db, e.c, operators.TeamsOptions{})
		makeTeam(t, teams, "billing")
		e.refused("createTicket for an unknown team", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.CreateTicket(user("u1"), "t1", tickets.TicketInput{Team: "sales"}, d)
		})
		evs := e.ok("createTicket for billing", func(d database.Done) {
			e.svc.CreateTicket(user("u1"), "t1", tickets.TicketInput{Team: "billing"}, d)
		})
		if got := e.ticket("t1").Team; got != "billing" {
			t.Errorf("stored team %q", got)
		}
		if len(evs) == 0 || evs[0].Name != "ticketCreated" || evs[0].Args[0].(map[string]any)["teamId"] != "billing" {
			t.Errorf("ticketCreated %+v", evs)
		}
		trail, err := tickets.AuditTrail(e.db.DB, "t1")
		if err != nil || len(trail) != 1 || trail[0].ToTeam != "billing" {
			t.Errorf("audit trail %+v, %v", trail, err)
		}
		// A ticket of no team has no teamId on the wire.
		evs = e.ok("createTicket", func(d database.Done) { e.svc.CreateTicket(user("u1"), "t2", tickets.TicketInput{}, d) })
		if _, has := evs[0].Args[0].(map[string]any)["teamId"]; has {
			t.Errorf("a ticket of no team has teamId: %v", evs[0].Args[0])
		}
	})
}

// TestTransferTicket: transfers to a person and to a team through the
// state machine, audited, with their events and the note in the
// conversation; and every refusal changes nothing.
func TestTransferTicket(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		for _, op := range []string{"a", "b", "c", "boss"} {
			e.ensure(operator(op))
		}
		teams := operators.NewTeams(e.db, e.c, operators.TeamsOptions{})
		makeTeam(t, teams, "billing", "b")
		makeTeam(t, teams, "sales", "c")
		e.create(user("u1"), "t1")
		e.accept(operator("a"), "t1")
		transfer := func(c tickets.Caller, tr tickets.Transfer) func(database.Done) {
			return func(d database.Done) { e.svc.TransferTicket(c, "t1", tr, d) }
		}

		e.refused("transfer by another operator", switchboard.EFORBIDDEN, transfer(operator("b"), tickets.Transfer{OperatorID: "b"}))
		e.refused("transfer to nobody", switchboard.EINVALID, transfer(operator("a"), tickets.Transfer{}))
		e.refused("transfer to both", switchboard.EINVALID, transfer(operator("a"), tickets.Transfer{OperatorID: "b", Team: "sales"}))
		e.refused("transfer to an unknown team", switchboard.ENOTFOUND, transfer(operator("a"), tickets.Transfer{Team: "legal"}))
		e.refused("transfer to an unknown operator", switchboard.ENOTFOUND, transfer(operator("a"), tickets.Transfer{OperatorID: "zed"}))
		e.refused("transfer to an end user", switchboard.ENOTFOUND, transfer(operator("a"), tickets.Transfer{OperatorID: "u1"}))
		e.refused("transfer by the owner", switchboard.EFORBIDDEN, transfer(user("u1"), tickets.Transfer{OperatorID: "b"}))
		e.refused("transfer of an unknown ticket", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.TransferTicket(operator("a"), "nope", tickets.Transfer{OperatorID: "b"}, d)
		})
		e.noop("transfer to its handler", transfer(operator("a"), tickets.Transfer{OperatorID: "a"}))

		// To a person: a reassignment, with the note (an internal note).
		evs := e.ok("transfer to b", transfer(operator("a"), tickets.Transfer{OperatorID: "b", Note: "wants a refund"}))
		if tk := e.ticket("t1"); tk.Status != tickets.StatusOpen || tk.HandlerID != "b" || tk.Team != "" {
			t.Fatalf("after the transfer to b: %+v", tk)
		}
		assertEvents(t, evs, "notifyOfAssignment>"+oRoom("a"), "notifyOfAssignment>"+oRoom("b"),
			"ticketAccepted>"+uRoom("u1"), "ticketTransferred>"+opsRoom(), "noteAdded>"+opsRoom())
		detail := evs[len(evs)-2].Args[1].(map[string]any)
		if detail["note"] != "wants a refund" || detail["operatorId"] != "b" || detail["byId"] != "a" {
			t.Errorf("ticketTransferred %v", detail)
		}

		// b is the handler now: a may not move it; an administrator may.
		e.refused("transfer by the former handler", switchboard.EFORBIDDEN, transfer(operator("a"), tickets.Transfer{Team: "sales"}))
		evs = e.ok("transfer to sales by an administrator", transfer(admin("boss"), tickets.Transfer{Team: "sales", Note: "a sales question"}))
		if tk := e.ticket("t1"); tk.Status != tickets.StatusNew || tk.HandlerID != "" || tk.Team != "sales" || tk.AcceptedAt != 0 {
			t.Fatalf("after the transfer to sales: %+v", tk)
		}
		assertEvents(t, evs, "notifyOfAssignment>"+oRoom("b"), "ticketStatusUpdated>"+uRoom("u1"),
			"ticketTransferred>"+opsRoom(), "noteAdded>"+opsRoom())
		if w := evs[len(evs)-2].Args[0].(map[string]any); w["teamId"] != "sales" || w["statusId"] != 100 {
			t.Errorf("ticketTransferred's ticket %v", w)
		}
		e.noop("transfer to the team it waits for", transfer(operator("a"), tickets.Transfer{Team: "sales"}))
		// Waiting, it has no handler: any operator may pass it on.
		evs = e.ok("transfer of a waiting ticket", transfer(operator("a"), tickets.Transfer{Team: "billing"}))
		assertEvents(t, evs, "ticketTransferred>"+opsRoom())

		trail, err := tickets.AuditTrail(e.db.DB, "t1")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range trail {
			got = append(got, fmt.Sprintf("%s:%s %d/%s/%s→%d/%s/%s", r.Action, r.ActorID, r.FromStatus, r.FromHandler,
				r.FromTeam, r.ToStatus, r.ToHandler, r.ToTeam))
		}
		want := []string{"create:u1 0//→100//", "accept:a 100//→200/a/", "assign:a 200/a/→200/b/",
			"transfer:boss 200/b/→100//sales", "transfer:a 100//sales→100//billing"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit trail\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		var notes []string
		if err := e.db.Model(&chat.Message{}).Where("session_id = ? AND kind = ?", "t1", chat.KindSysNotif).
			Order("seq").Pluck("content", &notes).Error; err != nil {
			t.Fatal(err)
		}
		// The system messages record the moves; the notes are internal
		// notes, which no system message repeats.
		if len(notes) != 4 || !strings.HasSuffix(notes[1], "transferred the ticket to Operator b") ||
			!strings.HasSuffix(notes[2], "to the team sales; it waits in the team's queue") {
			t.Errorf("system messages %q", notes)
		}
		var internal []string
		if err := e.db.Model(&tickets.Note{}).Where("ticket_id = ?", "t1").Order("seq").Pluck("content", &internal).Error; err != nil {
			t.Fatal(err)
		}
		if strings.Join(internal, "|") != "wants a refund|a sales question" {
			t.Errorf("internal notes %q", internal)
		}

		// Closed: reopen first.
		e.ok("accept", func(d database.Done) { e.svc.AcceptTicket(operator("b"), "t1", d) })
		e.ok("close", func(d database.Done) { e.svc.UpdateTicketStatus(operator("b"), "t1", tickets.StatusClosed, d) })
		e.refused("transfer of a closed ticket", switchboard.EINVALIDTRANSITION, transfer(admin("boss"), tickets.Transfer{Team: "sales"}))
	})
}

// assertEvents checks the events' names and first rooms, in order.
func assertEvents(t *testing.T, evs []switchboard.Event, want ...string) {
	t.Helper()
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Name+">"+ev.To[0])
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(got, " "), strings.Join(want, " "))
	}
}

// teamRouted is routed with the teams of its database.
func teamRouted(t *testing.T, r *routed) *operators.Teams {
	t.Helper()
	return operators.NewTeams(r.db, r.c, operators.TeamsOptions{Changed: r.svc.RouteQueue, Disbanded: r.svc.LeaveTeam})
}

// TestRoutingTeamsUnderRaces: team tickets and tickets of no team opened
// from many goroutines while operators close theirs, on two nodes
// sharing PostgreSQL (one on SQLite): replaying the audit trail, every
// team ticket went to a member of its team, none was assigned twice, no
// operator went over its capacity, and the operators of no team served
// tickets of no team only.
func TestRoutingTeamsUnderRaces(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := testdb.Open(t, d)
			presence := &operators.Presence{}
			nodes := []*routed{newRouted(t, db, tickets.RoutingLeastBusy, presence)}
			if d == "postgres" {
				nodes = append(nodes, newRouted(t, db, tickets.RoutingRoundRobin, presence))
			}
			capacity := map[string]int{"a": 1, "b": 2, "c": 2, "d": 1, "e": 2}
			nodes[0].addOperators(capacity)
			teams := teamRouted(t, nodes[0])
			members := map[string]map[string]bool{"billing": {"a": true, "b": true}, "sales": {"b": true, "c": true}}
			makeTeam(t, teams, "billing", "a", "b")
			makeTeam(t, teams, "sales", "b", "c")
			queues := []string{"", "billing", "sales"}
			const n = 60
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := createFor(nodes[i%len(nodes)].svc, fmt.Sprintf("u%d", i), fmt.Sprintf("t%03d", i), queues[i%3]); err != nil {
						t.Errorf("create: %v", err)
					}
				}()
			}
			for op := range capacity {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewSource(int64(op[0])))
					for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); {
						node := nodes[rng.Intn(len(nodes))]
						st := node.state()
						closed := 0
						for id, tk := range st {
							if tk.Status == tickets.StatusClosed {
								closed++
							}
							if tk.HandlerID == op && tk.Status == tickets.StatusOpen {
								_ = node.run(func(done database.Done) {
									node.svc.UpdateTicketStatus(operator(op), id, tickets.StatusClosed, done)
								})
							}
						}
						if closed == n {
							return
						}
						time.Sleep(time.Duration(rng.Intn(20)) * time.Millisecond)
					}
				}()
			}
			wg.Wait()
			st := nodes[0].state()
			closed := 0
			for _, tk := range st {
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
			open := map[string]int{}
			served := map[string]map[string]int{}
			for _, e := range rows {
				if e.FromStatus == tickets.StatusOpen {
					open[e.FromHandler]--
				}
				if e.ToStatus != tickets.StatusOpen || e.FromStatus == tickets.StatusOpen {
					continue
				}
				open[e.ToHandler]++
				if open[e.ToHandler] > capacity[e.ToHandler] {
					t.Fatalf("%s holds %d open tickets, capacity %d", e.ToHandler, open[e.ToHandler], capacity[e.ToHandler])
				}
				team := st[e.TicketID].Team
				if team != "" && !members[team][e.ToHandler] {
					t.Errorf("%s of team %s went to %s, not a member", e.TicketID, team, e.ToHandler)
				}
				if served[e.ToHandler] == nil {
					served[e.ToHandler] = map[string]int{}
				}
				served[e.ToHandler][team]++
			}
			assertOneAssignmentEach(t, db)
			for _, op := range []string{"d", "e"} {
				if served[op]["billing"]+served[op]["sales"] > 0 || served[op][""] == 0 {
					t.Errorf("%s, in no team, served %v", op, served[op])
				}
			}
			t.Logf("served per operator and team: %v", served)
		})
	}
}

// TestRoutingTeamQueues: a team ticket waits while its members are busy,
// though others are free, and is told its place in its team's queue;
// a ticket of no team behind it is not held up. Transferred to a team, a
// ticket goes to a member other than the operator who gave it away.
// Deleting a team gives its waiting tickets to anyone.
func TestRoutingTeamQueues(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			r := newRouted(t, testdb.Open(t, d), tickets.RoutingLeastBusy, &operators.Presence{})
			r.addOperators(map[string]int{"a": 1, "b": 1, "c": 3})
			teams := teamRouted(t, r)
			makeTeam(t, teams, "billing", "a", "b")
			makeTeam(t, teams, "vip", "a")
			handler := func(id string) string { tk := r.state()[id]; return fmt.Sprint(tk.Status, "/", tk.HandlerID) }

			for i, team := range []string{"billing", "billing", "billing", "", ""} {
				if err := createFor(r.svc, "u", fmt.Sprintf("t%d", i), team); err != nil {
					t.Fatal(err)
				}
			}
			if !waitFor(5*time.Second, func() bool {
				by := r.openBy()
				return by["a"] == 1 && by["b"] == 1 && by["c"] == 2 && r.told()["t2"] == 1
			}) {
				t.Fatalf("open %v, told %v; want a and b one billing ticket each, c both others, t2 first of billing",
					r.openBy(), r.told())
			}
			if h := handler("t2"); h != "100/" {
				t.Errorf("t2 is %s, want waiting for billing though c is free", h)
			}

			// The handler of t0 passes it to vip, whose only member is a.
			var t0Handler string
			for _, id := range []string{"t0", "t1"} {
				if tk := r.state()[id]; tk.HandlerID == "a" {
					t0Handler = id
				}
			}
			if err := r.run(func(done database.Done) {
				r.svc.TransferTicket(operator("a"), t0Handler, tickets.Transfer{Team: "vip"}, done)
			}); err != nil {
				t.Fatal(err)
			}
			// a is free now: it gets t2 (billing), never the ticket it gave away.
			if !waitFor(5*time.Second, func() bool { return handler("t2") == "200/a" }) {
				t.Fatalf("t2 is %s, want a's", handler("t2"))
			}
			time.Sleep(100 * time.Millisecond)
			if h := handler(t0Handler); h != "100/" {
				t.Errorf("%s, transferred away by a, is %s: want waiting", t0Handler, h)
			}

			// Deleting vip: its ticket is for no team, and c takes it.
			if err := teams.Delete(context.Background(), admin("boss").Principal, "vip"); err != nil {
				t.Fatal(err)
			}
			if !waitFor(5*time.Second, func() bool { return handler(t0Handler) == "200/c" }) {
				t.Fatalf("%s after vip was deleted: %s, want c's", t0Handler, handler(t0Handler))
			}
			if tk := r.state()[t0Handler]; tk.Team != "" {
				t.Errorf("%s is still for team %q", t0Handler, tk.Team)
			}
		})
	}
}

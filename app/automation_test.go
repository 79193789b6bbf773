package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/jobs"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/operators"
	"github.com/switchboard-chat/switchboard/tickets"
)

// automationStart is when the tickets of these tests are opened.
var automationStart = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// heard keeps the livechat events one node published.
type heard struct {
	mu     sync.Mutex
	events []switchboard.Event
}

func (h *heard) Publish(evs []switchboard.Event) {
	h.mu.Lock()
	h.events = append(h.events, switchboard.ForProtocol(evs, switchboard.ProtocolLivechat)...)
	h.mu.Unlock()
}

// named returns the events called name about ticket id.
func (h *heard) named(name, id string) []switchboard.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []switchboard.Event
	for _, ev := range h.events {
		if ev.Name == name && ev.SessionID == id {
			out = append(out, ev)
		}
	}
	return out
}

// automationNode is one server's tickets service and job runner on a
// shared database; its service's clock is the test's.
type automationNode struct {
	svc    *tickets.Service
	runner *jobs.Runner
	heard  *heard
}

func newAutomationNode(t *testing.T, db *database.DB, name string, env map[string]string, now func() time.Time) *automationNode {
	t.Helper()
	h := &heard{}
	committer := database.NewCommitter(db, h, database.CommitterOptions{})
	t.Cleanup(committer.Close)
	svc := tickets.NewService(db, committer, tickets.Options{Now: now})
	t.Cleanup(svc.Close)
	cfg, err := Load("switchboard", nil, testEnv(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newJobs(cfg, committer, svc, jobs.Options{Node: name, Clock: jobs.NewManualClock(automationStart),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return &automationNode{svc: svc, runner: r, heard: h}
}

// must runs one service command and fails the test if it is refused.
func must(t *testing.T, what string, f func(database.Done)) {
	t.Helper()
	ch := make(chan error, 1)
	f(func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func automationCaller(id string, role switchboard.Role) tickets.Caller {
	p := switchboard.Principal{ID: id, Role: role, DisplayName: id, Tenant: "acme",
		ExpiresAt: automationStart.Add(1000 * time.Hour)}
	return tickets.Caller{Principal: p, UserID: id, Name: id, Socket: "sock-" + id}
}

// openTickets has ann open the tickets ids at the node's current time;
// bob accepts the first accepted of them.
func openTickets(t *testing.T, n *automationNode, accepted int, ids ...string) {
	t.Helper()
	ann, bob := automationCaller("ann", switchboard.RoleUser), automationCaller("bob", switchboard.RoleOperator)
	for i, id := range ids {
		must(t, "create "+id, func(d database.Done) {
			n.svc.CreateTicket(ann, id, tickets.TicketInput{TicketName: id}, d)
		})
		if i < accepted {
			must(t, "accept "+id, func(d database.Done) { n.svc.AcceptTicket(bob, id, d) })
		}
	}
}

// runSlot runs job for slot on n and says whether n ran it.
func runSlot(t *testing.T, n *automationNode, job string, slot time.Time) bool {
	t.Helper()
	out, err := n.runner.RunSlot(context.Background(), job, slot)
	if err != nil || out.Err != nil {
		t.Fatalf("%s at %s on %s: %v, %v", job, slot, n.runner.Node(), err, out.Err)
	}
	return out.Ran
}

// ticketStatus reads a ticket's status.
func ticketStatus(t *testing.T, db *database.DB, id string) tickets.Status {
	t.Helper()
	var s tickets.Status
	if err := db.Raw(`SELECT status FROM tickets WHERE id = ?`, id).Scan(&s).Error; err != nil {
		t.Fatal(err)
	}
	return s
}

// systemMessages counts the automation's system messages in a ticket's
// conversation.
func systemMessages(t *testing.T, db *database.DB, id string) int {
	t.Helper()
	var n int
	if err := db.Raw(`SELECT COUNT(*) FROM messages WHERE session_id = ? AND kind = ? AND sender_id = ?`,
		id, chat.KindSysNotif, "switchboard:automation").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// auditedBy counts a ticket's audit rows of action by the automation.
func auditedBy(t *testing.T, db *database.DB, id string, action tickets.Action) int {
	t.Helper()
	trail, err := tickets.AuditTrail(db.DB, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range trail {
		if e.Action == action && e.ActorID == "switchboard:automation" {
			n++
		}
	}
	return n
}

// The two automations on one node, judged at their slots' times: an open
// ticket idle for a day is closed once, with its audit row, system
// message and status event; one with a recent message is left open; a
// ticket waiting unaccepted is escalated once.
func TestTicketAutomationJobs(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			var mu sync.Mutex
			now := automationStart
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			n := newAutomationNode(t, db, "a", nil, clock)

			openTickets(t, n, 2, "idle", "busy", "waiting")
			mu.Lock()
			now = automationStart.Add(20 * time.Hour)
			mu.Unlock()
			must(t, "message", func(d database.Done) {
				n.svc.SendMessage(automationCaller("ann", switchboard.RoleUser), "busy", "m1",
					tickets.MessageInput{Type: 1, Content: "still there?"}, d)
			})

			// Nine minutes: not yet waited long enough to escalate.
			runSlot(t, n, EscalateJob, automationStart.Add(9*time.Minute))
			if got := n.heard.named("ticketEscalated", "waiting"); len(got) != 0 {
				t.Fatalf("escalated after 9 minutes: %+v", got)
			}
			slot := automationStart.Add(10 * time.Minute)
			runSlot(t, n, EscalateJob, slot)
			runSlot(t, n, EscalateJob, slot.Add(time.Minute))
			escalated := n.heard.named("ticketEscalated", "waiting")
			if len(escalated) != 1 || systemMessages(t, db, "waiting") != 1 || auditedBy(t, db, "waiting", tickets.ActionEscalate) != 1 {
				t.Fatalf("escalations %+v, %d messages, %d audit rows; want one of each", escalated,
					systemMessages(t, db, "waiting"), auditedBy(t, db, "waiting", tickets.ActionEscalate))
			}
			body := escalated[0].Args[0].(map[string]any)
			if body["ticketId"] != "waiting" || body["waitingSeconds"] != int64(600) ||
				escalated[0].To[0] != switchboard.OperatorsRoom("acme") {
				t.Errorf("ticketEscalated %+v to %v", body, escalated[0].To)
			}
			for _, id := range []string{"idle", "busy"} {
				if got := n.heard.named("ticketEscalated", id); len(got) != 0 {
					t.Errorf("accepted ticket %s escalated", id)
				}
			}

			closeSlot := automationStart.Add(24*time.Hour + 5*time.Minute)
			runSlot(t, n, AutoCloseJob, closeSlot)
			runSlot(t, n, AutoCloseJob, closeSlot.Add(5*time.Minute))
			if s := ticketStatus(t, db, "idle"); s != tickets.StatusClosed {
				t.Fatalf("idle ticket is %d, want closed", s)
			}
			if got := n.heard.named("ticketStatusUpdated", "idle"); len(got) != 1 ||
				systemMessages(t, db, "idle") != 1 || auditedBy(t, db, "idle", tickets.ActionClose) != 1 {
				t.Fatalf("closing: events %+v, %d messages, %d audit rows; want one of each", got,
					systemMessages(t, db, "idle"), auditedBy(t, db, "idle", tickets.ActionClose))
			}
			if s := ticketStatus(t, db, "busy"); s != tickets.StatusOpen || systemMessages(t, db, "busy") != 0 {
				t.Errorf("busy ticket is %d with %d system messages, want open and none", s, systemMessages(t, db, "busy"))
			}
			if s := ticketStatus(t, db, "waiting"); s != tickets.StatusNew {
				t.Errorf("waiting ticket is %d, want new: only open tickets are closed", s)
			}
			// A day after its message the busy ticket is idle too.
			runSlot(t, n, AutoCloseJob, automationStart.Add(44*time.Hour+5*time.Minute))
			if s := ticketStatus(t, db, "busy"); s != tickets.StatusClosed {
				t.Errorf("busy ticket is %d a day after its last message, want closed", s)
			}
		})
	}
}

// Set to 0, an automation is not scheduled at all.
func TestTicketAutomationsOff(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	n := newAutomationNode(t, db, "a", map[string]string{"SWITCHBOARD_AUTO_CLOSE_AFTER": "0",
		"SWITCHBOARD_ESCALATE_AFTER": "0"}, func() time.Time { return automationStart })
	openTickets(t, n, 1, "idle", "waiting")
	for _, job := range []string{AutoCloseJob, EscalateJob} {
		if _, err := n.runner.RunSlot(context.Background(), job, automationStart.Add(48*time.Hour)); err == nil {
			t.Errorf("%s is scheduled though set to 0", job)
		}
	}
	if ticketStatus(t, db, "idle") != tickets.StatusOpen || systemMessages(t, db, "waiting") != 0 {
		t.Error("an automation set to 0 acted")
	}
}

// secondPool opens db's PostgreSQL database again, with connections of
// its own, as a second server process would; a SQLite file is shared
// through the one pool (SQLite servers do not share a file).
func secondPool(t *testing.T, db *database.DB) *database.DB {
	t.Helper()
	if db.Dialect != "postgres" {
		return db
	}
	var name string
	if err := db.Raw(`SELECT current_database()`).Scan(&name).Error; err != nil {
		t.Fatal(err)
	}
	base := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
	if base == "" {
		base = testdb.DefaultPostgres
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	other, err := database.OpenWith(u.String(), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	return other
}

// Two servers on one database, each running both automations at every
// slot: each slot runs on one of them, so the idle ticket is closed once
// and the waiting one escalated once, one event and one system message
// each between the two.
func TestTicketAutomationsTwoNodes(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			clock := func() time.Time { return automationStart }
			a := newAutomationNode(t, db, "a", nil, clock)
			b := newAutomationNode(t, secondPool(t, db), "b", nil, clock)
			openTickets(t, a, 1, "idle", "waiting")

			slots := map[string][]time.Time{}
			for i := range 5 {
				slots[EscalateJob] = append(slots[EscalateJob], automationStart.Add(time.Duration(10+i)*time.Minute))
				slots[AutoCloseJob] = append(slots[AutoCloseJob], automationStart.Add(24*time.Hour+time.Duration(5*i)*time.Minute))
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ran := map[string]int{}
			for job, times := range slots {
				for _, slot := range times {
					for _, n := range []*automationNode{a, b} {
						wg.Add(1)
						go func() {
							defer wg.Done()
							out, err := n.runner.RunSlot(context.Background(), job, slot)
							if err != nil || out.Err != nil {
								t.Errorf("%s at %s on %s: %v, %v", job, slot, n.runner.Node(), err, out.Err)
							}
							if out.Ran {
								mu.Lock()
								ran[job]++
								mu.Unlock()
							}
						}()
					}
				}
			}
			wg.Wait()
			for job, times := range slots {
				if ran[job] != len(times) {
					t.Errorf("%s ran %d times over %d slots", job, ran[job], len(times))
				}
			}
			closes := len(a.heard.named("ticketStatusUpdated", "idle")) + len(b.heard.named("ticketStatusUpdated", "idle"))
			escalations := len(a.heard.named("ticketEscalated", "waiting")) + len(b.heard.named("ticketEscalated", "waiting"))
			if closes != 1 || escalations != 1 {
				t.Errorf("%d close events and %d escalation events, want one each", closes, escalations)
			}
			if m := systemMessages(t, db, "idle"); m != 1 {
				t.Errorf("%d system messages in the closed ticket, want 1", m)
			}
			if m := systemMessages(t, db, "waiting"); m != 1 {
				t.Errorf("%d system messages in the escalated ticket, want 1", m)
			}
			if ticketStatus(t, db, "idle") != tickets.StatusClosed || auditedBy(t, db, "idle", tickets.ActionClose) != 1 {
				t.Error("the idle ticket was not closed once")
			}
		})
	}
}

// A ticket of a team is escalated to the team's operators and the
// tenant's administrators (the supervisors), not to every operator; one
// of no team still to every operator.
func TestEscalationOfTeamTicket(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			n := newAutomationNode(t, db, "a", nil, func() time.Time { return automationStart })
			for _, id := range []string{"bob", "cy", "dee"} {
				if err := db.Create(&chat.User{Tenant: "acme", ID: id, Role: string(switchboard.RoleOperator),
					FullName: id}).Error; err != nil {
					t.Fatal(err)
				}
			}
			committer := database.NewCommitter(db, nil, database.CommitterOptions{})
			t.Cleanup(committer.Close)
			teams := operators.NewTeams(db, committer, operators.TeamsOptions{})
			boss := automationCaller("boss", switchboard.RoleOperator).Principal
			boss.Admin = true
			ctx := context.Background()
			if _, _, err := teams.Put(ctx, boss, "billing", "Billing", ""); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"bob", "cy"} {
				if err := teams.AddMember(ctx, boss, "billing", id); err != nil {
					t.Fatal(err)
				}
			}
			ann := automationCaller("ann", switchboard.RoleUser)
			must(t, "create for billing", func(d database.Done) {
				n.svc.CreateTicket(ann, "team-ticket", tickets.TicketInput{Team: "billing"}, d)
			})
			must(t, "create", func(d database.Done) { n.svc.CreateTicket(ann, "plain-ticket", tickets.TicketInput{}, d) })
			runSlot(t, n, EscalateJob, automationStart.Add(10*time.Minute))

			team := n.heard.named("ticketEscalated", "team-ticket")
			want := []string{switchboard.AdminsRoom("acme"), switchboard.OperatorRoom("acme", "bob"),
				switchboard.OperatorRoom("acme", "cy")}
			if len(team) != 1 || fmt.Sprint(team[0].To) != fmt.Sprint(want) {
				t.Errorf("team ticket escalated %+v, want once to %v", team, want)
			}
			plain := n.heard.named("ticketEscalated", "plain-ticket")
			if len(plain) != 1 || fmt.Sprint(plain[0].To) != fmt.Sprint([]string{switchboard.OperatorsRoom("acme")}) {
				t.Errorf("plain ticket escalated %+v, want once to the operators", plain)
			}
		})
	}
}

package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/tickets"
)

// movableClock is a service clock the test sets.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *movableClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// say has who send a message in ticket id at after automationStart.
func say(t *testing.T, n *automationNode, clock *movableClock, who tickets.Caller, id, msgID string, after time.Duration) {
	t.Helper()
	clock.Set(automationStart.Add(after))
	must(t, "message "+msgID, func(d database.Done) {
		n.svc.SendMessage(who, id, msgID, tickets.MessageInput{Type: 1, Content: "text of " + msgID}, d)
	})
}

// The reminder at its slots: a user waiting five minutes for a reply
// gets its handler one ticketReminder, counted from its first unanswered
// message, and no more in that wait; a reply ends the wait and the next
// message starts a new one, which is reminded again. A ticket whose user
// was answered, and a new ticket (escalation is for those), are not.
func TestReminderJob(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			clock := &movableClock{now: automationStart}
			n := newAutomationNode(t, db, "a", nil, clock.Now)
			ann, bob := automationCaller("ann", switchboard.RoleUser), automationCaller("bob", switchboard.RoleOperator)
			openTickets(t, n, 2, "waiting", "answered", "queued")
			say(t, n, clock, ann, "waiting", "w1", time.Minute)
			say(t, n, clock, ann, "waiting", "w2", 3*time.Minute)
			say(t, n, clock, ann, "answered", "a1", time.Minute)
			say(t, n, clock, bob, "answered", "a2", 2*time.Minute)
			say(t, n, clock, ann, "queued", "q1", time.Minute)

			reminders := func() []switchboard.Event { return n.heard.named("ticketReminder", "waiting") }
			runSlot(t, n, RemindJob, automationStart.Add(5*time.Minute))
			if got := reminders(); len(got) != 0 {
				t.Fatalf("reminded after 4 minutes of waiting: %+v", got)
			}
			for _, m := range []time.Duration{6, 7, 20} {
				runSlot(t, n, RemindJob, automationStart.Add(m*time.Minute))
			}
			got := reminders()
			if len(got) != 1 || auditedBy(t, db, "waiting", tickets.ActionRemind) != 1 {
				t.Fatalf("%d reminders and %d remind rows in one wait, want one each", len(got),
					auditedBy(t, db, "waiting", tickets.ActionRemind))
			}
			body := got[0].Args[0].(map[string]any)
			if body["ticketId"] != "waiting" || body["waitingSeconds"] != int64(300) ||
				body["waitingSince"] != "2026-03-10T00:01:00.000Z" || len(got[0].To) != 1 ||
				got[0].To[0] != switchboard.OperatorRoom("acme", "bob") {
				t.Errorf("ticketReminder %+v to %v, want the wait since w1 to bob", body, got[0].To)
			}
			if m := systemMessages(t, db, "waiting"); m != 0 {
				t.Errorf("%d system messages in the conversation, want none: the user would see them", m)
			}
			for _, id := range []string{"answered", "queued"} {
				if got := n.heard.named("ticketReminder", id); len(got) != 0 {
					t.Errorf("ticket %s reminded: %+v", id, got)
				}
			}

			// Bob answers; Ann's next message starts a new wait.
			say(t, n, clock, bob, "waiting", "w3", 21*time.Minute)
			runSlot(t, n, RemindJob, automationStart.Add(25*time.Minute))
			say(t, n, clock, ann, "waiting", "w4", 30*time.Minute)
			runSlot(t, n, RemindJob, automationStart.Add(34*time.Minute))
			if got := reminders(); len(got) != 1 {
				t.Fatalf("%d reminders before the new wait reached 5 minutes, want 1", len(got))
			}
			runSlot(t, n, RemindJob, automationStart.Add(35*time.Minute))
			runSlot(t, n, RemindJob, automationStart.Add(36*time.Minute))
			if got := reminders(); len(got) != 2 || auditedBy(t, db, "waiting", tickets.ActionRemind) != 2 {
				t.Fatalf("%d reminders over two waits, want 2", len(got))
			}
		})
	}
}

// Two servers running the reminder at the same slots: one reminder.
func TestReminderTwoNodes(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			clock := func() time.Time { return automationStart }
			a := newAutomationNode(t, db, "a", nil, clock)
			b := newAutomationNode(t, secondPool(t, db), "b", nil, clock)
			openTickets(t, a, 1, "waiting")
			must(t, "message", func(d database.Done) {
				a.svc.SendMessage(automationCaller("ann", switchboard.RoleUser), "waiting", "m1",
					tickets.MessageInput{Type: 1, Content: "hello?"}, d)
			})
			var wg sync.WaitGroup
			for i := range 5 {
				slot := automationStart.Add(time.Duration(5+i) * time.Minute)
				for _, n := range []*automationNode{a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						out, err := n.runner.RunSlot(context.Background(), RemindJob, slot)
						if err != nil || out.Err != nil {
							t.Errorf("%s on %s: %v, %v", slot, n.runner.Node(), err, out.Err)
						}
					}()
				}
			}
			wg.Wait()
			events := len(a.heard.named("ticketReminder", "waiting")) + len(b.heard.named("ticketReminder", "waiting"))
			if events != 1 || auditedBy(t, db, "waiting", tickets.ActionRemind) != 1 {
				t.Errorf("%d reminders and %d remind rows between two nodes, want one each", events,
					auditedBy(t, db, "waiting", tickets.ActionRemind))
			}
		})
	}
}

// SWITCHBOARD_REMIND_AFTER=0 schedules no reminder.
func TestReminderOff(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	n := newAutomationNode(t, db, "a", map[string]string{"SWITCHBOARD_REMIND_AFTER": "0"},
		func() time.Time { return automationStart })
	if _, err := n.runner.RunSlot(context.Background(), RemindJob, automationStart.Add(time.Hour)); err == nil {
		t.Error("the reminder is scheduled though set to 0")
	}
}

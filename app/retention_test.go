package app

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/privacy"
	"github.com/switchboard-chat/switchboard/tickets"
)

// count runs a COUNT(*) query.
func count(t *testing.T, db *database.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// retentionTickets opens three tickets of Ann that Bob handles, with a
// visitor context and a message each way: "old" closed an hour in,
// "recent" closed twenty days in, "open" never closed; and Dora's
// "dora-old", closed an hour in. Both give their email.
func retentionTickets(t *testing.T, n *automationNode, clock *movableClock) {
	t.Helper()
	ann, bob := automationCaller("ann", switchboard.RoleUser), automationCaller("bob", switchboard.RoleOperator)
	dora := automationCaller("dora", switchboard.RoleUser)
	for _, c := range []tickets.Caller{ann, dora} {
		email := c.UserID + "@example.com"
		must(t, "subscribe", func(d database.Done) { n.svc.Subscribe(c, chat.Profile{Email: &email}, d) })
	}
	for _, id := range []string{"old", "recent", "open", "dora-old"} {
		ann := ann
		if id == "dora-old" {
			ann = dora
		}
		must(t, "create "+id, func(d database.Done) {
			n.svc.CreateTicket(ann, id, tickets.TicketInput{TicketName: "order 42 of Ann " + id, DisplayName: "Ann Smith",
				Context: tickets.VisitorContext{"pageUrl": "https://shop.example/ann"}}, d)
		})
		must(t, "accept "+id, func(d database.Done) { n.svc.AcceptTicket(bob, id, d) })
		say(t, n, clock, ann, id, id+"-q", time.Minute)
		say(t, n, clock, bob, id, id+"-a", 2*time.Minute)
		clock.Set(automationStart)
	}
	for id, at := range map[string]time.Duration{"old": time.Hour, "dora-old": time.Hour, "recent": 20 * 24 * time.Hour} {
		clock.Set(automationStart.Add(at))
		must(t, "close "+id, func(d database.Done) { n.svc.UpdateTicketStatus(bob, id, tickets.StatusClosed, d) })
	}
}

// untouched fails unless ticket id still has its names, context and
// messages.
func untouched(t *testing.T, db *database.DB, id string) {
	t.Helper()
	if count(t, db, `SELECT COUNT(*) FROM tickets WHERE id = ? AND owner_name = 'ann' AND visitor_context <> ''`, id) != 1 ||
		count(t, db, `SELECT COUNT(*) FROM messages WHERE session_id = ? AND content = ?`, id, "text of "+id+"-q") != 1 {
		t.Errorf("ticket %s was changed by retention", id)
	}
}

// Retention at its slots, in both modes: a ticket closed 30 days
// (SWITCHBOARD_RETENTION_AFTER=720h) before the slot is anonymised (kept,
// without contents, names and context, once) or deleted with everything
// of it; a ticket closed more recently and an open one are left alone.
func TestRetentionJob(t *testing.T) {
	for _, mode := range []privacy.RetentionMode{privacy.Anonymise, privacy.Delete} {
		for _, dialect := range testdb.Dialects() {
			t.Run(string(mode)+"/"+dialect, func(t *testing.T) {
				db := testdb.Open(t, dialect)
				clock := &movableClock{now: automationStart}
				n := newAutomationNode(t, db, "a", map[string]string{"SWITCHBOARD_RETENTION_AFTER": "720h",
					"SWITCHBOARD_RETENTION_MODE": string(mode), "SWITCHBOARD_AUTO_CLOSE_AFTER": "0"}, clock.Now)
				retentionTickets(t, n, clock)
				messages := count(t, db, `SELECT COUNT(*) FROM messages WHERE session_id = 'old'`)

				runSlot(t, n, RetentionJob, automationStart.Add(30*24*time.Hour+50*time.Minute))
				untouched(t, db, "old")
				for _, m := range []time.Duration{0, 10, 20} {
					runSlot(t, n, RetentionJob, automationStart.Add(30*24*time.Hour+(60+m)*time.Minute))
				}
				untouched(t, db, "recent")
				untouched(t, db, "open")
				// Dora has nothing newer: her details go; Ann's stay.
				if count(t, db, `SELECT COUNT(*) FROM users WHERE id = 'dora' AND email = '' AND full_name = ''`) != 1 ||
					count(t, db, `SELECT COUNT(*) FROM users WHERE id = 'ann' AND email = 'ann@example.com'`) != 1 {
					t.Error("retention did not wipe the details of the owner left with nothing newer, or wiped an active one's")
				}
				if mode == privacy.Delete {
					for _, q := range []string{
						`SELECT COUNT(*) FROM tickets WHERE id = 'old'`,
						`SELECT COUNT(*) FROM ticket_events WHERE ticket_id = 'old'`,
						`SELECT COUNT(*) FROM messages WHERE session_id = 'old'`,
						`SELECT COUNT(*) FROM message_reads WHERE session_id = 'old'`,
						`SELECT COUNT(*) FROM chat_members WHERE session_id = 'old'`,
						`SELECT COUNT(*) FROM chat_sessions WHERE id = 'old'`,
					} {
						if got := count(t, db, q); got != 0 {
							t.Errorf("%s: %d, want 0 after deletion", q, got)
						}
					}
					return
				}
				if count(t, db, `SELECT COUNT(*) FROM tickets WHERE id = 'old' AND status = ? AND owner_name = ''
					AND ticket_name = '' AND display_name = '' AND visitor_context = '' AND handler_id = 'bob' AND closed_at > 0`,
					tickets.StatusClosed) != 1 {
					t.Error("the anonymised ticket did not keep its status, handler and times without its names and context")
				}
				if got := count(t, db, `SELECT COUNT(*) FROM messages WHERE session_id = 'old'`); got != messages {
					t.Errorf("%d messages after anonymising, want all %d kept", got, messages)
				}
				if got := count(t, db, `SELECT COUNT(*) FROM messages WHERE session_id = 'old' AND kind = ? AND content <> ?`,
					chat.KindUser, privacy.RemovedText); got != 0 {
					t.Errorf("%d messages kept their content", got)
				}
				if got := count(t, db, `SELECT COUNT(*) FROM messages WHERE session_id = 'old' AND (sender_name = 'ann' OR recipient_name = 'ann')`); got != 0 {
					t.Errorf("%d messages kept the owner's name", got)
				}
				if got := count(t, db, `SELECT COUNT(*) FROM chat_sessions WHERE id = 'old' AND title = ''`); got != 1 {
					t.Error("the conversation kept its title")
				}
				if got := auditedBy(t, db, "old", tickets.ActionAnonymise); got != 1 {
					t.Errorf("%d anonymise rows after four runs, want 1", got)
				}
				if trail, _ := tickets.AuditTrail(db.DB, "old"); len(trail) != 4 {
					t.Errorf("audit trail %+v, want create, accept, close, anonymise", trail)
				}
			})
		}
	}
}

// Retention is off unless SWITCHBOARD_RETENTION_AFTER is set; a mode
// other than anonymise or delete is refused at start.
func TestRetentionOffByDefault(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	clock := &movableClock{now: automationStart}
	n := newAutomationNode(t, db, "a", map[string]string{"SWITCHBOARD_AUTO_CLOSE_AFTER": "0"}, clock.Now)
	retentionTickets(t, n, clock)
	if _, err := n.runner.RunSlot(context.Background(), RetentionJob, automationStart.Add(365*24*time.Hour)); err == nil {
		t.Error("retention is scheduled by default")
	}
	untouched(t, db, "old")
	if _, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_RETENTION_MODE": "shred"}), io.Discard); err == nil {
		t.Error("SWITCHBOARD_RETENTION_MODE=shred accepted")
	}
}

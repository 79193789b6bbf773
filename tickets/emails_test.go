package tickets_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/mail"
	"github.com/switchboard-chat/switchboard/tickets"
)

// inbox is a mail.Sender that keeps what it is given.
type inbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

// waitFor waits until n mails were sent.
func (b *inbox) waitFor(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		b.mu.Lock()
		got := len(b.sent)
		b.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails after 10 s, want %d", got, n)
		}
	}
}

func (b *inbox) Send(_ context.Context, m mail.Message) error {
	b.mu.Lock()
	b.sent = append(b.sent, m)
	b.mu.Unlock()
	return nil
}

// TestTicketEmails: an offline ticket's first message from its owner is
// announced once to the team's address, unless the team is available or
// has no address; a closed ticket's transcript goes to the address its
// visitor left, in order, and nowhere without a valid one.
func TestTicketEmails(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		box := &inbox{}
		outbox := mail.NewOutbox(box, mail.OutboxOptions{Attempts: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		available := map[string]bool{"busy": true} // by tenant; read by the outbox's goroutine
		emails := tickets.NewEmails(e.db, outbox, tickets.EmailOptions{
			OfflineAddress: func(_ context.Context, tenant, team string) (string, error) {
				if tenant == "quiet" {
					return "", nil
				}
				return "team@example.com", nil
			},
			Available: func(_ context.Context, tenant, team string) (bool, error) { return available[tenant], nil },
		})
		run := func(what string, f func(database.Done)) { emails.Publish(e.ok(what, f)) }
		offline := tickets.VisitorContext{"offline": "true", "email": "ann@example.com", "timeZone": "America/New_York"}
		create := func(c tickets.Caller, id string, vc tickets.VisitorContext) {
			run("create "+id, func(d database.Done) {
				e.svc.CreateTicket(c, id, tickets.TicketInput{TicketName: "About " + id, Context: vc}, d)
			})
		}
		say := func(c tickets.Caller, ticket, id, text string, typ int) {
			run("message "+id, func(d database.Done) {
				e.svc.SendMessage(c, ticket, id, tickets.MessageInput{Type: typ, Content: text, Encoding: "utf-8"}, d)
			})
		}

		ann := user("ann")
		create(ann, "t-off", offline)
		say(ann, "t-off", "m-1", "Lamp flickers", 1)
		say(ann, "t-off", "m-2", "Still does", 1) // not the first: no second notice
		// Marked offline while the team is there: a ticket like any other.
		bob := userIn("busy", "bob")
		create(bob, "t-open", offline)
		say(bob, "t-open", "m-3", "hello?", 1)
		// Accepted before its owner wrote: nothing to announce.
		create(user("cy"), "t-taken", offline)
		run("accept t-taken", func(d database.Done) { e.svc.AcceptTicket(operator("op-1"), "t-taken", d) })
		say(user("cy"), "t-taken", "m-4", "hi", 1)
		// A tenant with no address for it.
		quiet := userIn("quiet", "dee")
		create(quiet, "t-quiet", offline)
		say(quiet, "t-quiet", "m-5", "anyone?", 1)

		// The notice is built when the outbox gets to it, and only while
		// the ticket still waits: let it go before t-off is accepted.
		box.waitFor(t, 1)

		// The transcript: messages in order, names, times in the visitor's zone.
		op := operator("op-1")
		run("accept t-off", func(d database.Done) { e.svc.AcceptTicket(op, "t-off", d) })
		e.clock.Add(90 * time.Second)
		say(op, "t-off", "m-6", "Try a new bulb", 1)
		say(op, "t-off", "m-7", "aGk=", 2)
		run("close t-off", func(d database.Done) { e.svc.UpdateTicketStatus(op, "t-off", tickets.StatusClosed, d) })
		// Closed without an address, or with one that is not one.
		create(user("eve"), "t-noaddr", tickets.VisitorContext{"pageUrl": "https://example.com"})
		run("reject t-noaddr", func(d database.Done) { e.svc.UpdateTicketStatus(op, "t-noaddr", tickets.StatusClosed, d) })
		create(user("fay"), "t-bad", tickets.VisitorContext{"email": "fay@example.com, x@example.com"})
		run("reject t-bad", func(d database.Done) { e.svc.UpdateTicketStatus(op, "t-bad", tickets.StatusClosed, d) })

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		outbox.Close(ctx)
		if len(box.sent) != 2 {
			for _, m := range box.sent {
				t.Logf("to %v: %s", m.To, m.Subject)
			}
			t.Fatalf("%d mails, want the one notice and the one transcript", len(box.sent))
		}
		notice, transcript := box.sent[0], box.sent[1]
		if notice.To[0] != "team@example.com" || notice.ReplyTo != "ann@example.com" || notice.Subject != "Offline message: About t-off" ||
			!strings.Contains(notice.Body, "Lamp flickers") || strings.Contains(notice.Body, "Still does") ||
			!strings.Contains(notice.Body, "2024-05-01 06:00") { // t0 in New York
			t.Errorf("the notice: %+v", notice)
		}
		body := transcript.Body
		lamp, bulb, image := strings.Index(body, "Lamp flickers"), strings.Index(body, "Try a new bulb"), strings.Index(body, "(an image)")
		if transcript.To[0] != "ann@example.com" || transcript.Subject != "Your conversation: About t-off" ||
			lamp < 0 || lamp > strings.Index(body, "Still does") || bulb < lamp || image < bulb ||
			!strings.Contains(body, "[2024-05-01 06:01] Operator op-1:") || !strings.Contains(body, "User ann") ||
			strings.Contains(body, "accepted the ticket") {
			t.Errorf("the transcript:\n%s", body)
		}
	})
}

package tickets_test

import (
	"context"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/tickets"
)

// found is what a search finds: "ticket:message" per result ("ticket:" without a match).
func (e *env) found(text string) string {
	e.t.Helper()
	rs, _, err := e.svc.SearchTickets(context.Background(), operator("a"), tickets.TicketQuery{Text: text})
	if err != nil {
		e.t.Fatalf("search %q: %v", text, err)
	}
	out := ""
	for _, r := range rs {
		out += r.Ticket.ID + ":"
		if r.Match != nil {
			out += r.Match.MessageID + fmt.Sprint(r.Match.Highlights)
		}
		out += " "
	}
	return out
}

// indexed waits for the search indexer to take in every message sent.
func (e *env) indexed() {
	e.t.Helper()
	if err := e.svc.WaitSearchIndexed(context.Background()); err != nil {
		e.t.Fatalf("indexing: %v", err)
	}
}

// inOp runs f in a Committer Op, as the services that change messages do.
func (e *env) inOp(what string, f func(tx *gorm.DB) error) {
	e.t.Helper()
	e.ok(what, func(d database.Done) {
		e.c.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) { return nil, f(tx) }, d)
	})
}

// The search index takes new messages in once the indexer has caught up
// (a message edited before then with its new words), and follows changes
// to indexed messages in their own transactions: an edit, an
// anonymisation and a deletion take the old words out at once, on both
// databases; the other tenant's tickets are never found.
func TestSearchIndexFollowsMessages(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		e.create(user("u1"), "t1")
		e.accept(operator("a"), "t1")
		e.send(user("u1"), "t1", "m1", "alpha bravo")
		e.send(operator("a"), "t1", "m2", "Charlie, alpha!")
		other := userIn("other", "u9")
		e.create(other, "t9")
		e.send(other, "t9", "m9", "alpha")
		e.indexed()
		if got := e.found("alpha"); got != "t1:m2[[9 14]] " {
			t.Fatalf("alpha finds %q", got)
		}
		if got := e.found("bravo ALPHA"); got != "t1:m1[[0 5] [6 11]] " {
			t.Fatalf("bravo alpha finds %q", got)
		}

		// A message changed before the indexer reaches it is indexed as
		// it is then.
		e.send(user("u1"), "t1", "m3", "foxtrot")
		m3 := e.message("m3")
		e.inOp("edit", func(tx *gorm.DB) error { return chat.EditMessage(tx, m3.Seq, "golf", 1) })
		e.indexed()
		if got := e.found("foxtrot") + "|" + e.found("golf"); got != "|t1:m3[[0 4]] " {
			t.Fatalf("foxtrot|golf finds %q", got)
		}

		m1 := e.message("m1")
		e.inOp("edit", func(tx *gorm.DB) error { return chat.EditMessage(tx, m1.Seq, "delta echo", 1) })
		if got := e.found("bravo"); got != "" {
			t.Fatalf("after the edit, bravo finds %q", got)
		}
		if got := e.found("echo"); got != "t1:m1[[6 10]] " {
			t.Fatalf("after the edit, echo finds %q", got)
		}

		e.inOp("anonymise", func(tx *gorm.DB) error {
			return tickets.Anonymise(tx, e.ticket("t1"), "[anonymised]", 2)
		})
		for _, w := range []string{"echo", "alpha", "charlie"} {
			if got := e.found(w); got != "" {
				t.Fatalf("after anonymising, %s finds %q", w, got)
			}
		}
		if got := e.found("anonymised"); got != "t1:m3[[1 11]] " {
			t.Fatalf("after anonymising, the new text finds %q", got)
		}
		e.inOp("delete", func(tx *gorm.DB) error { return tickets.Delete(tx, []string{"t1"}) })
		if got := e.found("anonymised"); got != "" {
			t.Fatalf("after deleting, %q", got)
		}
		if e.db.Dialect == "sqlite" {
			if err := e.db.Exec(`INSERT INTO message_words (message_words) VALUES ('integrity-check')`).Error; err != nil {
				t.Fatalf("the index and messages disagree: %v", err)
			}
		}
	})
}

package tickets_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/tickets"
)

func text(s string) tickets.MessageInput {
	return tickets.MessageInput{Type: chat.TypeText, Content: s, Encoding: "utf-8"}
}

func (e *env) send(c tickets.Caller, ticketID, messageID, content string) []switchboard.Event {
	e.t.Helper()
	return e.ok("send "+messageID, func(d database.Done) { e.svc.SendMessage(c, ticketID, messageID, text(content), d) })
}

func (e *env) message(id string) chat.Message {
	e.t.Helper()
	var m chat.Message
	if res := e.db.Where("id = ?", id).Limit(1).Find(&m); res.Error != nil || res.RowsAffected != 1 {
		e.t.Fatalf("message %s: %v (rows %d)", id, res.Error, res.RowsAffected)
	}
	return m
}

// msgWire is the message object tests expect; fields are overridden by kv.
func msgWire(ticketID, id, content, sender, senderNm, recipient, recipientNm string, kv ...any) map[string]any {
	w := map[string]any{
		"ticketId": ticketID, "messageId": id, "content": content, "type": 1, "encoding": "utf-8",
		"createdAt": t0Wire, "statusId": 1, "senderId": sender, "senderNm": senderNm,
		"recipientId": recipient, "recipientNm": recipientNm, "programId": "",
	}
	for i := 0; i < len(kv); i += 2 {
		w[kv[i].(string)] = kv[i+1]
	}
	return w
}

func updated(ticketID string, to []string, except string, msg map[string]any) switchboard.Event {
	return switchboard.Event{Name: "messageUpdated", Args: []any{msg}, To: to, ExceptSocket: except, SessionID: ticketID}
}

func statusUpdated(ticketID, to, messageID string, status int) switchboard.Event {
	return ev("messageStatusUpdated", ticketID, []string{to}, messageID, status)
}

func responded(ticketID string) switchboard.Event {
	return ev("ticketResponded", ticketID, []string{opsRoom()}, ticketID)
}

func TestSendMessageBeforeAccept(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1, op1 := user("u1"), operator("op1")
		e.create(u1, "t1")
		evs := e.send(u1, "t1", "m1", "help")
		wantEvents(t, "first message", evs, []switchboard.Event{
			updated("t1", []string{opsRoom(), uRoom("u1")}, "sock-u1",
				msgWire("t1", "m1", "help", "u1", "User u1", "", "")),
		})
		if m := e.message("m1"); m.RecipientID != "" || m.RecipientName != "" || m.StatusID != 1 || m.CreatedAt != t0.UnixMilli() ||
			m.Tenant != tenant || m.Kind != chat.KindUser {
			t.Fatalf("stored m1 = %+v", m)
		}
		// Nobody received it yet, so nobody may mark it.
		e.refused("op1 marks an unaddressed message", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.UpdateMessageStatus(op1, "m1", 2, "u1", false, d)
		})
		e.refused("op1 writes before accepting", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.SendMessage(op1, "t1", "x1", text("hi"), d)
		})

		e.accept(op1, "t1")
		if m := e.message("m1"); m.RecipientID != "op1" || m.RecipientName != "Operator op1" {
			t.Fatalf("after accept m1 is addressed to %q/%q, want op1/Operator op1", m.RecipientID, m.RecipientName)
		}
		evs = e.ok("op1 marks m1 delivered", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m1", 2, "u1", false, d) })
		wantEvents(t, "delivered", evs, []switchboard.Event{statusUpdated("t1", uRoom("u1"), "m1", 2)})
	})
}

func TestSendMessage(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1, op1, op2 := user("u1"), operator("op1"), operator("op2")
		e.create(u1, "t1")
		e.accept(op1, "t1")

		evs := e.send(u1, "t1", "m1", "question")
		wantEvents(t, "owner → handler", evs, []switchboard.Event{
			updated("t1", []string{oRoom("op1"), uRoom("u1")}, "sock-u1",
				msgWire("t1", "m1", "question", "u1", "User u1", "op1", "Operator op1")),
		})
		e.clock.Add(time.Second)
		evs = e.send(op1, "t1", "m2", "answer")
		wantEvents(t, "handler → owner", evs, []switchboard.Event{
			updated("t1", []string{uRoom("u1"), oRoom("op1")}, "sock-op1",
				msgWire("t1", "m2", "answer", "op1", "Operator op1", "u1", "User u1", "createdAt", "2024-05-01T10:00:01.000Z")),
			responded("t1"),
		})
		if tk := e.ticket("t1"); tk.LastResponseAt != t0.Add(time.Second).UnixMilli() || tk.AwaitingResponse {
			t.Fatalf("after the answer ticket = %+v, want lastResponseAt set and not awaiting", tk)
		}

		// Retries are idempotent; the id belongs to its sender.
		e.noop("owner retries m1", func(d database.Done) { e.svc.SendMessage(u1, "t1", "m1", text("question"), d) })
		e.noop("handler retries m2", func(d database.Done) { e.svc.SendMessage(op1, "t1", "m2", text("other"), d) })
		e.refused("handler reuses the owner's id", switchboard.ECONFLICT, func(d database.Done) {
			e.svc.SendMessage(op1, "t1", "m1", text("x"), d)
		})
		e.create(u1, "t2")
		e.refused("owner reuses an id in another ticket", switchboard.ECONFLICT, func(d database.Done) {
			e.svc.SendMessage(u1, "t2", "m1", text("x"), d)
		})

		e.refused("another operator writes", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.SendMessage(op2, "t1", "x1", text("x"), d)
		})
		e.refused("another user writes", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.SendMessage(user("u2"), "t1", "x2", text("x"), d)
		})
		e.refused("a program writes to a user's ticket", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.SendMessage(programFor(program, "u1"), "t1", "x3", text("x"), d)
		})
		e.refused("unknown ticket", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.SendMessage(u1, "nope", "x4", text("x"), d)
		})

		// After a hijack the old handler is a stranger and the owner's
		// messages go to the new one.
		e.ok("op2 hijacks", func(d database.Done) { e.svc.AssignTicket(op2, "t1", "", d) })
		e.refused("stale handler writes", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.SendMessage(op1, "t1", "x5", text("x"), d)
		})
		evs = e.send(u1, "t1", "m3", "still there?")
		wantEvents(t, "owner → new handler", evs, []switchboard.Event{
			updated("t1", []string{oRoom("op2"), uRoom("u1")}, "sock-u1",
				msgWire("t1", "m3", "still there?", "u1", "User u1", "op2", "Operator op2", "createdAt", "2024-05-01T10:00:01.000Z")),
		})

		e.ok("close", func(d database.Done) { e.svc.UpdateTicketStatus(op2, "t1", tickets.StatusClosed, d) })
		e.refused("owner writes to a closed ticket", switchboard.ETICKETCLOSED, func(d database.Done) {
			e.svc.SendMessage(u1, "t1", "x6", text("x"), d)
		})
		e.refused("handler writes to a closed ticket", switchboard.ETICKETCLOSED, func(d database.Done) {
			e.svc.SendMessage(op2, "t1", "x7", text("x"), d)
		})
		// The transitions' system notes aside (the chat protocol's).
		if n := e.count("messages", "session_id = ? AND kind = 'USER'", "t1"); n != 3 {
			t.Fatalf("%d messages in t1, want 3", n)
		}
	})
}

// A message id is a global key: reusing one that another tenant holds is
// CONFLICT, like within a tenant, not an internal error.
func TestSendMessageIDTakenInAnotherTenant(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		e.create(user("u1"), "t1")
		e.send(user("u1"), "t1", "m1", "hi")
		uB := userIn("beta", "u1")
		e.create(uB, "tB")
		e.refused("tenant B reuses m1", switchboard.ECONFLICT, func(d database.Done) {
			e.svc.SendMessage(uB, "tB", "m1", text("x"), d)
		})
	})
}

// A retried message acks nil even if the ticket changed meanwhile (spec,
// Decisions: "a repeated createTicket/updateMessage with the same id and
// owner ack null and emit nothing"): the first attempt was stored, only
// its ack was lost.
func TestSendMessageRetryAfterClose(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1, op1 := user("u1"), operator("op1")
		e.create(u1, "t1")
		e.accept(op1, "t1")
		e.send(u1, "t1", "m1", "hi")
		e.send(op1, "t1", "m2", "hello")
		e.ok("close", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusClosed, d) })
		e.noop("owner retries m1 after close", func(d database.Done) { e.svc.SendMessage(u1, "t1", "m1", text("hi"), d) })
		e.noop("handler retries m2 after close", func(d database.Done) { e.svc.SendMessage(op1, "t1", "m2", text("hello"), d) })
		e.refused("a new message after close", switchboard.ETICKETCLOSED, func(d database.Done) {
			e.svc.SendMessage(u1, "t1", "m3", text("more"), d)
		})
	})
}

// The same for a handler whose ticket was hijacked after it sent: its
// retry is still its own stored message, not a new one from a stranger.
func TestSendMessageRetryAfterHijack(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1, op1, op2 := user("u1"), operator("op1"), operator("op2")
		e.create(u1, "t1")
		e.accept(op1, "t1")
		e.send(op1, "t1", "m2", "hello")
		e.ok("op2 hijacks", func(d database.Done) { e.svc.AssignTicket(op2, "t1", "", d) })
		e.noop("old handler retries m2 after the hijack", func(d database.Done) {
			e.svc.SendMessage(op1, "t1", "m2", text("hello"), d)
		})
		e.refused("old handler writes a new message", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.SendMessage(op1, "t1", "m3", text("more"), d)
		})
	})
}

func TestSendMessageProgram(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		p42, op1 := programFor(program, "42"), operator("op1")
		e.create(p42, "t1")
		e.accept(op1, "t1")
		evs := e.send(p42, "t1", "m1", "hello")
		wantEvents(t, "program end user → handler", evs, []switchboard.Event{
			updated("t1", []string{oRoom("op1"), uRoom("program-42/42")}, "sock-program-42",
				msgWire("t1", "m1", "hello", "program-42/42", "End user 42", "op1", "Operator op1", "programId", program)),
		})
		evs = e.send(op1, "t1", "m2", "hi 42")
		wantEvents(t, "handler → program end user", evs, []switchboard.Event{
			updated("t1", []string{uRoom("program-42/42"), oRoom("op1")}, "sock-op1",
				msgWire("t1", "m2", "hi 42", "op1", "Operator op1", "program-42/42", "End user 42", "programId", program)),
			responded("t1"),
		})
		e.refused("program before subscribing", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.SendMessage(programFor(program, ""), "t1", "x1", text("x"), d)
		})
		e.refused("same program, another end user", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.SendMessage(programFor(program, "43"), "t1", "x2", text("x"), d)
		})
		e.refused("another program's user 42", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.SendMessage(programFor("program-7", "42"), "t1", "x3", text("x"), d)
		})
		evs = e.ok("end user reads m2", func(d database.Done) { e.svc.UpdateMessageStatus(p42, "m2", 3, "op1", false, d) })
		wantEvents(t, "program reads", evs, []switchboard.Event{statusUpdated("t1", oRoom("op1"), "m2", 3)})
	})
}

func TestUpdateMessageStatus(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1, op1 := user("u1"), operator("op1")
		e.create(u1, "t1")
		e.accept(op1, "t1")
		e.send(u1, "t1", "m1", "one")
		e.send(op1, "t1", "m2", "two")

		e.clock.Add(time.Second)
		evs := e.ok("delivered", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m1", 2, "u1", false, d) })
		wantEvents(t, "delivered", evs, []switchboard.Event{statusUpdated("t1", uRoom("u1"), "m1", 2)})
		if m := e.message("m1"); m.StatusID != 2 || m.DeliveredAt != t0.Add(time.Second).UnixMilli() || m.ReadAt != 0 {
			t.Fatalf("m1 after delivered = %+v", m)
		}
		e.clock.Add(time.Second)
		evs = e.ok("read", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m1", 3, "u1", true, d) })
		wantEvents(t, "read", evs, []switchboard.Event{statusUpdated("t1", uRoom("u1"), "m1", 3)})
		if m := e.message("m1"); m.StatusID != 3 || m.DeliveredAt != t0.Add(time.Second).UnixMilli() ||
			m.ReadAt != t0.Add(2*time.Second).UnixMilli() || !m.StatusFlag {
			t.Fatalf("m1 after read = %+v", m)
		}
		e.noop("delivered after read", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m1", 2, "u1", false, d) })
		e.noop("read again", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m1", 3, "u1", false, d) })

		e.refused("sender marks its own message", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.UpdateMessageStatus(u1, "m1", 3, "u1", false, d)
		})
		e.refused("another operator marks it", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.UpdateMessageStatus(operator("op2"), "m1", 3, "u1", false, d)
		})
		e.refused("another user marks it", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.UpdateMessageStatus(user("u2"), "m2", 3, "op1", false, d)
		})
		e.refused("unknown message", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.UpdateMessageStatus(op1, "nope", 3, "u1", false, d)
		})
		e.refused("a program for the owner, not the ticket's", switchboard.ENOTFOUND, func(d database.Done) {
			e.svc.UpdateMessageStatus(programFor(program, "u1"), "m2", 3, "op1", false, d)
		})
		e.refused("program before subscribing", switchboard.EFORBIDDEN, func(d database.Done) {
			e.svc.UpdateMessageStatus(programFor(program, ""), "m2", 3, "op1", false, d)
		})

		// The owner reads the handler's message: the operator hears.
		evs = e.ok("owner reads m2", func(d database.Done) { e.svc.UpdateMessageStatus(u1, "m2", 3, "op1", false, d) })
		wantEvents(t, "owner reads", evs, []switchboard.Event{statusUpdated("t1", oRoom("op1"), "m2", 3)})
		if m := e.message("m2"); m.StatusID != 3 || m.DeliveredAt != t0.Add(2*time.Second).UnixMilli() {
			t.Fatalf("m2 read straight from sent = %+v, want delivered_at set too", m)
		}
	})
}

func TestUpdateMessageStatusAll(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1, u2, op1 := user("u1"), user("u2"), operator("op1")
		for _, id := range []string{"t1", "t2", "t3"} {
			e.create(u1, id)
			e.accept(op1, id)
		}
		e.create(u2, "t4")
		e.accept(op1, "t4")
		e.send(u1, "t1", "a1", "x")
		e.send(u1, "t2", "a2", "x")
		e.send(u1, "t3", "a3", "x")
		e.send(u1, "t1", "a4", "x")
		e.send(u2, "t4", "b1", "x")
		e.send(op1, "t1", "o1", "x")
		e.ok("deliver a4", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "a4", 2, "u1", false, d) })
		e.ok("close t3", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t3", tickets.StatusClosed, d) })

		evs := e.ok("deliver all of u1", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "all", 2, "u1", false, d) })
		wantEvents(t, "deliver all", evs, []switchboard.Event{
			statusUpdated("t1", uRoom("u1"), "a1", 2),
			statusUpdated("t2", uRoom("u1"), "a2", 2),
		})
		evs = e.ok("read all of u1", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "all", 3, "u1", false, d) })
		wantEvents(t, "read all", evs, []switchboard.Event{
			statusUpdated("t1", uRoom("u1"), "a1", 3),
			statusUpdated("t2", uRoom("u1"), "a2", 3),
			statusUpdated("t1", uRoom("u1"), "a4", 3),
			responded("t2"), // t1 was answered (o1) already

		})
		for id, want := range map[string]int{"a1": 3, "a2": 3, "a3": 1, "a4": 3, "b1": 1, "o1": 1} {
			if m := e.message(id); m.StatusID != want {
				t.Errorf("%s status %d, want %d", id, m.StatusID, want)
			}
		}
		e.noop("read all again", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "all", 3, "u1", false, d) })
		e.noop("read all of someone who wrote nothing", func(d database.Done) {
			e.svc.UpdateMessageStatus(op1, "all", 3, "u9", false, d)
		})
		// The owner reads all of the operator's messages to it.
		evs = e.ok("owner reads all", func(d database.Done) { e.svc.UpdateMessageStatus(u1, "all", 3, "op1", false, d) })
		wantEvents(t, "owner reads all", evs, []switchboard.Event{statusUpdated("t1", oRoom("op1"), "o1", 3)})
	})
}

func TestTicketResponded(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1, op1 := user("u1"), operator("op1")
		e.create(u1, "t1")
		e.send(u1, "t1", "m1", "one")
		e.send(u1, "t1", "m2", "two")
		if tk := e.ticket("t1"); !tk.AwaitingResponse || tk.UpdatedAt != t0.UnixMilli() {
			t.Fatalf("after the owner wrote ticket = %+v, want awaiting a response, updated now (ms)", tk)
		}
		e.accept(op1, "t1")
		evs := e.ok("read m1", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m1", 3, "u1", false, d) })
		wantEvents(t, "read m1 (m2 still unread)", evs, []switchboard.Event{statusUpdated("t1", uRoom("u1"), "m1", 3)})
		evs = e.ok("deliver m2", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m2", 2, "u1", false, d) })
		wantEvents(t, "deliver m2", evs, []switchboard.Event{statusUpdated("t1", uRoom("u1"), "m2", 2)})
		evs = e.ok("read m2", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m2", 3, "u1", false, d) })
		wantEvents(t, "read m2", evs, []switchboard.Event{statusUpdated("t1", uRoom("u1"), "m2", 3), responded("t1")})
		tk := e.ticket("t1")
		if tk.AwaitingResponse || tk.LastResponseAt != 0 {
			t.Fatalf("after reading ticket = %+v, want not awaiting, no response time", tk)
		}

		// A new question, answered: responded once.
		evs = e.send(u1, "t1", "m3", "three")
		if len(evs) != 1 {
			t.Fatalf("owner message events = %+v, want only messageUpdated", evs)
		}
		e.clock.Add(time.Second)
		evs = e.send(op1, "t1", "r1", "answer")
		if len(evs) != 2 || evs[1].Name != "ticketResponded" || !reflect.DeepEqual(evs[1], responded("t1")) {
			t.Fatalf("answer events = %+v, want messageUpdated and ticketResponded", evs)
		}
		evs = e.send(op1, "t1", "r2", "more")
		if len(evs) != 1 || evs[0].Name != "messageUpdated" {
			t.Fatalf("second answer events = %+v, want only messageUpdated", evs)
		}
		if tk := e.ticket("t1"); tk.AwaitingResponse || tk.LastResponseAt != t0.Add(time.Second).UnixMilli() ||
			tk.UpdatedAt != t0.Add(time.Second).UnixMilli() {
			t.Fatalf("after answering ticket = %+v", tk)
		}
		// Reading m3 now (already answered) announces nothing more.
		evs = e.ok("read m3", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m3", 3, "u1", false, d) })
		wantEvents(t, "read m3", evs, []switchboard.Event{statusUpdated("t1", uRoom("u1"), "m3", 3)})
		// The owner reading is no response.
		e.send(u1, "t1", "m4", "four")
		evs = e.ok("owner reads r1", func(d database.Done) { e.svc.UpdateMessageStatus(u1, "r1", 3, "op1", false, d) })
		wantEvents(t, "owner reads", evs, []switchboard.Event{statusUpdated("t1", oRoom("op1"), "r1", 3)})
		if !e.ticket("t1").AwaitingResponse {
			t.Fatal("the owner's reading cleared the awaiting mark")
		}
	})
}

func TestMessagesSince(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		u1, op1 := user("u1"), operator("op1")
		e.create(u1, "t1")
		e.create(u1, "t2")
		e.accept(op1, "t1")
		// Three messages in the same millisecond, with ids that do not
		// sort in commit order, then two a millisecond later.
		e.send(u1, "t1", "zeta", "1")
		e.send(u1, "t1", "alpha", "2")
		e.send(u1, "t1", "mu", "3")
		e.send(u1, "t2", "other", "x")
		e.clock.Add(time.Millisecond)
		e.send(op1, "t1", "beta", "4")
		e.send(u1, "t1", "aa", "5")
		e.ok("read alpha", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "alpha", 3, "u1", false, d) })

		ids := func(c tickets.Caller, ticketID, since string) []string {
			t.Helper()
			ms, _, err := e.svc.Messages(ctx, c, ticketID, since, 0)
			if err != nil {
				t.Fatalf("Messages(%s, since %q) = %v", ticketID, since, err)
			}
			out := []string{}
			for _, m := range ms {
				out = append(out, m.ID)
			}
			return out
		}
		for _, tc := range []struct {
			since string
			want  []string
		}{
			{"", []string{"zeta", "alpha", "mu", "beta", "aa"}},
			{"zeta", []string{"alpha", "mu", "beta", "aa"}},
			{"alpha", []string{"mu", "beta", "aa"}},
			{"mu", []string{"beta", "aa"}},
			{"aa", []string{}},
			{"2024-05-01T09:59:59.999Z", []string{"zeta", "alpha", "mu", "beta", "aa"}},
			{t0Wire, []string{"beta", "aa"}},
			{"2024-05-01T10:00:00.0005Z", []string{"beta", "aa"}},
			{"2024-05-01T12:00:00.000+02:00", []string{"beta", "aa"}},
			{"2024-05-01T10:00:00.001Z", []string{}},
		} {
			for _, c := range []tickets.Caller{u1, op1, operator("op2")} {
				if got := ids(c, "t1", tc.since); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: since %q = %v, want %v", c.UserID, tc.since, got, tc.want)
				}
			}
		}
		ms, _, err := e.svc.Messages(ctx, u1, "t1", "zeta", 0)
		if err != nil {
			t.Fatal(err)
		}
		if ms[0].ID != "alpha" || ms[0].StatusID != 3 || ms[1].StatusID != 1 {
			t.Fatalf("catch-up statuses = %+v, want alpha read (3), mu sent (1)", ms[:2])
		}
		if got, want := jsonOf(t, tickets.MessageWire(ms[2])), jsonOf(t,
			msgWire("t1", "beta", "4", "op1", "Operator op1", "u1", "User u1", "createdAt", "2024-05-01T10:00:00.001Z")); !reflect.DeepEqual(got, want) {
			t.Fatalf("beta on the wire = %v, want %v", got, want)
		}

		for _, tc := range []struct {
			caller tickets.Caller
			ticket string
			since  string
			code   string
		}{
			{u1, "t1", "nope", switchboard.EINVALID},
			{u1, "t1", "other", switchboard.EINVALID}, // a message of another ticket
			{user("u2"), "t1", "", switchboard.ENOTFOUND},
			{programFor(program, "u1"), "t1", "", switchboard.ENOTFOUND},
			{u1, "nope", "", switchboard.ENOTFOUND},
		} {
			if _, _, err := e.svc.Messages(ctx, tc.caller, tc.ticket, tc.since, 0); codeOf(err) != tc.code {
				t.Errorf("%s Messages(%s, since %q) = %v, want %s", tc.caller.UserID, tc.ticket, tc.since, err, tc.code)
			}
		}
	})
}

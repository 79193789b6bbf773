package tickets_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/outbox"
	"github.com/switchboard-chat/switchboard/tickets"
)

// newStreamEnv is newEnv with the domain event stream on.
func newStreamEnv(t *testing.T, dialect string) *env {
	t.Helper()
	db := testdb.Open(t, dialect)
	pub := &recorder{}
	clk := &clock{now: t0}
	c := database.NewCommitter(db, pub, database.CommitterOptions{
		Outbox: outbox.NewWriter(outbox.WriterOptions{Namespace: "test", Now: clk.Now})})
	t.Cleanup(c.Close)
	svc := tickets.NewService(db, c, tickets.Options{Now: clk.Now})
	t.Cleanup(svc.Close)
	return &env{t: t, db: db, svc: svc, pub: pub, clock: clk, c: c}
}

// streamed reads the outbox's envelopes in commit order.
func (e *env) streamed() []outbox.Envelope {
	e.t.Helper()
	var raw []string
	if err := e.db.Raw(`SELECT envelope FROM outbox ORDER BY seq`).Scan(&raw).Error; err != nil {
		e.t.Fatal(err)
	}
	out := make([]outbox.Envelope, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal([]byte(r), &out[i]); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

// payload is an envelope's payload object.
func payload(env outbox.Envelope) map[string]any {
	p, _ := env.Payload[env.Name].(map[string]any)
	return p
}

// Every ticket change writes its stream event in its own transaction:
// created, accepted, a message and its receipt, an assignment, a hijack,
// a close; a refused command writes none.
func TestTicketChangesAreStreamed(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			e := newStreamEnv(t, d)
			u1, op1, op2 := user("u1"), operator("op1"), operator("op2")
			e.ensure(op1)
			e.ensure(op2)
			e.create(u1, "t1")
			e.accept(op1, "t1")
			e.ok("send", func(d database.Done) {
				e.svc.SendMessage(u1, "t1", "m1", tickets.MessageInput{Type: 1, Content: "hello", Encoding: "utf-8"}, d)
			})
			e.ok("read", func(d database.Done) { e.svc.UpdateMessageStatus(op1, "m1", 3, "", false, d) })
			e.ok("assign", func(d database.Done) { e.svc.AssignTicket(op1, "t1", "op2", d) })
			e.ok("hijack", func(d database.Done) { e.svc.AssignTicket(op1, "t1", "", d) })
			e.ok("close", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusClosed, d) })
			e.refused("accept a closed ticket", "INVALID_TRANSITION", func(d database.Done) { e.svc.AcceptTicket(op2, "t1", d) })

			envs := e.streamed()
			var names []string
			for _, env := range envs {
				names = append(names, env.Name)
				if env.SessionID != "t1" || env.ClientID != tenant || env.Namespace != "test" {
					t.Errorf("%s: envelope %+v", env.Name, env)
				}
			}
			want := "[ticketCreated ticketAccepted personalChatSent messageStatusUpdated ticketAssigned ticketAssigned ticketStatusUpdated]"
			if fmt.Sprint(names) != want {
				t.Fatalf("stream %v\nwant   %s", names, want)
			}
			check := func(i int, user string, fields map[string]any) {
				t.Helper()
				if envs[i].UserID != user {
					t.Errorf("%s: userId %q, want %q", envs[i].Name, envs[i].UserID, user)
				}
				p := payload(envs[i])
				for k, v := range fields {
					if fmt.Sprint(p[k]) != fmt.Sprint(v) {
						t.Errorf("%s.%s = %v, want %v (%v)", envs[i].Name, k, p[k], v, p)
					}
				}
			}
			check(0, "u1", map[string]any{"ticketId": "t1", "statusId": 100, "ownerId": "u1"})
			check(1, "op1", map[string]any{"ticketId": "t1", "statusId": 200, "handleById": "op1"})
			check(2, "u1", map[string]any{"message_id": "m1", "sender_id": "u1", "target_id": "op1", "target_type": "user",
				"payload": "hello", "target_members": []string{"op1"}})
			check(3, "op1", map[string]any{"ticketId": "t1", "messageId": "m1", "statusId": 3, "senderId": "u1"})
			check(4, "op1", map[string]any{"ticketId": "t1", "fromId": "op1", "toId": "op2", "byId": "op1", "hijack": false})
			check(5, "op1", map[string]any{"ticketId": "t1", "fromId": "op2", "toId": "op1", "byId": "op1", "hijack": true})
			check(6, "op1", map[string]any{"ticketId": "t1", "statusId": 10000, "action": "close"})
		})
	}
}

// Without a sink nothing is built or written.
func TestNoStreamNoOutboxRows(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.ensure(operator("op1"))
	e.create(user("u1"), "t1")
	e.accept(operator("op1"), "t1")
	if n := e.count("outbox", "1 = 1"); n != 0 {
		t.Fatalf("%d outbox rows without a stream", n)
	}
}

// A rating is streamed as ticketRated by the rater in its transaction; a
// refused second rating writes nothing.
func TestTicketRatingIsStreamed(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			e := newStreamEnv(t, d)
			u1, op1 := user("u1"), operator("op1")
			e.ensure(op1)
			e.create(u1, "t1")
			e.accept(op1, "t1")
			e.ok("close", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusClosed, d) })
			e.ok("rate", func(d database.Done) { e.svc.RateTicket(u1, "t1", 2, "slow", d) })
			e.refused("rate again", "CONFLICT", func(d database.Done) { e.svc.RateTicket(u1, "t1", 5, "", d) })
			envs := e.streamed()
			last := envs[len(envs)-1]
			if p := payload(last); len(envs) != 4 || last.Name != "ticketRated" || last.UserID != "u1" || last.SessionID != "t1" ||
				p["ticketId"] != "t1" || p["score"] != float64(2) || p["comment"] != "slow" || p["at"] != t0Wire {
				t.Fatalf("stream %d events, last %+v", len(envs), last)
			}
		})
	}
}

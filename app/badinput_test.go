package app

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
)

// Bad input as spec/livechat.md (Transport) lists it — unknown events,
// wrong types, missing fields, oversized values, a missing ack — on both
// protocols: each gets a clear INVALID_REQUEST, commits nothing, keeps the
// sender's connection and never touches another user's.

type badInput struct {
	name  string
	event string
	args  []any
}

// nested is a JSON object nested depth levels deep.
func nested(depth int) any {
	var v any = "bottom"
	for range depth {
		v = map[string]any{"a": v}
	}
	return v
}

func livechatBadInputs() []badInput {
	msg := func(obj map[string]any) []any { return []any{"t-1", "m-bad", obj, "operator-1"} }
	return []badInput{
		{"unknown event", "dropAllTickets", []any{"t-1"}},
		{"ticketId a number", "createTicket", []any{42, map[string]any{}}},
		{"ticketObject a string", "createTicket", []any{"t-bad", "not an object"}},
		{"ticketObject missing", "createTicket", []any{"t-bad"}},
		{"ticketId over 1 KiB", "createTicket", []any{strings.Repeat("t", 1025), map[string]any{}}},
		{"ticketNm over 1 KiB", "createTicket", []any{"t-bad", map[string]any{"ticketNm": strings.Repeat("n", 1025)}}},
		{"ticketObject nested 5000 deep", "createTicket", []any{"t-bad", map[string]any{"ticketNm": nested(5000)}}},
		{"text over 64 KiB", "updateMessage", msg(map[string]any{"content": strings.Repeat("x", 64<<10+1), "type": 1})},
		{"text of 1.2 MiB", "updateMessage", msg(map[string]any{"content": strings.Repeat("x", 1200<<10), "type": 1})},
		{"image over 1 MiB", "updateMessage", msg(map[string]any{"content": base64.StdEncoding.EncodeToString(make([]byte, 1<<20+1)), "type": 2})},
		{"image not base64", "updateMessage", msg(map[string]any{"content": "!!", "type": 2})},
		{"content a number", "updateMessage", msg(map[string]any{"content": 5, "type": 1})},
		{"type a string", "updateMessage", msg(map[string]any{"content": "x", "type": "1"})},
		{"type 3", "updateMessage", msg(map[string]any{"content": "x", "type": 3})},
		{"empty text", "updateMessage", msg(map[string]any{"content": "", "type": 1})},
		{"messageId missing", "updateMessage", []any{"t-1"}},
		{"statusId a string", "updateMessageStatus", []any{"m-1", "3"}},
		{"statusId 7", "updateMessageStatus", []any{"m-1", 7}},
		{"statusId 2.5", "updateMessageStatus", []any{"m-1", 2.5}},
		{"status 150", "updateTicketStatus", []any{"t-1", map[string]any{}, 150}},
		{"status 1e300", "updateTicketStatus", []any{"t-1", map[string]any{}, 1e300}},
		{"assignTicket without its object", "assignTicket", []any{"t-1"}},
		{"assignTicket ticketId a number", "assignTicket", []any{map[string]any{"ticketId": 5}}},
		{"typing ticketId an object", "typing", []any{map[string]any{}}},
		{"subscribe with a string", "subscribe", []any{"user-1"}},
		{"subscribe userId a number", "subscribe", []any{map[string]any{"userId": 5}}},
		{"subscribe latitude a string", "subscribe", []any{map[string]any{"latitude": "north"}}},
		{"authenticate with a number", "authenticate", []any{42}},
	}
}

func chatBadInputs() []badInput {
	p := func(payload map[string]any) []any { return []any{chatBody(payload)} }
	return []badInput{
		{"unknown event", "dropAllSessions", p(map[string]any{})},
		{"body a string", "sendMsg", []any{"not an envelope"}},
		{"no body", "sendMsg", nil},
		{"payload a string", "sendMsg", []any{map[string]any{"headers": map[string]any{}, "payload": "x"}}},
		{"msg over 64 KiB", "sendMsg", p(map[string]any{"chatSessionId": "t-1", "msg": strings.Repeat("x", 64<<10+1)})},
		{"msg of 900 KiB", "sendMsg", p(map[string]any{"chatSessionId": "t-1", "msg": strings.Repeat("x", 900<<10)})},
		{"metadata over 16 KiB", "sendMsg", p(map[string]any{"chatSessionId": "t-1", "msg": "x",
			"metadata": map[string]any{"CONTENT": strings.Repeat("m", 16<<10)}})},
		{"metadata nested 5000 deep", "sendMsg", p(map[string]any{"chatSessionId": "t-1", "msg": "x", "metadata": nested(5000)})},
		{"msgType SYSNOTIF", "sendMsg", p(map[string]any{"chatSessionId": "t-1", "msg": "x", "msgType": "SYSNOTIF"})},
		{"257 members", "createChat", p(map[string]any{"members": manyIDs(257)})},
		{"members of numbers", "createChat", p(map[string]any{"members": []any{5}})},
		{"sesType unknown", "createChat", p(map[string]any{"members": []any{"operator-1"}, "sesType": "MANYTOMANY"})},
		{"numOfRes -1", "getChatSessions", p(map[string]any{"numOfRes": -1})},
		{"numOfRes 1.5", "getChatSessions", p(map[string]any{"numOfRes": 1.5})},
		{"numOfRes 501", "getChatSessions", p(map[string]any{"numOfRes": 501})},
		{"offset a string", "getChatMessages", p(map[string]any{"chatSessionId": "t-1", "offset": "10"})},
		{"starred a string", "starSessions", p(map[string]any{"chatSessionIds": []any{"t-1"}, "starred": "yes"})},
		{"status unknown", "setStatus", p(map[string]any{"status": "ASLEEP"})},
		{"criteria a string", "findByProperties", p(map[string]any{"criteria": "x"})},
		{"fromDate not a time", "findByProperties", p(map[string]any{"criteria": map[string]any{"fromDate": "yesterday"}})},
		{"action unknown", "sendUserAction", p(map[string]any{"chatSessionId": "t-1", "action": "SHOUTING"})},
	}
}

func manyIDs(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = "u-" + strings.Repeat("x", i%7)
	}
	return out
}

// badInputServer is a server with user-1's ticket t-1 open with
// operator-1, user-1's sockets of both protocols, and user-2's (the
// bystander, who sends nothing meanwhile).
type badInputServer struct {
	n                *node
	iss              *testIssuer
	lc, chat         *client.Socket
	lcOther, chatOth *client.Socket
}

func newBadInputServer(t *testing.T) *badInputServer {
	iss := newTestIssuer(t)
	b := &badInputServer{iss: iss, n: startTenantNode(t, iss, nil)}
	user := iss.token(t, columnWho[asUser])
	b.lc, _ = livechatAs(t, b.n, user)
	b.chat, _ = chatAs(t, b.n, user)
	op, _ := livechatAs(t, b.n, iss.token(t, columnWho[asOperator]))
	for _, step := range []struct {
		s    *client.Socket
		args []any
	}{
		{b.lc, []any{"createTicket", "t-1", map[string]any{"ticketNm": "Printer"}}},
		{op, []any{"acceptTicket", "t-1", map[string]any{}, "user-1"}},
		{b.lc, []any{"updateMessage", "t-1", "m-1", map[string]any{"content": "hello", "type": 1}, "operator-1"}},
	} {
		if ack := emitAck(t, step.s, step.args[0].(string), step.args[1:]...); ack != nil {
			t.Fatalf("setup %v: %v", step.args, ack)
		}
	}
	other := iss.token(t, user2)
	b.lcOther, _ = livechatAs(t, b.n, other)
	b.chatOth, _ = chatAs(t, b.n, other)
	return b
}

// othersFine fails unless the bystander's sockets are connected and
// answer promptly.
func (b *badInputServer) othersFine(t *testing.T) {
	t.Helper()
	start := time.Now()
	if ack := emitAck(t, b.lcOther, "subscribe", map[string]any{"userId": "user-2"}); ack != nil {
		t.Fatalf("user-2's livechat socket: %v", ack)
	}
	if env := emitAck(t, b.chatOth, "getChatSessions", chatBody(map[string]any{})); resultCode(env) != chatOK {
		t.Fatalf("user-2's chat socket: %v", env)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("user-2 waited %v for two answers", d)
	}
}

func TestBadInputLivechat(t *testing.T) {
	b := newBadInputServer(t)
	watch := watchChanges(t, b.n)
	for _, in := range livechatBadInputs() {
		t.Run(in.name, func(t *testing.T) {
			watch.committed(t)
			ack := emitAck(t, b.lc, in.event, in.args...)
			m, _ := ack.(map[string]any)
			if m["code"] != invalidR || m["message"] == "" {
				t.Errorf("%s: ack %.300v, want INVALID_REQUEST with a message", in.name, ack)
			}
			// The same without an ack: nothing to answer, nothing to break.
			if err := b.lc.Emit(in.event, in.args...); err != nil {
				t.Fatal(err)
			}
			if ack := emitAck(t, b.lc, "typing", "t-1", "operator-1"); ack != nil {
				t.Errorf("the sender's next event: %v", ack)
			}
			if watch.committed(t) {
				t.Errorf("%s committed a change", in.name)
			}
			if !b.lc.Connected() {
				t.Fatalf("%s dropped the sender's connection", in.name)
			}
			b.othersFine(t)
		})
	}
}

func TestBadInputChat(t *testing.T) {
	b := newBadInputServer(t)
	watch := watchChanges(t, b.n)
	for _, in := range chatBadInputs() {
		t.Run(in.name, func(t *testing.T) {
			watch.committed(t)
			env := emitAck(t, b.chat, in.event, in.args...)
			m, _ := env.(map[string]any)
			if m["resultCode"] != chatInvalid || m["errorDescription"] == "" {
				t.Errorf("%s: answer %.300v, want INVALID_REQUEST with an errorDescription", in.name, env)
			}
			if err := b.chat.Emit(in.event, in.args...); err != nil {
				t.Fatal(err)
			}
			if env := emitAck(t, b.chat, "getChatSessions", chatBody(map[string]any{})); resultCode(env) != chatOK {
				t.Errorf("the sender's next event: %v", env)
			}
			if watch.committed(t) {
				t.Errorf("%s committed a change", in.name)
			}
			if !b.chat.Connected() {
				t.Fatalf("%s dropped the sender's connection", in.name)
			}
			b.othersFine(t)
		})
	}
}

// TestOversizedFrameDropsOnlyTheSender: an event larger than the
// transport accepts (above every limit the protocols allow) closes the
// connection that sent it — and only that one, before anything is stored.
func TestOversizedFrameDropsOnlyTheSender(t *testing.T) {
	b := newBadInputServer(t)
	watch := watchChanges(t, b.n)
	user := b.iss.token(t, columnWho[asUser])
	for _, proto := range []string{"livechat", "chat"} {
		t.Run(proto, func(t *testing.T) {
			var s *client.Socket
			var event string
			var args []any
			huge := strings.Repeat("x", 4<<20)
			if proto == "livechat" {
				s, _ = livechatAs(t, b.n, user)
				event, args = "updateMessage", []any{"t-1", "m-huge", map[string]any{"content": huge, "type": 1}, ""}
			} else {
				s, _ = chatAs(t, b.n, user)
				event, args = "sendMsg", []any{chatBody(map[string]any{"chatSessionId": "t-1", "msg": huge})}
			}
			closed := make(chan struct{})
			s.On("disconnect", func(...any) { close(closed) })
			watch.committed(t)
			if err := s.Emit(event, args...); err != nil {
				t.Fatal(err)
			}
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("a 4 MiB event did not close its connection")
			}
			if watch.committed(t) {
				t.Error("an oversized event committed a change")
			}
			if !b.lc.Connected() || !b.chat.Connected() {
				t.Error("the same user's other sockets were dropped")
			}
			b.othersFine(t)
		})
	}
}

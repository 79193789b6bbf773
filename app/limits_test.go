package app

import (
	"strings"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard/internal/testclient"
)

// startLimitedNode is startNode with the limits changed by set.
func startLimitedNode(t *testing.T, set func(*Limits)) *node {
	t.Helper()
	cfg := testConfig(t, t.TempDir(), testEnv(nil))
	set(&cfg.Limits)
	if err := cfg.Limits.check(); err != nil {
		t.Fatal(err)
	}
	return runNode(t, cfg)
}

// TestRateLimitAcrossProtocols: one user's messages count against one
// bucket on both protocols. Over it, livechat acks RATE_LIMITED and the
// chat protocol answers its response event with INVALID_REQUEST (its
// result codes are the source's) and an errorDescription that starts with
// RATE_LIMITED; the refused messages are not stored.
func TestRateLimitAcrossProtocols(t *testing.T) {
	n := startLimitedNode(t, func(l *Limits) { l.MessageBurst, l.MessageRate, l.AbuseRefusals = 2, 1, 1000 })
	livechatAs(t, n, n.token(t, "operator-1")) // known, so that a chat with it can be made
	token := n.token(t, "user-1")
	lc, _ := livechatAs(t, n, token)
	chat, _ := chatAs(t, n, token)

	created := emitAck(t, chat, "createChat", chatBody(map[string]any{"members": []any{"operator-1"}, "sesType": "ONETOONE"}))
	if resultCode(created) != "OK" {
		t.Fatalf("createChat: %v", created)
	}
	session := payloadOf(created)["chatSessionId"].(string)
	if code := errCode(emitAck(t, lc, "createTicket", "t-1", map[string]any{"ticketId": "t-1", "ticketNm": "x"})); code != "" {
		t.Fatalf("createTicket: %s", code)
	}
	send := func(text string) any {
		return emitAck(t, chat, "sendMsg", chatBody(map[string]any{"chatSessionId": session, "msg": text}))
	}
	if env := send("one"); resultCode(env) != "OK" {
		t.Fatalf("first message: %v", env)
	}
	if code := errCode(emitAck(t, lc, "updateMessage", "t-1", "m-1", map[string]any{"content": "two", "type": 1}, "")); code != "" {
		t.Fatalf("second message (livechat): %s", code)
	}
	refused := send("three").(map[string]any)
	if refused["resultCode"] != "INVALID_REQUEST" || !strings.HasPrefix(refused["errorDescription"].(string), "RATE_LIMITED: ") {
		t.Fatalf("the third message over the chat protocol: %v, want INVALID_REQUEST with RATE_LIMITED: …", refused)
	}
	if code := errCode(emitAck(t, lc, "updateMessage", "t-1", "m-2", map[string]any{"content": "four", "type": 1}, "")); code != "RATE_LIMITED" {
		t.Fatalf("the fourth message (livechat): %q, want RATE_LIMITED", code)
	}
	recent := emitAck(t, chat, "getChatMessages", chatBody(map[string]any{"chatSessionId": session, "numOfRes": 50}))
	if c := payloadOf(recent)["count"]; c != float64(1) {
		t.Fatalf("the session holds %v messages, want 1 (the refused one is not stored): %v", c, recent)
	}
	status, body := restCall(t, n, "GET", "/api/v1/tickets/t-1/messages", token, "")
	if list, _ := body.([]any); status != 200 || len(list) != 1 {
		t.Fatalf("ticket messages: %d %v, want the one accepted", status, body)
	}
}

// TestConnectionLimits: over the per-address limit (counted across both
// Socket.IO servers) a connection gets connect_error {code: RATE_LIMITED};
// over the per-principal limit an authentication gets unauthenticated
// RATE_LIMITED and the socket is closed.
func TestConnectionLimits(t *testing.T) {
	n := startLimitedNode(t, func(l *Limits) { l.MaxConnsPerIP, l.MaxConnsPerPrincipal = 3, 1 })
	token := n.token(t, "user-1")
	first, _ := livechatAs(t, n, token)
	second, ev := sockConnect(t, n, "", map[string]any{"accessToken": token})
	if a := awaitEvent(t, ev, "unauthenticated"); errCode(a[0]) != "RATE_LIMITED" {
		t.Fatalf("a second socket of user-1: unauthenticated %v, want RATE_LIMITED", a)
	}
	awaitDisconnect(t, second)
	chatAs(t, n, "") // the chat server's connections count too
	livechatAs(t, n, n.token(t, "user-2"))
	if err := connectError(t, n); !strings.Contains(err, "too many connections from your address") {
		t.Fatalf("a fourth connection from 127.0.0.1: %q, want a connect_error that says why", err)
	}
	first.Disconnect()
	time.Sleep(200 * time.Millisecond) // the server sees the close
	if err := connectError(t, n); err != "" {
		t.Fatalf("after a socket closed: %s", err)
	}
}

// connectError opens a livechat socket and returns its connect_error
// (its message and data), or "" once it connects.
func connectError(t *testing.T, n *node) string {
	t.Helper()
	opts := client.DefaultOptions()
	opts.SetTransports(types.NewSet(client.WebSocket))
	opts.SetForceNew(true)
	opts.SetAutoConnect(false)
	opts.SetReconnection(false)
	// A refusal comes at once; the timeout only has to outlast a machine
	// loaded by other packages' tests.
	opts.SetTimeout(15 * time.Second)
	s, err := client.Connect(n.base, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Disconnect() })
	out := make(chan string, 2)
	s.On("connect", func(...any) { out <- "" })
	s.On("connect_error", func(a ...any) {
		// The Go client keeps the message, not the data {code: "RATE_LIMITED"}.
		msg := "?"
		if len(a) > 0 {
			if e, ok := a[0].(error); ok {
				msg = e.Error()
			}
		}
		out <- "connect_error: " + msg
	})
	testclient.Connect(s, 15*time.Second)
	select {
	case v := <-out:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("neither connect nor connect_error")
		return ""
	}
}

func awaitDisconnect(t *testing.T, s *client.Socket) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.Connected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the socket was not disconnected")
		}
	}
}

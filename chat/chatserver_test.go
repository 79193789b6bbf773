package chat_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/testclient"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// chatTokens verifies the tokens a test hands out: each is its
// principal's id.
type chatTokens map[string]switchboard.Principal

func (v chatTokens) Verify(_ context.Context, raw string) (switchboard.Principal, error) {
	p, ok := v[raw]
	if !ok {
		return p, switchboard.Errorf(switchboard.ETOKENINVALID, "unknown token")
	}
	return p, nil
}

// startChatServer serves the chat protocol binding over a real Socket.IO
// server on a fresh SQLite database, wired as the application wires it,
// and returns its URL. ann is an operator; uma and eve are end users.
func startChatServer(t *testing.T) string {
	t.Helper()
	db := testdb.Open(t, "sqlite")
	var cs *chat.ChatServer
	publisher := switchboard.PublisherFunc(func(evs []switchboard.Event) { cs.Publish(evs) })
	committer := database.NewCommitter(db, publisher, database.CommitterOptions{})
	t.Cleanup(committer.Close)
	svc := chat.NewService(db, committer, chat.ServiceOptions{Publisher: publisher})
	expires := time.Now().Add(time.Hour)
	tokens := chatTokens{}
	for id, role := range map[string]switchboard.Role{"ann": switchboard.RoleOperator,
		"uma": switchboard.RoleUser, "eve": switchboard.RoleUser} {
		tokens[id] = switchboard.Principal{ID: id, Tenant: "t", Role: role, DisplayName: id, ExpiresAt: expires}
	}
	cs = chat.NewChatServer(svc, tokens, chat.ChatServerOptions{})
	opts := socket.DefaultServerOptions()
	opts.SetServeClient(false)
	opts.SetTransports(types.NewSet(socket.WebSocket))
	opts.SetAdapter(fanout.AdapterBuilder{})
	io := socket.NewServer(nil, opts)
	cs.Attach(io)
	srv := httptest.NewServer(io.ServeHandler(nil))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		io.Close(nil)
	})
	return srv.URL
}

// chatSocket is one Go client socket with the events it received, by name.
type chatSocket struct {
	t  *testing.T
	s  *client.Socket
	mu sync.Mutex
	ev map[string]chan any
}

func (c *chatSocket) of(name string) chan any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ev[name] == nil {
		c.ev[name] = make(chan any, 100)
	}
	return c.ev[name]
}

// next is the body of the next name event, or a failure after 10 s.
func (c *chatSocket) next(name string) map[string]any {
	c.t.Helper()
	select {
	case b := <-c.of(name):
		m, _ := b.(map[string]any)
		return m
	case <-time.After(10 * time.Second):
		c.t.Fatalf("no %s event", name)
		return nil
	}
}

// dialChat connects a socket and waits for serverReady; a connection lost
// on a loaded machine is dialled again.
func dialChat(t *testing.T, url string) *chatSocket {
	t.Helper()
	for attempt := 1; ; attempt++ {
		opts := client.DefaultOptions()
		opts.SetTransports(types.NewSet(client.WebSocket))
		opts.SetForceNew(true)
		opts.SetReconnection(false)
		opts.SetAutoConnect(false)
		s, err := client.Connect(url, opts)
		if err != nil {
			t.Fatal(err)
		}
		c := &chatSocket{t: t, s: s, ev: map[string]chan any{}}
		s.OnAny(func(a ...any) {
			if name, ok := a[0].(string); ok && len(a) > 1 {
				select {
				case c.of(name) <- a[1]:
				default:
				}
			}
		})
		testclient.Connect(s, 10*time.Second)
		t.Cleanup(func() { s.Disconnect() })
		select {
		case b := <-c.of("serverReady"):
			if code := b.(map[string]any)["resultCode"]; code != "OK" {
				t.Fatalf("serverReady: %v", b)
			}
			return c
		case <-time.After(5 * time.Second):
			s.Disconnect()
			if attempt == 3 {
				t.Fatal("no serverReady after 3 connections")
			}
		}
	}
}

// send emits event with payload and returns its response event's body.
func (c *chatSocket) send(event, response string, payload map[string]any) map[string]any {
	c.t.Helper()
	if err := c.s.Emit(event, map[string]any{"headers": map[string]any{}, "payload": payload}); err != nil {
		c.t.Fatalf("emit %s: %v", event, err)
	}
	return c.next(response)
}

func ready(t *testing.T, url, token string) *chatSocket {
	t.Helper()
	c := dialChat(t, url)
	if env := c.send("clientReady", "userOnline", map[string]any{"tokenId": token}); env["resultCode"] != "OK" {
		t.Fatalf("clientReady as %s: %v", token, env)
	}
	return c
}

func payloadOf(env map[string]any) map[string]any {
	p, _ := env["payload"].(map[string]any)
	return p
}

// TestChatProtocolOverSocketIO drives the chat protocol binding with the
// Go client: the handshake, createChat, sendMsg reaching the other
// member, and refused events that change nothing.
func TestChatProtocolOverSocketIO(t *testing.T) {
	url := startChatServer(t)

	stranger := dialChat(t, url)
	if env := stranger.send("createChat", "chatCreated", map[string]any{"members": []any{"ann"}}); env["resultCode"] != "AUTHENTICATION_ERROR" {
		t.Errorf("createChat before clientReady: %v", env)
	}
	if env := stranger.send("clientReady", "userOnline", map[string]any{"tokenId": "forged"}); env["resultCode"] != "AUTHENTICATION_ERROR" {
		t.Errorf("clientReady with a forged token: %v", env)
	}

	ann := ready(t, url, "ann")
	uma := ready(t, url, "uma")
	ready(t, url, "eve") // known, so that refusing her is the directory's doing
	if env := uma.send("clientReady", "userOnline", map[string]any{"tokenId": "uma"}); env["resultCode"] != "CONNECTION_ALREADY_OPEN" {
		t.Errorf("a second clientReady: %v", env)
	}

	created := uma.send("createChat", "chatCreated", map[string]any{"members": []any{"ann"}, "title": "help"})
	id, _ := payloadOf(created)["chatSessionId"].(string)
	if created["resultCode"] != "OK" || id == "" {
		t.Fatalf("createChat with an operator: %v", created)
	}
	if pushed := payloadOf(ann.next("chatCreated")); pushed["chatSessionId"] != id {
		t.Errorf("ann heard of another session: %v", pushed)
	}

	sent := uma.send("sendMsg", "chatMsg", map[string]any{"chatSessionId": id, "msg": "hello"})
	if sent["resultCode"] != "OK" || payloadOf(sent)["content"] != "hello" {
		t.Fatalf("sendMsg: %v", sent)
	}
	if got := payloadOf(ann.next("chatMsg")); got["content"] != "hello" || got["sender"] != "uma" || got["chatSessionId"] != id {
		t.Errorf("ann received %v", got)
	}

	// Refused: an end user reaching another end user, a session it is not
	// in, a message with no text, a payload naming someone else.
	if env := uma.send("createChat", "chatCreated", map[string]any{"members": []any{"eve"}}); env["resultCode"] != "UNAUTHORIZED" {
		t.Errorf("createChat with another end user: %v", env)
	}
	if env := uma.send("sendMsg", "chatMsg", map[string]any{"chatSessionId": "nope", "msg": "x"}); env["resultCode"] == "OK" {
		t.Errorf("sendMsg to no session: %v", env)
	}
	if env := uma.send("sendMsg", "chatMsg", map[string]any{"chatSessionId": id, "msg": ""}); env["resultCode"] != "INVALID_REQUEST" {
		t.Errorf("sendMsg without text: %v", env)
	}
	if env := uma.send("sendMsg", "chatMsg", map[string]any{"chatSessionId": id, "msg": "x", "username": "ann"}); env["resultCode"] != "AUTHENTICATION_ERROR" {
		t.Errorf("sendMsg as someone else: %v", env)
	}
	history := ann.send("getChatMessages", "recentMessages", map[string]any{"chatSessionId": id})
	if msgs, _ := payloadOf(history)["messages"].([]any); history["resultCode"] != "OK" || len(msgs) != 1 {
		t.Errorf("after the refusals the session holds one message: %v", history)
	}
}

package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rtmClient is a plain WebSocket client of the RTM endpoint: it queues
// every frame it receives by event and records how the server closed it.
type rtmClient struct {
	ws     *websocket.Conn
	mu     sync.Mutex
	ch     map[string]chan map[string]any
	closed chan *websocket.CloseError
	write  sync.Mutex
}

// rtmConnect asks POST /api/v1/rtm/connect for a socket token with an
// access token.
func rtmConnect(t *testing.T, n *node, token string) (endpoint, wsToken string) {
	t.Helper()
	status, body := rest(t, n, http.MethodPost, "/api/v1/rtm/connect", token, "")
	m, _ := body.(map[string]any)
	if status != http.StatusOK || m["meta"].(map[string]any)["ok"] != true {
		t.Fatalf("rtm.connect: %d %v", status, body)
	}
	r := m["rtm"].(map[string]any)
	return r["ws_endpoint"].(string), r["ws_token"].(string)
}

// rtmOpen opens a WebSocket to the endpoint without authenticating.
func rtmOpen(t *testing.T, endpoint string) *rtmClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &rtmClient{ws: ws, ch: map[string]chan map[string]any{}, closed: make(chan *websocket.CloseError, 1)}
	t.Cleanup(func() { ws.Close() })
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) {
					ce = &websocket.CloseError{Code: websocket.CloseAbnormalClosure, Text: err.Error()}
				}
				c.closed <- ce
				return
			}
			var f map[string]any
			if err := json.Unmarshal(data, &f); err != nil {
				c.closed <- &websocket.CloseError{Code: -1, Text: "not JSON: " + string(data)}
				return
			}
			meta, _ := f["meta"].(map[string]any)
			if meta["api"] != "v1" {
				c.closed <- &websocket.CloseError{Code: -1, Text: "no meta.api v1: " + string(data)}
				return
			}
			name, _ := f["event"].(string)
			payload, _ := f["payload"].(map[string]any)
			select {
			case c.of(name) <- payload:
			default:
			}
		}
	}()
	return c
}

// rtmDial connects as the holder of token and waits for the handshake's
// last frame (user.online about itself).
func rtmDial(t *testing.T, n *node, token string) *rtmClient {
	t.Helper()
	endpoint, wsToken := rtmConnect(t, n, token)
	c := rtmOpen(t, endpoint)
	c.cmd(t, map[string]any{"command": "ws_auth", "auth_token": wsToken})
	c.next(t, "user.online")
	return c
}

func (c *rtmClient) of(event string) chan map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch[event] == nil {
		c.ch[event] = make(chan map[string]any, 1000)
	}
	return c.ch[event]
}

func (c *rtmClient) cmd(t *testing.T, v map[string]any) {
	t.Helper()
	c.write.Lock()
	defer c.write.Unlock()
	if err := c.ws.WriteJSON(v); err != nil {
		t.Fatalf("send %v: %v", v, err)
	}
}

// next returns the payload of the next frame of event.
func (c *rtmClient) next(t *testing.T, event string) map[string]any {
	t.Helper()
	select {
	case p := <-c.of(event):
		return p
	case ce := <-c.closed:
		c.closed <- ce
		t.Fatalf("closed (%v) while waiting for %s", ce, event)
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s frame", event)
	}
	return nil
}

// until returns the first frame of event whose payload ok accepts.
func (c *rtmClient) until(t *testing.T, event string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		if p := c.next(t, event); ok(p) {
			return p
		}
	}
}

// closedWith waits for the server to close the socket and returns how.
func (c *rtmClient) closedWith(t *testing.T, within time.Duration) *websocket.CloseError {
	t.Helper()
	select {
	case ce := <-c.closed:
		return ce
	case <-time.After(within):
		t.Fatalf("the socket was not closed within %v", within)
		return nil
	}
}

func message(p map[string]any) map[string]any { m, _ := p["message"].(map[string]any); return m }

// TestRTMFirstFrameRule: a socket whose first frame is not ws_auth, or
// that sends nothing within the grace, or an unknown command after it,
// is closed; a socket token works once and a Socket.IO client may use
// one in its handshake; an access token is no socket token.
func TestRTMFirstFrameRule(t *testing.T) {
	n := startNodeEnv(t, t.TempDir(), map[string]string{"SWITCHBOARD_AUTH_GRACE": "1s"})
	access := n.token(t, "operator-1")
	endpoint, wsToken := rtmConnect(t, n, access)
	if !strings.HasPrefix(endpoint, "ws://") || !strings.HasSuffix(endpoint, "/rtm") {
		t.Fatalf("ws_endpoint %q", endpoint)
	}

	early := rtmOpen(t, endpoint)
	early.cmd(t, map[string]any{"command": "ws_read_notification", "channel_id": "x", "message_id": "y"})
	if ce := early.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("a command before ws_auth: closed with %v", ce)
	}
	silent := rtmOpen(t, endpoint)
	if ce := silent.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("nothing sent: closed with %v", ce)
	}
	garbage := rtmOpen(t, endpoint)
	_ = garbage.ws.WriteMessage(websocket.TextMessage, []byte("hello"))
	if ce := garbage.closedWith(t, 5*time.Second); ce.Code != websocket.CloseUnsupportedData {
		t.Fatalf("not JSON: closed with %v", ce)
	}
	withAccess := rtmOpen(t, endpoint)
	withAccess.cmd(t, map[string]any{"command": "ws_auth", "auth_token": access})
	if ce := withAccess.closedWith(t, 5*time.Second); !strings.HasPrefix(ce.Text, "TOKEN_INVALID") {
		t.Fatalf("an access token in ws_auth: closed with %v", ce)
	}

	first := rtmOpen(t, endpoint)
	first.cmd(t, map[string]any{"command": "ws_auth", "auth_token": wsToken})
	if me := first.next(t, "user.online")["user"].(map[string]any); me["id"] != "operator-1" || me["online_status"] != true {
		t.Fatalf("user.online %v", me)
	}
	reused := rtmOpen(t, endpoint)
	reused.cmd(t, map[string]any{"command": "ws_auth", "auth_token": wsToken})
	if ce := reused.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation || !strings.HasPrefix(ce.Text, "TOKEN_INVALID") {
		t.Fatalf("a reused ws_token: closed with %v", ce)
	}
	first.cmd(t, map[string]any{"command": "ws_auth", "auth_token": wsToken})
	if ce := first.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("a second ws_auth: closed with %v", ce)
	}
	other := rtmDial(t, n, access)
	other.cmd(t, map[string]any{"command": "ws_dance"})
	if ce := other.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "unknown command") {
		t.Fatalf("an unknown command: closed with %v", ce)
	}

	// Both Socket.IO protocols take a socket token once.
	_, sioToken := rtmConnect(t, n, access)
	lc, lcEv := sockConnect(t, n, "", map[string]any{"accessToken": sioToken})
	if p := awaitEvent(t, lcEv, "authenticated")[0].(map[string]any); p["userId"] != "operator-1" {
		t.Fatalf("livechat with a socket token: %v", p)
	}
	lc.Disconnect()
	_, lcEv2 := sockConnect(t, n, "", map[string]any{"accessToken": sioToken})
	if p := awaitEvent(t, lcEv2, "unauthenticated")[0].(map[string]any); p["code"] != "TOKEN_INVALID" {
		t.Fatalf("livechat with a used socket token: %v", p)
	}
	_, chatToken := rtmConnect(t, n, access)
	chatAs(t, n, chatToken) // fails unless clientReady takes it
}

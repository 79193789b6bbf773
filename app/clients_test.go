package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard/internal/testclient"
)

// Clients of both protocols and of REST for tests that take testing.TB
// (fuzz targets as well as tests).

// sockConnect opens a socket of the Go client at path ("" = the livechat
// protocol's) with auth in the handshake; the events it receives are
// queued in ev. It waits for the connection only, and dials again when
// a loaded machine loses it.
func sockConnect(t testing.TB, n *node, path string, auth map[string]any) (*client.Socket, *events) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, ev, ok := sockConnectOnce(t, n, path, auth)
		if ok {
			return s, ev
		}
		s.Disconnect()
		if attempt == 3 {
			t.Fatalf("no connection to %s%s after 3 attempts", n.base, path)
		}
	}
}

func sockConnectOnce(t testing.TB, n *node, path string, auth map[string]any) (*client.Socket, *events, bool) {
	t.Helper()
	opts := client.DefaultOptions()
	opts.SetTransports(types.NewSet(client.WebSocket))
	opts.SetForceNew(true)
	opts.SetAutoConnect(false)
	opts.SetReconnection(false)
	opts.SetTimeout(5 * time.Second)
	if path != "" {
		opts.SetPath(path)
	}
	if auth != nil {
		opts.SetAuth(auth)
	}
	s, err := client.Connect(n.base, opts)
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{ch: map[string]chan []any{}}
	s.OnAny(func(a ...any) {
		if name, ok := a[0].(string); ok {
			select {
			case ev.of(name) <- a[1:]:
			default: // a test that does not read an event must not block the client
			}
		}
	})
	connected := make(chan struct{}, 1)
	s.On("connect", func(...any) {
		select {
		case connected <- struct{}{}:
		default:
		}
	})
	testclient.Connect(s, 10*time.Second)
	t.Cleanup(func() { s.Disconnect() })
	select {
	case <-connected:
		return s, ev, true
	case <-time.After(10 * time.Second):
		return s, ev, false
	}
}

// awaitEvent returns the next event name of ev, or fails after 10 s.
func awaitEvent(t testing.TB, ev *events, name string) []any {
	t.Helper()
	select {
	case a := <-ev.of(name):
		return a
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s event", name)
		return nil
	}
}

// livechatAs connects to the livechat protocol with token ("" = none)
// and, with a token, waits until it is authenticated. A connection lost
// on a loaded machine is dialled again.
func livechatAs(t testing.TB, n *node, token string) (*client.Socket, *events) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		var auth map[string]any
		if token != "" {
			auth = map[string]any{"accessToken": token}
		}
		s, ev := sockConnect(t, n, "", auth)
		if token == "" {
			return s, ev
		}
		select {
		case <-ev.of("authenticated"):
			return s, ev
		case a := <-ev.of("unauthenticated"):
			t.Fatalf("token refused: %v", a)
		case <-time.After(5 * time.Second):
			s.Disconnect()
			if attempt == 3 {
				t.Fatal("no authenticated event after 3 connections")
			}
		}
	}
}

// chatAs connects to the chat protocol and, with a token, completes the
// handshake (clientReady → userOnline OK).
func chatAs(t testing.TB, n *node, token string) (*client.Socket, *events) {
	t.Helper()
	var s *client.Socket
	var ev *events
	for attempt := 1; s == nil; attempt++ {
		s, ev = sockConnect(t, n, chatPath, nil)
		select {
		case <-ev.of("serverReady"):
		case <-time.After(5 * time.Second): // lost: dial again
			s.Disconnect()
			if s = nil; attempt == 3 {
				t.Fatal("no serverReady after 3 connections")
			}
		}
	}
	if token == "" {
		return s, ev
	}
	env := emitAck(t, s, "clientReady", map[string]any{"headers": map[string]any{}, "payload": map[string]any{"tokenId": token}})
	if code := resultCode(env); code != "OK" {
		t.Fatalf("clientReady: %v", env)
	}
	awaitEvent(t, ev, "userOnline")
	return s, ev
}

// emitAck emits an event with an ack and returns the ack's first
// argument; it fails when no ack comes within 20 s (a commit on a
// machine loaded far beyond its cores takes seconds, not tens of them).
func emitAck(t testing.TB, s *client.Socket, event string, args ...any) any {
	t.Helper()
	ch := make(chan any, 1)
	if err := s.Emit(event, append(args, func(a []any, _ error) {
		var first any
		if len(a) > 0 {
			first = a[0]
		}
		ch <- first
	})...); err != nil {
		t.Fatalf("emit %s: %v", event, err)
	}
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("no ack for %s (connected: %v)", event, s.Connected())
		return nil
	}
}

// errCode is a livechat ack's code: "" for null (success).
func errCode(ack any) string {
	if ack == nil {
		return ""
	}
	if m, ok := ack.(map[string]any); ok {
		if c, ok := m["code"].(string); ok {
			return c
		}
	}
	return "?"
}

// resultCode is a chat-protocol envelope's resultCode.
func resultCode(env any) string {
	if m, ok := env.(map[string]any); ok {
		if c, ok := m["resultCode"].(string); ok {
			return c
		}
	}
	return "?"
}

// chatBody is a chat-protocol client event body.
func chatBody(payload map[string]any) map[string]any {
	return map[string]any{"headers": map[string]any{}, "payload": payload}
}

// restCall makes one REST request with token ("" = no Authorization header)
// and returns the status and the body, decoded when it is JSON.
func restCall(t testing.TB, n *node, method, path, token, reqBody string) (int, any) {
	t.Helper()
	var rd io.Reader
	if reqBody != "" {
		rd = strings.NewReader(reqBody)
	}
	req, err := http.NewRequest(method, n.base+path, rd)
	if err != nil {
		t.Fatalf("%s %q: %v", method, path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		out = string(raw)
	}
	return res.StatusCode, out
}

// commitWatch tells whether anything was committed to a SQLite database
// between two looks: SQLite's data_version of one connection of its own
// moves when another connection commits.
type commitWatch struct {
	conn   *sql.Conn
	last   int64
	settle func() // waits for what the node commits on its own
}

func watchChanges(t testing.TB, n *node) *commitWatch {
	t.Helper()
	pool, err := n.app.db.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &commitWatch{conn: conn, settle: func() {
		// SQLite's search indexer commits shortly after messages do:
		// let it catch up first, so its commits are not taken for the
		// watched request's.
		if err := n.app.tickets.WaitSearchIndexed(context.Background()); err != nil {
			t.Fatal(err)
		}
	}}
	c.last = c.version(t)
	return c
}

func (c *commitWatch) version(t testing.TB) int64 {
	t.Helper()
	var v int64
	if err := c.conn.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// committed reports whether a commit happened since the last call.
func (c *commitWatch) committed(t testing.TB) bool {
	t.Helper()
	c.settle()
	v := c.version(t)
	changed := v != c.last
	c.last = v
	return changed
}

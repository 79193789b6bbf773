package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard/internal/openapitest"
	"github.com/switchboard-chat/switchboard/internal/testclient"
	"github.com/switchboard-chat/switchboard/oauth"
)

// node is one running server for a test.
type node struct {
	app    *App
	cancel context.CancelFunc
	done   chan error
	base   string
	data   string
	once   sync.Once
	err    error
}

// startNode runs the server on dir's database with the development issuer.
func startNode(t *testing.T, dir string) *node {
	t.Helper()
	cfg := testConfig(t, dir, testEnv(nil))
	// Every test client is 127.0.0.1, and some tests burst hundreds of
	// events: no limits here (limits_test.go starts nodes with them).
	cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
	cfg.Limits.MaxConnsPerIP, cfg.Limits.MaxConnsPerPrincipal, cfg.Limits.MaxRequests = -1, -1, -1
	return runNode(t, cfg)
}

// testConfig loads the settings env gives over the defaults for a server
// on dir's database, listening on a free loopback port.
func testConfig(t testing.TB, dir string, env func(string) string) Config {
	t.Helper()
	cfg, err := Load("switchboard", nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.Database = filepath.Join(dir, "switchboard.db")
	cfg.DataDir = filepath.Join(dir, "data")
	return cfg
}

// runNode starts the server with cfg and stops it when the test ends.
func runNode(t testing.TB, cfg Config) *node {
	t.Helper()
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Every REST answer of every test must be what openapi.yaml says.
	a.http.Handler = openapitest.Handler(t, a.http.Handler)
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{app: a, cancel: cancel, done: make(chan error, 1), base: "http://" + a.Addr(), data: cfg.DataDir}
	go func() { n.done <- a.Run(ctx) }()
	t.Cleanup(func() { n.stop(t) })
	return n
}

// shutdown stops the node gracefully, as SIGTERM does, once.
func (n *node) shutdown() error {
	n.once.Do(func() {
		n.cancel()
		select {
		case n.err = <-n.done:
		case <-time.After(20 * time.Second):
			n.err = fmt.Errorf("server did not shut down")
		}
	})
	return n.err
}

func (n *node) stop(t testing.TB) {
	if err := n.shutdown(); err != nil {
		t.Errorf("server stopped with %v", err)
	}
}

func (n *node) token(t *testing.T, who string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := oauth.DevToken(ctx, n.base+"/oidc", who, n.data)
	if err != nil {
		t.Fatalf("token for %s: %v", who, err)
	}
	return tok
}

// events collects what one client socket receives.
type events struct {
	mu sync.Mutex
	ch map[string]chan []any
}

func (e *events) of(name string) chan []any {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ch[name] == nil {
		e.ch[name] = make(chan []any, 1000)
	}
	return e.ch[name]
}

func (e *events) next(t *testing.T, name string) []any {
	t.Helper()
	select {
	case a := <-e.of(name):
		return a
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s event", name)
		return nil
	}
}

// dial connects the official Go client with the token in the handshake and
// waits for authenticated. A connection that hangs on a loaded machine is
// dropped and dialled again.
func dial(t *testing.T, n *node, token string) (*client.Socket, *events) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, ev := dialOnce(t, n, token)
		select {
		case <-ev.of("authenticated"):
			return s, ev
		case <-time.After(5 * time.Second):
			s.Disconnect()
			if attempt == 3 {
				t.Fatal("no authenticated event after 3 connections")
			}
		}
	}
}

func dialOnce(t *testing.T, n *node, token string) (*client.Socket, *events) {
	opts := client.DefaultOptions()
	opts.SetTransports(types.NewSet(client.WebSocket))
	opts.SetForceNew(true)
	opts.SetAutoConnect(false)
	opts.SetTimeout(5 * time.Second)
	opts.SetAuth(map[string]any{"accessToken": token})
	s, err := client.Connect(n.base, opts)
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{ch: map[string]chan []any{}}
	s.OnAny(func(a ...any) {
		if name, ok := a[0].(string); ok {
			ev.of(name) <- a[1:]
		}
	})
	testclient.Connect(s, 10*time.Second)
	t.Cleanup(func() { s.Disconnect() })
	return s, ev
}

func mustAck(t *testing.T, s *client.Socket, event string, args ...any) {
	t.Helper()
	if v := emitAck(t, s, event, args...); v != nil {
		t.Fatalf("%s: %v", event, v)
	}
}

// TestTicketFlowGoClient drives a ticket from creation to a message with
// the Go Socket.IO client against the real server and its issuer.
func TestTicketFlowGoClient(t *testing.T) {
	n := startNode(t, t.TempDir())
	op, opEv := dial(t, n, n.token(t, "operator-1"))
	user, userEv := dial(t, n, n.token(t, "user-1"))
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1", "fullNm": "Ann Example"})

	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketId": "t-1", "ticketNm": "Printer"})
	created := opEv.next(t, "ticketCreated")[0].(map[string]any)
	if created["ownerId"] != "user-1" || created["ownerNm"] != "User One" || created["statusId"] != float64(100) {
		t.Fatalf("ticketCreated %v", created)
	}
	mustAck(t, op, "acceptTicket", "t-1", created, "user-1")
	if accepted := userEv.next(t, "ticketAccepted")[0].(map[string]any); accepted["handleById"] != "operator-1" {
		t.Fatalf("ticketAccepted %v", accepted)
	}
	mustAck(t, user, "updateMessage", "t-1", "m-1", map[string]any{"content": "hello", "type": 1}, "operator-1")
	msg := opEv.next(t, "messageUpdated")[0].(map[string]any)
	if msg["senderId"] != "user-1" || msg["recipientId"] != "operator-1" || msg["content"] != "hello" || msg["statusId"] != float64(1) {
		t.Fatalf("messageUpdated %v", msg)
	}
	mustAck(t, op, "updateMessageStatus", "m-1", 3, "operator-1", "user-1", false)
	if got := userEv.next(t, "messageStatusUpdated"); got[0] != "m-1" || got[1] != float64(3) {
		t.Fatalf("messageStatusUpdated %v", got)
	}
	if got := opEv.next(t, "ticketResponded"); got[0] != "t-1" {
		t.Fatalf("ticketResponded %v", got)
	}
}

// TestShutdownKeepsAckedMessages stops the server while a client is sending
// (as SIGTERM does) and checks after a restart that every message that was
// acknowledged is stored, in order.
func TestShutdownKeepsAckedMessages(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	userToken := n.token(t, "user-1")
	user, _ := dial(t, n, userToken)
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketNm": "restart"})

	const total = 300
	var mu sync.Mutex
	var acked []string
	answered := make(chan struct{}, total)
	for i := 0; i < total; i++ {
		id := fmt.Sprintf("m-%03d", i)
		user.Emit("updateMessage", "t-1", id, map[string]any{"content": id, "type": 1}, "", func(a []any, _ error) {
			if len(a) > 0 && a[0] == nil {
				mu.Lock()
				acked = append(acked, id)
				if len(acked) == total/3 {
					go n.shutdown() // while the rest are in flight
				}
				mu.Unlock()
			}
			answered <- struct{}{}
		})
	}
	timeout := time.After(15 * time.Second)
wait:
	for i := 0; i < total; i++ {
		select {
		case <-answered:
		case <-timeout:
			break wait // the rest went unanswered: the server closed their socket
		}
	}
	n.stop(t)
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no message was acknowledged before shutdown")
	}

	n2 := startNode(t, dir)
	req, _ := http.NewRequest("GET", n2.base+"/api/v1/tickets/t-1/messages?limit=500", nil)
	req.Header.Set("Authorization", "Bearer "+n2.token(t, "user-1"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var stored []map[string]any
	if err := json.NewDecoder(res.Body).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	last := ""
	for _, m := range stored {
		id := m["messageId"].(string)
		if id <= last {
			t.Fatalf("stored out of order: %s after %s", id, last)
		}
		have[id], last = true, id
	}
	for _, id := range acked {
		if !have[id] {
			t.Fatalf("message %s was acknowledged but is not stored (%d acked, %d stored)", id, len(acked), len(stored))
		}
	}
	t.Logf("%d of %d messages acknowledged before shutdown, %d stored", len(acked), total, len(stored))
}

// rest calls the REST API with a bearer token and decodes the JSON answer.
func rest(t *testing.T, n *node, method, path, token, body string) (int, any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, n.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res.StatusCode, out
}

// TestOperatorRoster checks the operator list with presence and status,
// and setting one's own status.
func TestOperatorRoster(t *testing.T) {
	n := startNode(t, t.TempDir())
	op1, op2, user := n.token(t, "operator-1"), n.token(t, "operator-2"), n.token(t, "user-1")
	s1, _ := dial(t, n, op1)
	mustAck(t, s1, "subscribeOperator")
	dial(t, n, op2) // known, but not subscribed: offline

	roster := func(token string) map[string]map[string]any {
		status, body := rest(t, n, "GET", "/api/v1/operators", token, "")
		if status != 200 {
			t.Fatalf("GET /operators: %d %v", status, body)
		}
		out := map[string]map[string]any{}
		for _, o := range body.([]any) {
			m := o.(map[string]any)
			out[m["operatorId"].(string)] = m
		}
		return out
	}
	got := roster(op2)
	if len(got) != 2 || got["operator-1"]["online"] != true || got["operator-2"]["online"] != false ||
		got["operator-1"]["status"] != "AVAILABLE" || got["operator-1"]["displayNm"] != "Operator One" {
		t.Fatalf("roster %v", got)
	}
	if status, body := rest(t, n, "PUT", "/api/v1/operators/me/status", op1, `{"status":"away"}`); status != 200 {
		t.Fatalf("set status: %d %v", status, body)
	}
	if got := roster(op2); got["operator-1"]["status"] != "AWAY" || got["operator-1"]["online"] != true {
		t.Fatalf("after AWAY: %v", got["operator-1"])
	}
	rest(t, n, "PUT", "/api/v1/operators/me/status", op1, `{"status":"INVISIBLE"}`)
	if got := roster(op2); got["operator-1"]["online"] != false || got["operator-1"]["status"] != "AVAILABLE" {
		t.Fatalf("an invisible operator must look offline: %v", got["operator-1"])
	}
	if got := roster(op1); got["operator-1"]["status"] != "INVISIBLE" {
		t.Fatalf("an invisible operator sees its own status: %v", got["operator-1"])
	}
	if status, body := rest(t, n, "PUT", "/api/v1/operators/me/status", op1, `{"status":"ASLEEP"}`); status != 400 || body.(map[string]any)["code"] != "INVALID_REQUEST" {
		t.Fatalf("bad status: %d %v", status, body)
	}
	if status, _ := rest(t, n, "GET", "/api/v1/operators", user, ""); status != 403 {
		t.Fatalf("a user listed operators: %d", status)
	}
	if status, _ := rest(t, n, "GET", "/api/v1/operators", "not-a-token", ""); status != 401 {
		t.Fatalf("a bad token listed operators: %d", status)
	}
}

// testEnv is env over the test defaults; SWITCHBOARD_SQLITE_TUNING comes
// from the test's own environment, so that the tests run in either mode.
func testEnv(env map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "SWITCHBOARD_SQLITE_TUNING" {
			return os.Getenv(k)
		}
		return ""
	}
}

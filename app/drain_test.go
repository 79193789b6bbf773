package app

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDrainRefusesNewConnections puts a node in its drain, as SIGTERM
// does, and checks what clients and a load balancer see: /readyz fails,
// a new Engine.IO handshake on either protocol is answered 503 (which
// nginx passes on to another node), a connected socket still commits and
// is acked, and the end of the drain closes its transport, a disconnect
// the client libraries reconnect after (not "io server disconnect").
func TestDrainRefusesNewConnections(t *testing.T) {
	n := startNode(t, t.TempDir())
	user, _ := dial(t, n, n.token(t, "user-1"))
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketNm": "drain"})
	reasons := make(chan string, 1)
	user.On("disconnect", func(a ...any) {
		reason, _ := a[0].(string)
		reasons <- reason
	})
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(n.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	handshake := func(path string) string { return path + "?EIO=4&transport=polling&t=" + url.QueryEscape(t.Name()) }
	for _, path := range []string{"/socket.io/", chatPath + "/"} {
		if status, body := get(handshake(path)); status != 200 || !strings.Contains(body, `"sid"`) {
			t.Fatalf("handshake on %s before the drain: %d %q", path, status, body)
		}
	}

	n.app.drain.on.Store(true)
	if status, body := get("/readyz"); status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while draining: %d %q", status, body)
	}
	for _, path := range []string{"/socket.io/", chatPath + "/", "/socket.io/?EIO=4&transport=polling&sid=unknown"} {
		if status, body := get(handshake(path)); status != http.StatusServiceUnavailable {
			t.Fatalf("handshake on %s while draining: %d %q, want 503", path, status, body)
		}
	}
	if status, body := get("/rtm"); status != http.StatusServiceUnavailable {
		t.Fatalf("a new RTM socket while draining: %d %q, want 503", status, body)
	}
	if status, _ := get("/healthz"); status != 200 {
		t.Fatalf("/healthz while draining: %d (the process is alive)", status)
	}
	mustAck(t, user, "updateMessage", "t-1", "m-1", map[string]any{"content": "still served", "type": 1}, "")

	if err := n.shutdown(); err != nil {
		t.Fatal(err)
	}
	select {
	case reason := <-reasons:
		if reason != "transport close" {
			t.Fatalf("the drain disconnected the client with %q, want \"transport close\" (which clients retry)", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the drain did not disconnect the client")
	}
}

package cluster

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestClusterClientAddress: behind nginx, the per-address connection
// limit counts the client's own address, which the node reads from
// X-Forwarded-For because nginx (127.0.0.1) is its trusted proxy, and
// not one a client writes into that header itself. Clients come from
// 127.0.0.2 and 127.0.0.3 over HTTP long-polling, whose requests nginx
// keeps on one node by ip_hash.
func TestClusterClientAddress(t *testing.T) {
	c := startCluster(t, 2, "SWITCHBOARD_MAX_CONNS_PER_IP=2")
	from2 := clientFrom(t, "127.0.0.2")
	for i := range 2 {
		if reply := c.pollingConnect(t, from2, ""); !strings.HasPrefix(reply, "40") {
			t.Fatalf("connection %d from 127.0.0.2: %q, want CONNECT", i+1, reply)
		}
	}
	// The third from 127.0.0.2 is over the limit, whatever it claims.
	for _, claim := range []string{"", "10.1.2.3", "127.0.0.1"} {
		if reply := c.pollingConnect(t, from2, claim); !strings.HasPrefix(reply, "44") || !strings.Contains(reply, "RATE_LIMITED") {
			t.Fatalf("a third connection from 127.0.0.2 (X-Forwarded-For %q): %q, want CONNECT_ERROR RATE_LIMITED", claim, reply)
		}
	}
	// Another client address has its own count.
	if reply := c.pollingConnect(t, clientFrom(t, "127.0.0.3"), ""); !strings.HasPrefix(reply, "40") {
		t.Fatalf("a connection from 127.0.0.3: %q, want CONNECT", reply)
	}
	// The refusals were logged with the client's address, not nginx's.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var refusals []string
		for _, nd := range c.nodes {
			nd.mu.Lock()
			for _, line := range nd.tail {
				if strings.Contains(line, "too many from one address") {
					refusals = append(refusals, line)
				}
			}
			nd.mu.Unlock()
		}
		for _, line := range refusals {
			if !strings.Contains(line, "ip=127.0.0.2 ") {
				t.Fatalf("a refusal logged without the client's address: %s", line)
			}
		}
		if len(refusals) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d refusals logged, want 3", len(refusals))
		}
	}
}

// clientFrom is an HTTP client whose connections leave from addr.
func clientFrom(t *testing.T, addr string) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, a)
		}}}
}

var sidField = regexp.MustCompile(`"sid":"([^"]+)"`)

// pollingConnect opens an Engine.IO long-polling session through nginx,
// sends the livechat namespace's CONNECT and returns the server's answer
// to it (40… accepted, 44… refused). xff, if set, is sent as the
// client's own X-Forwarded-For.
func (c *cluster) pollingConnect(t *testing.T, client *http.Client, xff string) string {
	t.Helper()
	do := func(method, query, body string) string {
		req, _ := http.NewRequest(method, c.base+"/socket.io/?EIO=4&transport=polling"+query, strings.NewReader(body))
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, query, res.StatusCode, out)
		}
		return string(out)
	}
	m := sidField.FindStringSubmatch(do("GET", "", ""))
	if m == nil {
		t.Fatal("no sid in the handshake")
	}
	sid := "&sid=" + m[1]
	if ok := do("POST", sid, "40"); ok != "ok" {
		t.Fatalf("POST CONNECT: %q", ok)
	}
	return do("GET", sid, "")
}

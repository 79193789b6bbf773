package limiter

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

func TestConnectionsPerAddress(t *testing.T) {
	l, _, _ := newTestLimiter(Options{MaxConnsPerIP: 3})
	var held []Release
	for i := range 3 {
		r, err := l.ConnectIP("192.0.2.1")
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		held = append(held, r)
	}
	if _, err := l.ConnectIP("192.0.2.1"); switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
		t.Fatalf("a fourth connection from one address: %v, want RATE_LIMITED", err)
	}
	if _, err := l.ConnectIP("192.0.2.2"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	held[0]()
	held[0]() // a second release gives back nothing more
	if _, err := l.ConnectIP("192.0.2.1"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := l.ConnectIP("192.0.2.1"); err == nil {
		t.Fatal("a double release freed two slots")
	}
	if n := l.Connections("192.0.2.1"); n != 3 {
		t.Fatalf("%d connections counted, want 3", n)
	}
	// Negative: no limit.
	free, _, _ := newTestLimiter(Options{MaxConnsPerIP: -1})
	for range 1000 {
		if _, err := free.ConnectIP("192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConnectionsPerPrincipal(t *testing.T) {
	l, clk, _ := newTestLimiter(Options{MaxConnsPerPrincipal: 2, MessageBurst: 1, AbuseRefusals: 3})
	r1, err1 := l.ConnectPrincipal(user1)
	_, err2 := l.ConnectPrincipal(user1)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := l.ConnectPrincipal(user1); switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
		t.Fatalf("a third socket of user-1: %v, want RATE_LIMITED", err)
	}
	if _, err := l.ConnectPrincipal(user2); err != nil {
		t.Fatalf("user-2: %v", err)
	}
	r1()
	r, err := l.ConnectPrincipal(user1)
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	r()
	// A socket cut off for abuse: the principal's new sockets are refused
	// for the abuse window, then accepted again.
	var s Strikes
	for cut := false; !cut; {
		cut, _ = l.Admit(Who{Principal: user1}, Message, &s)
	}
	if _, err := l.ConnectPrincipal(user1); switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
		t.Fatalf("a new socket right after a cut-off: %v, want RATE_LIMITED", err)
	}
	clk.add(DefaultAbuseWindow)
	if _, err := l.ConnectPrincipal(user1); err != nil {
		t.Fatalf("a new socket after the abuse window: %v", err)
	}
}

func TestClientIP(t *testing.T) {
	req := func(peer string, xff ...string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = peer
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return r
	}
	none, err := ClientIP(nil)
	if err != nil {
		t.Fatal(err)
	}
	// No trusted proxies: the header is anyone's to write, never read.
	if got := none(req("127.0.0.1:5000", "203.0.113.9")); got != "127.0.0.1" {
		t.Fatalf("no trusted proxies: %q, want the peer", got)
	}
	proxies, err := ClientIP(ParseList(" 10.0.0.0/8, 192.0.2.7 "))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"10.1.2.3:80", []string{"203.0.113.9"}, "203.0.113.9"},                         // through the proxy
		{"10.1.2.3:80", []string{"198.51.100.1, 203.0.113.9, 10.4.4.4"}, "203.0.113.9"}, // rightmost untrusted
		{"192.0.2.7:80", []string{"203.0.113.9"}, "203.0.113.9"},                        // a single trusted address
		{"198.51.100.5:80", []string{"203.0.113.9"}, "198.51.100.5"},                    // peer not a proxy: header ignored
		{"10.1.2.3:80", nil, "10.1.2.3"},                                                // proxy without the header
		{"127.0.0.1:80", []string{"203.0.113.9"}, "127.0.0.1"},                          // loopback is not trusted unless listed
	} {
		if got := proxies(req(c.peer, c.xff...)); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %v: %q, want %q", c.peer, c.xff, got, c.want)
		}
	}
	if _, err := ClientIP([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("a bad CIDR was accepted")
	}
	if _, err := ClientIP([]string{"proxy.example"}); err == nil {
		t.Fatal("a host name was accepted as a trusted proxy")
	}
}

// fakeVerifier accepts "tok-<id>" as user <id> and counts its calls.
type fakeVerifier struct{ calls atomic.Int64 }

func (v *fakeVerifier) Verify(_ context.Context, raw string) (switchboard.Principal, error) {
	v.calls.Add(1)
	if len(raw) > 4 && raw[:4] == "tok-" {
		return switchboard.Principal{ID: raw[4:], Role: switchboard.RoleUser, Tenant: "t"}, nil
	}
	return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENINVALID, "bad token")
}

// TestLimitRequests: a principal's ninth concurrent request is refused
// 429 RATE_LIMITED while eight are in flight; another principal and
// requests without a valid token are not counted against it; the handler's
// own Verify reuses the middleware's.
func TestLimitRequests(t *testing.T) {
	l, _, _ := newTestLimiter(Options{MaxRequests: 8})
	v := &fakeVerifier{}
	rv := RequestVerifier(v)
	gate := make(chan struct{})
	var inside sync.WaitGroup
	e := echo.New()
	g := e.Group("/api/v1", l.LimitRequests(v))
	g.GET("/slow", func(c echo.Context) error {
		raw, err := switchboard.BearerToken(c.Request())
		if err != nil {
			return switchboard.WriteHTTPError(c.Response(), err)
		}
		if _, err := rv.Verify(c.Request().Context(), raw); err != nil {
			return switchboard.WriteHTTPError(c.Response(), err)
		}
		inside.Done()
		<-gate
		return c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	get := func(token string) (int, map[string]any) {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/slow", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(r)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	var done sync.WaitGroup
	inside.Add(8)
	for range 8 {
		done.Add(1)
		go func() { defer done.Done(); get("tok-user-1") }()
	}
	inside.Wait()
	if n := l.InFlight(switchboard.Principal{ID: "user-1", Role: switchboard.RoleUser, Tenant: "t"}); n != 8 {
		t.Fatalf("%d requests in flight, want 8", n)
	}
	status, body := get("tok-user-1")
	if status != http.StatusTooManyRequests || body["code"] != switchboard.ERATELIMITED {
		t.Fatalf("the ninth request: %d %v, want 429 RATE_LIMITED", status, body)
	}
	if status, _ := get("bad"); status != http.StatusUnauthorized {
		t.Fatalf("an invalid token: %d, want the handler's 401", status)
	}
	inside.Add(1)
	done.Add(1)
	go func() { defer done.Done(); get("tok-user-2") }()
	waitOrFail(t, &inside, "another user's request")
	if calls := v.calls.Load(); calls != 8+1+2+1 { // 8, the refused one, "bad" twice (middleware and handler), user-2
		t.Errorf("Verify called %d times: the handler verified again what the middleware had", calls)
	}
	close(gate)
	done.Wait()
	if status, _ := get(""); status != http.StatusUnauthorized {
		t.Fatalf("no token: %d, want 401", status)
	}
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal(errors.New(what + " did not get through"))
	}
}

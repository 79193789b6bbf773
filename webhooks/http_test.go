package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/webhooks"
)

// tokens is a verifier of fixed tokens.
type tokens map[string]switchboard.Principal

func (v tokens) Verify(_ context.Context, raw string) (switchboard.Principal, error) {
	p, ok := v[raw]
	if !ok {
		return p, switchboard.Errorf(switchboard.ETOKENINVALID, "unknown token")
	}
	return p, nil
}

var testTokens = tokens{
	"program-42": {ID: "program-42", Role: switchboard.RoleProgram, ProgramID: "program-42", Tenant: "acme"},
	"program-7":  {ID: "program-7", Role: switchboard.RoleProgram, ProgramID: "program-7", Tenant: "acme"},
	"operator":   {ID: "operator-1", Role: switchboard.RoleOperator, Admin: true, Tenant: "acme"},
	"user":       {ID: "user-1", Role: switchboard.RoleUser, Tenant: "acme"},
	"globex-42":  {ID: "program-42", Role: switchboard.RoleProgram, ProgramID: "program-42", Tenant: "globex"},
}

type api struct {
	t   *testing.T
	srv *httptest.Server
}

func newAPI(t *testing.T, e *env) *api {
	ec := echo.New()
	webhooks.NewHTTP(e.store, testTokens).Register(ec.Group("/api/v1"))
	srv := httptest.NewServer(ec)
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv}
}

func (a *api) call(method, path, token, body string) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.srv.URL+"/api/v1"+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

const hookPath = "/programs/program-42/webhook"

// TestWebhookAPI: only the program itself manages its webhook; bad
// registrations are refused and change nothing; GET never shows the
// secret.
func TestWebhookAPI(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := newAPI(t, e)
		good := `{"url":"https://example.com/hook","secret":"` + secret + `","events":["new","changed"]}`
		for _, c := range []struct {
			name, method, token, body string
			want                      int
		}{
			{"no token", "PUT", "", good, 401},
			{"operator", "PUT", "operator", good, 403},
			{"user", "PUT", "user", good, 403},
			{"another program", "PUT", "program-7", good, 403},
			{"operator reads", "GET", "operator", "", 403},
			{"another program reads the log", "GET", "program-7", "", 403},
			{"ftp url", "PUT", "program-42", `{"url":"ftp://example.com/x","secret":"` + secret + `"}`, 400},
			{"relative url", "PUT", "program-42", `{"url":"/hook","secret":"` + secret + `"}`, 400},
			{"javascript url", "PUT", "program-42", `{"url":"javascript:alert(1)","secret":"` + secret + `"}`, 400},
			{"credentials in url", "PUT", "program-42", `{"url":"https://a:b@example.com/","secret":"` + secret + `"}`, 400},
			{"short secret", "PUT", "program-42", `{"url":"https://example.com/","secret":"short"}`, 400},
			{"no secret", "PUT", "program-42", `{"url":"https://example.com/"}`, 400},
			{"secret not a string", "PUT", "program-42", `{"url":"https://example.com/","secret":12345678901234567}`, 400},
			{"unknown event", "PUT", "program-42", `{"url":"https://example.com/","secret":"` + secret + `","events":["exploded"]}`, 400},
			{"not json", "PUT", "program-42", `url=x`, 400},
			{"huge", "PUT", "program-42", `{"url":"https://example.com/","secret":"` + strings.Repeat("s", 20000) + `"}`, 400},
			{"none yet", "GET", "program-42", "", 404},
		} {
			path := hookPath
			if strings.Contains(c.name, "log") {
				path += "/deliveries"
			}
			if got, body := a.call(c.method, path, c.token, c.body); got != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, got, body, c.want)
			}
		}
		if _, err := e.store.Get(context.Background(), acme42); err == nil {
			t.Fatal("a refused registration was stored")
		}

		if got, body := a.call("PUT", hookPath, "program-42", good); got != 200 || strings.Contains(body, secret) {
			t.Fatalf("register: %d %s", got, body)
		}
		got, body := a.call("GET", hookPath, "program-42", "")
		var v map[string]any
		_ = json.Unmarshal([]byte(body), &v)
		if got != 200 || strings.Contains(body, secret) || v["url"] != "https://example.com/hook" || v["parked"] != false {
			t.Fatalf("GET: %d %s", got, body)
		}
		if got, _ := a.call("GET", hookPath, "globex-42", ""); got != 404 {
			t.Fatalf("globex's program-42 sees acme's webhook: %d", got)
		}
		if got, body := a.call("GET", hookPath+"/deliveries", "program-42", ""); got != 200 || body != "[]\n" {
			t.Fatalf("deliveries: %d %s", got, body)
		}
		if got, _ := a.call("DELETE", hookPath, "operator", ""); got != 403 {
			t.Fatalf("operator deletes: %d", got)
		}
		if got, _ := a.call("DELETE", hookPath, "program-42", ""); got != 204 {
			t.Fatalf("delete: %d", got)
		}
		if got, _ := a.call("DELETE", hookPath, "program-42", ""); got != 404 {
			t.Fatalf("delete again: %d", got)
		}
	})
}

package canned_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/canned"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/openapitest"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// tokens is a verifier of fixed tokens: each role by its name.
type tokens map[string]switchboard.Principal

func (v tokens) Verify(_ context.Context, raw string) (switchboard.Principal, error) {
	p, ok := v[raw]
	if !ok {
		return p, switchboard.Errorf(switchboard.ETOKENINVALID, "unknown token")
	}
	return p, nil
}

var roles = tokens{
	"user":       {ID: "user-1", Role: switchboard.RoleUser, Tenant: "t"},
	"program":    {ID: "program-42", ProgramID: "program-42", Role: switchboard.RoleProgram, Tenant: "t"},
	"operator":   {ID: "operator-2", Role: switchboard.RoleOperator, Tenant: "t"},
	"operator3":  {ID: "operator-3", Role: switchboard.RoleOperator, Tenant: "t"},
	"supervisor": {ID: "supervisor-1", Role: switchboard.RoleOperator, Supervisor: true, Tenant: "t"},
	"admin":      {ID: "operator-1", Role: switchboard.RoleOperator, Admin: true, Tenant: "t"},
	"other":      {ID: "operator-9", Role: switchboard.RoleOperator, Admin: true, Tenant: "other"},
}

type api struct {
	t   *testing.T
	url string
}

// do sends a request as token and returns its status and decoded body.
func (a api) do(method, path, token, body string) (int, map[string]any) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.url+"/api/v1"+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func shortcuts(body map[string]any) []string {
	var out []string
	items, _ := body["items"].([]any)
	for _, it := range items {
		r := it.(map[string]any)
		out = append(out, r["scope"].(string)+":"+r["shortcut"].(string))
	}
	return out
}

// TestCannedResponsesREST runs every route with every role and bad input
// on both databases: operators list the tenant's and their own; the
// tenant's are the supervisors' (and administrators') to manage, a
// personal one its owner's alone; users and programs are refused; a
// refused request changes nothing.
func TestCannedResponsesREST(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			c := database.NewCommitter(db, nil, database.CommitterOptions{})
			t.Cleanup(c.Close)
			e := echo.New()
			canned.NewHTTP(canned.NewService(db, c, canned.Options{}), roles).Register(e.Group("/api/v1"))
			srv := httptest.NewServer(openapitest.Handler(t, e))
			t.Cleanup(srv.Close)
			a := api{t, srv.URL}

			create := func(token, body string, want int) map[string]any {
				t.Helper()
				status, got := a.do("POST", "/canned-responses", token, body)
				if status != want {
					t.Fatalf("POST %s as %s: %d %v, want %d", body, token, status, got, want)
				}
				return got
			}
			greet := create("supervisor", `{"shortcut":"greet","text":"Hello {{user.name}}, I am {{operator.name}}.","scope":"tenant"}`, 201)
			if greet["text"] != "Hello {{user.name}}, I am {{operator.name}}." || greet["ownerId"] != nil {
				t.Errorf("placeholders are stored as written, a tenant response has no owner: %v", greet)
			}
			create("admin", `{"shortcut":"bye","text":"Goodbye","scope":"tenant"}`, 201)
			mine := create("operator", `{"shortcut":"greet","text":"Hi!","scope":"personal"}`, 201)
			if mine["ownerId"] != "operator-2" {
				t.Errorf("a personal response's owner: %v", mine)
			}
			create("operator3", `{"shortcut":"greet","text":"Hey","scope":"personal"}`, 201)

			for _, bad := range []struct {
				token, body string
				status      int
			}{
				{"operator", `{"shortcut":"x","text":"y","scope":"tenant"}`, 403},
				{"user", `{"shortcut":"x","text":"y","scope":"personal"}`, 403},
				{"program", `{"shortcut":"x","text":"y","scope":"personal"}`, 403},
				{"", `{"shortcut":"x","text":"y","scope":"personal"}`, 401},
				{"supervisor", `{"shortcut":"greet","text":"again","scope":"tenant"}`, 409},
				{"operator", `{"shortcut":"greet","text":"again","scope":"personal"}`, 409},
				{"operator", `{"shortcut":"Greet!","text":"y","scope":"personal"}`, 400},
				{"operator", `{"shortcut":"` + strings.Repeat("a", 33) + `","text":"y","scope":"personal"}`, 400},
				{"operator", `{"shortcut":"x","text":"","scope":"personal"}`, 400},
				{"operator", `{"shortcut":"x","text":"` + strings.Repeat("a", canned.MaxText+1) + `","scope":"personal"}`, 400},
				{"operator", `{"shortcut":"x","text":"y","scope":"team"}`, 400},
				{"operator", `{"shortcut":"x","text":"y"}`, 400},
				{"operator", `{"shortcut":7,"text":"y","scope":"personal"}`, 400},
				{"operator", `["x"]`, 400},
				{"operator", `not json`, 400},
				{"operator", `{"shortcut":"x","text":"` + strings.Repeat("a", 1<<20) + `","scope":"personal"}`, 400},
			} {
				create(bad.token, bad.body, bad.status)
			}

			list := func(token string) (int, []string) {
				status, body := a.do("GET", "/canned-responses", token, "")
				return status, shortcuts(body)
			}
			if _, got := list("operator"); strings.Join(got, " ") != "tenant:bye tenant:greet personal:greet" {
				t.Errorf("operator-2 sees %v", got)
			}
			if _, got := list("supervisor"); strings.Join(got, " ") != "tenant:bye tenant:greet" {
				t.Errorf("supervisor-1 sees %v (no one else's personal ones)", got)
			}
			if _, got := list("other"); len(got) != 0 {
				t.Errorf("another tenant sees %v", got)
			}
			for _, token := range []string{"user", "program"} {
				if status, _ := list(token); status != 403 {
					t.Errorf("GET as %s: %d, want 403", token, status)
				}
			}

			// Changes: the tenant's by supervisors, a personal one by its
			// owner; another's personal one is not found.
			gid, mid := greet["id"].(string), mine["id"].(string)
			for _, c := range []struct {
				method, path, token, body string
				status                    int
			}{
				{"PUT", "/canned-responses/" + gid, "operator", `{"text":"no"}`, 403},
				{"PUT", "/canned-responses/" + gid, "user", `{"text":"no"}`, 403},
				{"PUT", "/canned-responses/" + gid, "program", `{"text":"no"}`, 403},
				{"PUT", "/canned-responses/" + gid, "other", `{"text":"no"}`, 404},
				{"PUT", "/canned-responses/" + mid, "operator3", `{"text":"no"}`, 404},
				{"PUT", "/canned-responses/" + mid, "supervisor", `{"text":"no"}`, 404},
				{"PUT", "/canned-responses/" + gid, "supervisor", `{"shortcut":"bye"}`, 409},
				{"PUT", "/canned-responses/" + gid, "supervisor", `{"shortcut":"BYE"}`, 400},
				{"PUT", "/canned-responses/" + gid, "supervisor", `{"scope":"personal"}`, 400},
				{"PUT", "/canned-responses/" + gid, "supervisor", `{"text":5}`, 400},
				{"PUT", "/canned-responses/nope", "supervisor", `{"text":"x"}`, 404},
				{"DELETE", "/canned-responses/" + gid, "operator", ``, 403},
				{"DELETE", "/canned-responses/" + mid, "operator3", ``, 404},
				{"DELETE", "/canned-responses/" + mid, "user", ``, 403},
				{"PUT", "/canned-responses/" + gid, "admin", `{"shortcut":"hello","text":"Hello {{user.name}}"}`, 200},
				{"PUT", "/canned-responses/" + mid, "operator", `{"text":"Hi there"}`, 200},
				{"DELETE", "/canned-responses/" + mid, "operator", ``, 204},
				{"DELETE", "/canned-responses/" + mid, "operator", ``, 404},
			} {
				if status, body := a.do(c.method, c.path, c.token, c.body); status != c.status {
					t.Errorf("%s %s %s as %s: %d %v, want %d", c.method, c.path, c.body, c.token, status, body, c.status)
				}
			}
			_, body := a.do("GET", "/canned-responses", "operator", "")
			if got := shortcuts(body); strings.Join(got, " ") != "tenant:bye tenant:hello" {
				t.Errorf("after the changes operator-2 sees %v", got)
			}
			for _, it := range body["items"].([]any) {
				if r := it.(map[string]any); r["shortcut"] == "hello" && r["text"] != "Hello {{user.name}}" {
					t.Errorf("changed text: %v", r)
				}
			}
		})
	}
}

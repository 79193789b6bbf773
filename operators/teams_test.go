package operators_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/openapitest"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/operators"
)

// TestTeamsHTTP: administrators create, rename, staff and delete teams;
// every operator reads them; anyone else, bad ids and unknown teams or
// operators get clear errors and change nothing.
func TestTeamsHTTP(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			users := []chat.User{
				{Tenant: "t", ID: "ann", Role: string(switchboard.RoleOperator), FullName: "Ann"},
				{Tenant: "t", ID: "bob", Role: string(switchboard.RoleOperator), FullName: "Bob"},
				{Tenant: "t", ID: "uma", Role: string(switchboard.RoleUser), FullName: "Uma"},
				{Tenant: "other", ID: "oz", Role: string(switchboard.RoleOperator), FullName: "Oz"},
			}
			if err := db.Create(&users).Error; err != nil {
				t.Fatal(err)
			}
			c := database.NewCommitter(db, nil, database.CommitterOptions{})
			t.Cleanup(c.Close)
			var disbanded, changed []string
			teams := operators.NewTeams(db, c, operators.TeamsOptions{
				Disbanded: func(_ *gorm.DB, by switchboard.Principal, team string, _ int64) ([]switchboard.Event, error) {
					disbanded = append(disbanded, by.ID+" "+team)
					return nil, nil
				},
				Changed: func(tenant string) { changed = append(changed, tenant) },
			})
			tokens := operatorTokens{}
			for _, u := range users {
				tokens[u.ID] = switchboard.Principal{ID: u.ID, Tenant: u.Tenant, Role: switchboard.Role(u.Role),
					Admin: u.ID == "ann" || u.ID == "oz"}
			}
			router := echo.New()
			operators.NewTeamsHTTP(teams, tokens).Register(router.Group("/api/v1"))
			srv := httptest.NewServer(openapitest.Handler(t, router))
			t.Cleanup(srv.Close)
			call := func(who, method, path, body string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest(method, srv.URL+"/api/v1"+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+who)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, strings.TrimSpace(string(b))
			}
			expect := func(who, method, path, body string, status int, want string) {
				t.Helper()
				got, b := call(who, method, path, body)
				if got != status || !strings.Contains(b, want) {
					t.Errorf("%s %s %s as %s: %d %s, want %d with %q", method, path, body, who, got, b, status, want)
				}
			}

			expect("ann", "PUT", "/teams/billing", `{"name": "Billing", "email": "billing@example.com"}`, 201,
				`{"email":"billing@example.com","members":[],"name":"Billing","teamId":"billing"}`)
			expect("ann", "PUT", "/teams/billing", `{"name": "Billing and refunds"}`, 200, `"name":"Billing and refunds"`)
			expect("ann", "PUT", "/teams/billing/members/bob", ``, 200, `"members":["bob"]`)
			expect("ann", "PUT", "/teams/billing/members/ann", ``, 200, `"members":["ann","bob"]`)
			expect("ann", "PUT", "/teams/billing/members/ann", ``, 200, `"members":["ann","bob"]`) // again: no-op
			expect("ann", "PUT", "/teams/sales", `{"name": "Sales"}`, 201, `"teamId":"sales"`)
			expect("bob", "GET", "/teams", ``, 200,
				`[{"email":"","members":["ann","bob"],"name":"Billing and refunds","teamId":"billing"},`+
					`{"email":"","members":[],"name":"Sales","teamId":"sales"}]`)
			expect("oz", "GET", "/teams", ``, 200, `[]`) // another tenant's

			before := fmt.Sprint(call("bob", "GET", "/teams", ""))
			for _, r := range []struct {
				who, method, path, body string
				status                  int
				code                    string
			}{
				{"bob", "PUT", "/teams/support", `{"name": "Support"}`, 403, "FORBIDDEN"},
				{"bob", "DELETE", "/teams/billing", ``, 403, "FORBIDDEN"},
				{"bob", "PUT", "/teams/billing/members/bob", ``, 403, "FORBIDDEN"},
				{"bob", "DELETE", "/teams/billing/members/ann", ``, 403, "FORBIDDEN"},
				{"uma", "GET", "/teams", ``, 403, "FORBIDDEN"},
				{"nobody", "GET", "/teams", ``, 401, "TOKEN_INVALID"},
				{"ann", "PUT", "/teams/Billing", `{"name": "B"}`, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/" + strings.Repeat("a", 41), `{"name": "B"}`, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/bill_ing", `{"name": "B"}`, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/support", `{}`, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/support", `{"name": "  "}`, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/support", `{"name": 7}`, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/support", `{"name": "` + strings.Repeat("x", 201) + `"}`, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/support", `{"name": "S", "email": "not an address"}`, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/support", `{"name": "S", "email": "Support <s@example.com>"}`, 400, "INVALID_REQUEST"},
				{"ann", "DELETE", "/teams/support", ``, 404, "NOT_FOUND"},
				{"ann", "DELETE", "/teams/BAD", ``, 400, "INVALID_REQUEST"},
				{"ann", "PUT", "/teams/support/members/bob", ``, 404, "NOT_FOUND"},
				{"ann", "PUT", "/teams/sales/members/uma", ``, 404, "NOT_FOUND"}, // an end user
				{"ann", "PUT", "/teams/sales/members/oz", ``, 404, "NOT_FOUND"},  // another tenant's
				{"ann", "PUT", "/teams/sales/members/zed", ``, 404, "NOT_FOUND"},
				{"oz", "DELETE", "/teams/billing", ``, 404, "NOT_FOUND"}, // another tenant's administrator
			} {
				expect(r.who, r.method, r.path, r.body, r.status, `"code":"`+r.code+`"`)
			}
			if after := fmt.Sprint(call("bob", "GET", "/teams", "")); after != before {
				t.Errorf("refused calls changed the teams:\n%s\n%s", before, after)
			}

			expect("ann", "DELETE", "/teams/billing/members/bob", ``, 200, `"members":["ann"]`)
			expect("ann", "DELETE", "/teams/billing", ``, 204, ``)
			expect("bob", "GET", "/teams", ``, 200, `[{"email":"","members":[],"name":"Sales","teamId":"sales"}]`)
			var left int64
			if err := db.Table("team_members").Count(&left).Error; err != nil || left != 0 {
				t.Errorf("%d memberships left after the delete (%v)", left, err)
			}
			if fmt.Sprint(disbanded) != "[ann billing]" {
				t.Errorf("disbanded %v", disbanded)
			}
			// Three additions (one a no-op), a removal, a deletion: routing hears of each.
			if len(changed) != 5 {
				t.Errorf("changes heard %v, want 5", changed)
			}
			var list []map[string]any
			_, body := call("ann", "GET", "/teams", "")
			if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 1 {
				t.Errorf("list %s: %v", body, err)
			}
		})
	}
}

package hours_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/hours"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

type tokens map[string]switchboard.Principal

func (v tokens) Verify(_ context.Context, raw string) (switchboard.Principal, error) {
	p, ok := v[raw]
	if !ok {
		return p, switchboard.Errorf(switchboard.ETOKENINVALID, "unknown token")
	}
	return p, nil
}

// weekdaysOnly is open Monday to Friday 09:00–17:00 in New York.
const weekdaysOnly = `{"timeZone": "America/New_York", "weekly": {
	"mon": [{"from": "09:00", "to": "17:00"}], "tue": [{"from": "09:00", "to": "17:00"}],
	"wed": [{"from": "09:00", "to": "17:00"}], "thu": [{"from": "09:00", "to": "17:00"}],
	"fri": [{"from": "09:00", "to": "17:00"}]}, "holidays": ["2026-12-25"], "email": "help@example.com"}`

// TestHoursOverREST: administrators set, read and delete the tenant's
// and a team's hours; others may not; bad schedules change nothing;
// availability follows the team's hours, else the tenant's, else is
// always open, and says when nobody is online.
func TestHoursOverREST(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			c := database.NewCommitter(db, nil, database.CommitterOptions{})
			t.Cleanup(c.Close)
			// Saturday 2026-12-12, noon in New York.
			now := time.Date(2026, 12, 12, 17, 0, 0, 0, time.UTC)
			staffed := true
			svc := hours.NewService(db, c, hours.Options{Now: func() time.Time { return now },
				OfflineEmailTo: "fallback@example.com",
				Staffed:        func(context.Context, string, string) (bool, error) { return staffed, nil }})
			e := echo.New()
			hours.NewHTTP(svc, tokens{
				"admin":   {ID: "op-1", Role: switchboard.RoleOperator, Admin: true, Tenant: "t"},
				"op":      {ID: "op-2", Role: switchboard.RoleOperator, Tenant: "t"},
				"visitor": {ID: "visitor:1", Role: switchboard.RoleUser, Tenant: "t"},
				"other":   {ID: "op-9", Role: switchboard.RoleOperator, Admin: true, Tenant: "u"},
			}).Register(e.Group("/api/v1"))
			srv := httptest.NewServer(e)
			t.Cleanup(srv.Close)
			call := func(method, path, token, body string) (int, map[string]any) {
				t.Helper()
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var out map[string]any
				_ = json.NewDecoder(res.Body).Decode(&out)
				return res.StatusCode, out
			}
			availability := func(token, team string) map[string]any {
				t.Helper()
				status, body := call("GET", "/api/v1/availability?team="+team, token, "")
				if status != 200 {
					t.Fatalf("availability %q: %d %v", team, status, body)
				}
				return body
			}

			if got := availability("visitor", ""); got["open"] != true || got["reason"] != "" {
				t.Fatalf("no hours stored: %v, want always open", got)
			}
			for _, c := range []struct {
				token string
				want  int
			}{{"", 401}, {"op", 403}, {"visitor", 403}} {
				if status, _ := call("PUT", "/api/v1/hours", c.token, weekdaysOnly); status != c.want {
					t.Errorf("PUT by %q: %d, want %d", c.token, status, c.want)
				}
			}
			for name, bad := range map[string]string{
				"not JSON":      `{"timeZone":`,
				"unknown field": `{"timeZone": "UTC", "weeklly": {}}`,
				"bad zone":      `{"timeZone": "Nowhere/Atlantis"}`,
				"bad interval":  `{"timeZone": "UTC", "weekly": {"mon": [{"from": "17:00", "to": "09:00"}]}}`,
				"bad email":     `{"timeZone": "UTC", "email": "x@example.com\r\nBcc: y@example.com"}`,
				"huge":          `{"timeZone": "UTC", "email": "` + strings.Repeat("x", 70<<10) + `"}`,
			} {
				if status, body := call("PUT", "/api/v1/hours", "admin", bad); status != 400 || body["code"] != "INVALID_REQUEST" {
					t.Errorf("%s: %d %v, want 400", name, status, body)
				}
			}
			if status, _ := call("PUT", "/api/v1/hours/no%20such%20team", "admin", weekdaysOnly); status != 400 {
				t.Errorf("a team id with spaces: %d, want 400", status)
			}
			if status, _ := call("GET", "/api/v1/hours", "admin", ""); status != 404 {
				t.Fatalf("bad schedules were stored: GET %d", status)
			}

			status, body := call("PUT", "/api/v1/hours", "admin", weekdaysOnly)
			if status != 200 || body["timeZone"] != "America/New_York" || body["email"] != "help@example.com" {
				t.Fatalf("PUT: %d %v", status, body)
			}
			if status, got := call("GET", "/api/v1/hours", "op", ""); status != 200 || got["team"] != "" ||
				len(got["weekly"].(map[string]any)) != 5 || got["holidays"].([]any)[0] != "2026-12-25" {
				t.Fatalf("GET by an operator: %d %v", status, got)
			}
			if status, _ := call("GET", "/api/v1/hours", "visitor", ""); status != 403 {
				t.Errorf("GET by a visitor: %d, want 403", status)
			}
			// Saturday: closed, open again Monday 09:00 New York (14:00 UTC).
			if got := availability("visitor", ""); got["open"] != false || got["reason"] != "hours" ||
				got["nextOpenAt"] != "2026-12-14T14:00:00.000Z" {
				t.Fatalf("Saturday: %v", got)
			}
			// A team without hours of its own follows the tenant's.
			if status, _ := call("GET", "/api/v1/hours/billing", "admin", ""); status != 404 {
				t.Errorf("GET billing without its own: %d, want 404", status)
			}
			if got := availability("visitor", "billing"); got["reason"] != "hours" {
				t.Fatalf("billing follows the tenant: %v", got)
			}
			if addr, _ := svc.OfflineAddress(context.Background(), "t", "billing"); addr != "help@example.com" {
				t.Errorf("billing's offline address %q, want the tenant's", addr)
			}
			// A team open at weekends, with no address of its own.
			weekend := `{"timeZone": "UTC", "weekly": {"sat": [{"from": "00:00", "to": "24:00"}]}}`
			if status, body := call("PUT", "/api/v1/hours/billing", "admin", weekend); status != 200 || body["team"] != "billing" {
				t.Fatalf("PUT billing: %d %v", status, body)
			}
			if got := availability("visitor", "billing"); got["open"] != true {
				t.Fatalf("billing on Saturday: %v", got)
			}
			if addr, _ := svc.OfflineAddress(context.Background(), "t", "billing"); addr != "help@example.com" {
				t.Errorf("billing's offline address %q, want the tenant's", addr)
			}
			staffed = false
			if got := availability("visitor", "billing"); got["open"] != false || got["reason"] != "nobody-online" || got["nextOpenAt"] != nil {
				t.Fatalf("nobody online: %v", got)
			}
			staffed = true
			// Another tenant sees none of it.
			if got := availability("other", ""); got["open"] != true {
				t.Fatalf("another tenant: %v", got)
			}
			if status, _ := call("DELETE", "/api/v1/hours", "op", ""); status != 403 {
				t.Errorf("DELETE by an operator: %d", status)
			}
			if status, body := call("DELETE", "/api/v1/hours", "admin", ""); status != 200 || body["deleted"] != true {
				t.Fatalf("DELETE: %d %v", status, body)
			}
			if status, body := call("DELETE", "/api/v1/hours", "admin", ""); status != 200 || body["deleted"] != false {
				t.Fatalf("DELETE again: %d %v", status, body)
			}
			if got := availability("visitor", ""); got["open"] != true {
				t.Fatalf("after DELETE: %v", got)
			}
			if addr, _ := svc.OfflineAddress(context.Background(), "t", ""); addr != "fallback@example.com" {
				t.Errorf("offline address without hours: %q, want the server's", addr)
			}
			if status, _ := call("GET", "/api/v1/availability?team=a%2Fb", "visitor", ""); status != 400 {
				t.Errorf("availability of a bad team id: %d, want 400", status)
			}
		})
	}
}

package operators_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/openapitest"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/operators"
)

type operatorTokens map[string]switchboard.Principal

func (v operatorTokens) Verify(_ context.Context, raw string) (switchboard.Principal, error) {
	p, ok := v[raw]
	if !ok {
		return p, switchboard.Errorf(switchboard.ETOKENINVALID, "unknown token")
	}
	return p, nil
}

var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// TestRosterPages pages through a large roster: never more than a page's
// limit, every operator exactly once, by name.
func TestRosterPages(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			const n = 510
			users := make([]chat.User, n)
			for i := range users {
				// Names repeat: the cursor must break the ties by id.
				users[i] = chat.User{Tenant: "t", ID: fmt.Sprintf("op-%03d", i), Role: string(switchboard.RoleOperator),
					FullName: fmt.Sprintf("Operator %02d", i%40), Status: "AVAILABLE"}
			}
			if err := db.CreateInBatches(users, 100).Error; err != nil {
				t.Fatal(err)
			}
			var want []string
			if err := db.Model(&chat.User{}).Order("full_name, id").Pluck("id", &want).Error; err != nil {
				t.Fatal(err)
			}
			c := database.NewCommitter(db, nil, database.CommitterOptions{})
			t.Cleanup(c.Close)
			roster := operators.NewRoster(db, c, &operators.Presence{}, operators.RosterOptions{})
			router := echo.New()
			viewer := switchboard.Principal{ID: "op-000", Role: switchboard.RoleOperator, Tenant: "t"}
			operators.NewHTTP(roster, operatorTokens{"op": viewer}).Register(router.Group("/api/v1"))
			srv := httptest.NewServer(openapitest.Handler(t, router))
			t.Cleanup(srv.Close)

			get := func(path string) (status int, next string, items []map[string]any) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer op")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				if m := nextLink.FindStringSubmatch(res.Header.Get("Link")); m != nil {
					next = m[1]
				}
				if res.StatusCode == http.StatusOK {
					if err := json.NewDecoder(res.Body).Decode(&items); err != nil {
						t.Fatalf("GET %s: %v", path, err)
					}
				}
				return res.StatusCode, next, items
			}

			var got []string
			var sizes []int
			for path := "/api/v1/operators?limit=200"; path != ""; {
				status, next, items := get(path)
				if status != http.StatusOK {
					t.Fatalf("GET %s: %d", path, status)
				}
				for _, it := range items {
					got = append(got, it["operatorId"].(string))
				}
				sizes = append(sizes, len(items))
				path = next
			}
			if fmt.Sprint(sizes) != "[200 200 110]" || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("pages of %v; every operator once, by name: %v", sizes, fmt.Sprint(got) == fmt.Sprint(want))
			}
			if status, _, items := get("/api/v1/operators"); status != http.StatusOK || len(items) != switchboard.DefaultPageLimit {
				t.Errorf("no limit: %d, %d operators, want %d", status, len(items), switchboard.DefaultPageLimit)
			}
			if status, next, items := get("/api/v1/operators?limit=100000"); status != http.StatusOK ||
				len(items) != switchboard.MaxPageLimit || next == "" {
				t.Errorf("limit=100000: %d, %d operators, next %q", status, len(items), next)
			}
			for _, bad := range []string{"limit=0", "limit=x", "limit=-5", "cursor=nope"} {
				if status, _, _ := get("/api/v1/operators?" + bad); status != http.StatusBadRequest {
					t.Errorf("%s: %d, want 400", bad, status)
				}
			}
		})
	}
}

package operators_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/openapitest"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/operators"
	"github.com/switchboard-chat/switchboard/tickets"
)

// rosterServer serves the operators' routes over real HTTP on a fresh
// database holding ann and bob (operators; bob INVISIBLE) and uma (an end
// user). Tokens are the principals' ids.
type rosterServer struct {
	t        *testing.T
	db       *database.DB
	url      string
	presence *operators.Presence
	changes  []string // the status changes the roster published
	// mayTakeMore are the tenants the roster said an operator may take
	// more tickets in.
	mayTakeMore []string
}

func newRosterServer(t *testing.T, dialect string) *rosterServer {
	t.Helper()
	db := testdb.Open(t, dialect)
	users := []chat.User{
		{Tenant: "t", ID: "ann", Role: string(switchboard.RoleOperator), FullName: "Ann", Status: "AVAILABLE"},
		{Tenant: "t", ID: "bob", Role: string(switchboard.RoleOperator), FullName: "Bob", Status: chat.Invisible},
		{Tenant: "t", ID: "uma", Role: string(switchboard.RoleUser), FullName: "Uma", Status: "AVAILABLE"},
	}
	if err := db.Create(&users).Error; err != nil {
		t.Fatal(err)
	}
	c := database.NewCommitter(db, nil, database.CommitterOptions{})
	t.Cleanup(c.Close)
	rs := &rosterServer{t: t, db: db, presence: &operators.Presence{}}
	roster := operators.NewRoster(db, c, rs.presence, operators.RosterOptions{
		StatusEvents: func(_ *gorm.DB, tenant, id, before string) ([]switchboard.Event, error) {
			rs.changes = append(rs.changes, tenant+"/"+id+" from "+before)
			return nil, nil
		},
		MayTakeMore:     func(tenant string) { rs.mayTakeMore = append(rs.mayTakeMore, tenant) },
		DefaultCapacity: 3,
	})
	tokens := operatorTokens{}
	for _, u := range users {
		tokens[u.ID] = switchboard.Principal{ID: u.ID, Tenant: "t", Role: switchboard.Role(u.Role), Admin: u.ID == "ann"}
	}
	router := echo.New()
	operators.NewHTTP(roster, tokens).Register(router.Group("/api/v1"))
	srv := httptest.NewServer(openapitest.Handler(t, router))
	t.Cleanup(srv.Close)
	rs.url = srv.URL
	return rs
}

// do sends a request as token ("" for none) and decodes a JSON answer.
func (rs *rosterServer) do(method, path, token, body string) (int, any) {
	rs.t.Helper()
	req, _ := http.NewRequest(method, rs.url+path, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		rs.t.Fatal(err)
	}
	defer res.Body.Close()
	var out any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// roster is GET /operators as viewer: each operator as "status online".
func (rs *rosterServer) roster(viewer string) map[string]string {
	rs.t.Helper()
	status, out := rs.do(http.MethodGet, "/api/v1/operators", viewer, "")
	if status != http.StatusOK {
		rs.t.Fatalf("GET /operators as %s: %d %v", viewer, status, out)
	}
	got := map[string]string{}
	for _, it := range out.([]any) {
		o := it.(map[string]any)
		online := "offline"
		if o["online"] == true {
			online = "online"
		}
		got[o["operatorId"].(string)] = o["status"].(string) + " " + online
	}
	return got
}

func (rs *rosterServer) storedStatus(id string) string {
	rs.t.Helper()
	var u chat.User
	if err := rs.db.Where("tenant = ? AND id = ?", "t", id).First(&u).Error; err != nil {
		rs.t.Fatal(err)
	}
	return u.Status
}

// TestRosterPresence: an operator is online while one of its subscribed
// sockets is; an INVISIBLE operator is shown offline and AVAILABLE to
// everyone but itself; end users are not on the roster.
func TestRosterPresence(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			rs := newRosterServer(t, dialect)
			if got := rs.roster("ann"); len(got) != 2 || got["ann"] != "AVAILABLE offline" || got["bob"] != "AVAILABLE offline" {
				t.Fatalf("nobody subscribed: %v", got)
			}
			if !rs.presence.Join("t", "ann") || rs.presence.Join("t", "ann") || !rs.presence.Join("t", "bob") {
				t.Fatal("Join reports coming online on the first socket only")
			}
			if got := rs.roster("ann"); got["ann"] != "AVAILABLE online" || got["bob"] != "AVAILABLE offline" {
				t.Errorf("as ann: %v", got)
			}
			if got := rs.roster("bob"); got["bob"] != "INVISIBLE online" {
				t.Errorf("bob sees itself: %v", got)
			}
			if rs.presence.Leave("t", "ann") || !rs.presence.Online("t", "ann") {
				t.Error("one of two sockets left: still online")
			}
			if !rs.presence.Leave("t", "ann") || rs.presence.Leave("t", "ann") {
				t.Error("Leave reports going offline on the last socket only, once")
			}
			if got := rs.roster("bob"); got["ann"] != "AVAILABLE offline" {
				t.Errorf("ann gone: %v", got)
			}
		})
	}
}

// TestRosterStatusOverHTTP: an operator sets its own status (any case);
// a change is published once, a repeat not at all; a bad status or body
// is 400 and changes nothing; only operators reach the roster.
func TestRosterStatusOverHTTP(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			rs := newRosterServer(t, dialect)
			put := func(token, body string) int {
				status, _ := rs.do(http.MethodPut, "/api/v1/operators/me/status", token, body)
				return status
			}
			status, out := rs.do(http.MethodPut, "/api/v1/operators/me/status", "ann", `{"status":"away"}`)
			if status != http.StatusOK || out.(map[string]any)["status"] != "AWAY" || rs.storedStatus("ann") != "AWAY" {
				t.Fatalf("away: %d %v, stored %s", status, out, rs.storedStatus("ann"))
			}
			if put("ann", `{"status":"AWAY"}`) != http.StatusOK {
				t.Fatal("the same status again")
			}
			if len(rs.changes) != 1 || rs.changes[0] != "t/ann from AVAILABLE" {
				t.Errorf("published %v, want one change from AVAILABLE", rs.changes)
			}
			if got := rs.roster("bob"); got["ann"] != "AWAY offline" {
				t.Errorf("roster after the change: %v", got)
			}
			for _, bad := range []string{`{"status":"SLEEPING"}`, `{"status":""}`, `{"status":`, `[1]`} {
				if status := put("ann", bad); status != http.StatusBadRequest {
					t.Errorf("%s: %d, want 400", bad, status)
				}
			}
			if rs.storedStatus("ann") != "AWAY" || len(rs.changes) != 1 {
				t.Errorf("refused bodies changed something: %s, %v", rs.storedStatus("ann"), rs.changes)
			}
			for _, c := range []struct {
				token string
				want  int
			}{{"uma", http.StatusForbidden}, {"", http.StatusUnauthorized}, {"forged", http.StatusUnauthorized}} {
				if status, _ := rs.do(http.MethodGet, "/api/v1/operators", c.token, ""); status != c.want {
					t.Errorf("GET as %q: %d, want %d", c.token, status, c.want)
				}
				if status := put(c.token, `{"status":"BUSY"}`); status != c.want {
					t.Errorf("PUT as %q: %d, want %d", c.token, status, c.want)
				}
			}
			if rs.storedStatus("uma") != "AVAILABLE" {
				t.Error("an end user's status changed through the roster")
			}
		})
	}
}

// TestRosterCapacityOverHTTP: an operator sets its own capacity, an
// administrator (ann) also a colleague's; the roster shows it (the default where none is set); each
// change lets routing run; bad values and unknown operators change
// nothing.
func TestRosterCapacityOverHTTP(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			rs := newRosterServer(t, dialect)
			capacities := func() map[string]any {
				status, out := rs.do(http.MethodGet, "/api/v1/operators", "ann", "")
				if status != http.StatusOK {
					t.Fatalf("GET /operators: %d", status)
				}
				got := map[string]any{}
				for _, it := range out.([]any) {
					o := it.(map[string]any)
					got[o["operatorId"].(string)] = o["capacity"]
				}
				return got
			}
			if got := capacities(); got["ann"] != float64(3) || got["bob"] != float64(3) {
				t.Fatalf("defaults: %v", got)
			}
			for _, c := range []struct{ path, body string }{
				{"/api/v1/operators/me/capacity", `{"capacity":5}`},
				{"/api/v1/operators/bob/capacity", `{"capacity":1}`},
			} {
				if status, out := rs.do(http.MethodPut, c.path, "ann", c.body); status != http.StatusOK {
					t.Fatalf("PUT %s: %d %v", c.path, status, out)
				}
			}
			if got := capacities(); got["ann"] != float64(5) || got["bob"] != float64(1) {
				t.Errorf("after setting: %v", got)
			}
			if len(rs.mayTakeMore) != 2 || rs.mayTakeMore[0] != "t" {
				t.Errorf("routing told %v, want twice for t", rs.mayTakeMore)
			}
			for _, c := range []struct {
				path, token, body string
				want              int
			}{
				{"/api/v1/operators/me/capacity", "ann", `{"capacity":-1}`, http.StatusBadRequest},
				{"/api/v1/operators/me/capacity", "ann", `{"capacity":1001}`, http.StatusBadRequest},
				{"/api/v1/operators/me/capacity", "ann", `{}`, http.StatusBadRequest},
				{"/api/v1/operators/uma/capacity", "ann", `{"capacity":2}`, http.StatusNotFound},
				{"/api/v1/operators/nobody/capacity", "ann", `{"capacity":2}`, http.StatusNotFound},
				{"/api/v1/operators/ann/capacity", "uma", `{"capacity":2}`, http.StatusForbidden},
				{"/api/v1/operators/ann/capacity", "bob", `{"capacity":2}`, http.StatusForbidden},
			} {
				if status, _ := rs.do(http.MethodPut, c.path, c.token, c.body); status != c.want {
					t.Errorf("PUT %s %s as %s: %d, want %d", c.path, c.body, c.token, status, c.want)
				}
			}
			if got := capacities(); got["ann"] != float64(5) || len(rs.mayTakeMore) != 2 {
				t.Errorf("refused requests changed something: %v, %v", got, rs.mayTakeMore)
			}
			if status, _ := rs.do(http.MethodPut, "/api/v1/operators/me/status", "bob", `{"status":"AVAILABLE"}`); status != http.StatusOK ||
				len(rs.mayTakeMore) != 3 {
				t.Errorf("bob becomes AVAILABLE: %d, routing told %v", status, rs.mayTakeMore)
			}
		})
	}
}

// TestRosterLoad: the roster shows how many open tickets each operator
// handles now; new and closed ones do not count.
func TestRosterLoad(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			rs := newRosterServer(t, dialect)
			for i, tk := range []struct {
				handler string
				status  tickets.Status
			}{{"ann", tickets.StatusOpen}, {"ann", tickets.StatusOpen}, {"ann", tickets.StatusClosed},
				{"bob", tickets.StatusOpen}, {"", tickets.StatusNew}} {
				row := tickets.Ticket{ID: fmt.Sprintf("t-%d", i), Tenant: "t", Status: tk.status, OwnerID: "uma",
					HandlerID: tk.handler, CreatedAt: int64(i + 1), UpdatedAt: int64(i + 1)}
				if err := rs.db.Create(&row).Error; err != nil {
					t.Fatal(err)
				}
			}
			status, out := rs.do(http.MethodGet, "/api/v1/operators", "ann", "")
			if status != http.StatusOK {
				t.Fatalf("GET /operators: %d %v", status, out)
			}
			got := map[string]any{}
			for _, it := range out.([]any) {
				o := it.(map[string]any)
				got[o["operatorId"].(string)] = o["load"]
			}
			if got["ann"] != float64(2) || got["bob"] != float64(1) {
				t.Fatalf("loads %v, want ann 2, bob 1", got)
			}
		})
	}
}

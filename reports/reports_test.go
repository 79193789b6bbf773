package reports_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/openapitest"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/reports"
	"github.com/switchboard-chat/switchboard/tickets"
)

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
	"operator":   {ID: "op-a", Role: switchboard.RoleOperator, Tenant: "t"},
	"supervisor": {ID: "supervisor-1", Role: switchboard.RoleOperator, Supervisor: true, Tenant: "t"},
	"admin":      {ID: "operator-1", Role: switchboard.RoleOperator, Admin: true, Tenant: "t"},
}

// at is a time of March 2026, UTC.
func at(dayOfMonth, hour, minute, second int) int64 {
	return time.Date(2026, 3, dayOfMonth, hour, minute, second, 0, time.UTC).UnixMilli()
}

const sec = int64(1000)

// fixture writes tickets and messages with known times: some in the
// period (1–3 March), one before it closed and rated in it, one after
// it, one of another tenant; answers by operators, by the owner (no
// answer) and by the system (no answer either).
func fixture(t *testing.T, db *database.DB) {
	t.Helper()
	type msg struct {
		sender, kind string
		at           int64
	}
	add := func(tk tickets.Ticket, ms ...msg) {
		t.Helper()
		tk.OwnerID, tk.OwnerName, tk.UpdatedAt = "owner-"+tk.ID, "Owner "+tk.ID, tk.CreatedAt
		if tk.Tenant == "" {
			tk.Tenant = "t"
		}
		if err := db.Create(&tk).Error; err != nil {
			t.Fatal(err)
		}
		for i, m := range ms {
			sender := m.sender
			if sender == "owner" {
				sender = tk.OwnerID
			}
			if err := db.Exec(`INSERT INTO messages (id, session_id, tenant, kind, type, content, sender_id, created_at)
				VALUES (?, ?, ?, ?, 1, 'hello', ?, ?)`, fmt.Sprintf("%s-m%d", tk.ID, i), tk.ID, tk.Tenant, m.kind, sender, m.at).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	closed := tickets.StatusClosed
	add(tickets.Ticket{ID: "a", Status: closed, HandlerID: "op-a", HandlerName: "Alice", Team: "sales",
		CreatedAt: at(1, 8, 0, 0), ClosedAt: at(1, 8, 10, 0), RatingScore: 5, RatedAt: at(1, 9, 0, 0)},
		msg{"owner", "USER", at(1, 8, 0, 5)}, msg{"op-a", "USER", at(1, 8, 1, 0)}, msg{"op-a", "USER", at(1, 8, 2, 0)})
	add(tickets.Ticket{ID: "b", Status: closed, HandlerID: "op-a", HandlerName: "Alice", Team: "sales",
		CreatedAt: at(1, 10, 0, 0), ClosedAt: at(1, 11, 0, 0), RatingScore: 3, RatingComment: "ok", RatedAt: at(2, 10, 0, 0)},
		msg{"op-a", "USER", at(1, 10, 2, 0)})
	add(tickets.Ticket{ID: "c", Status: closed, HandlerID: "op-b", HandlerName: "Bob",
		CreatedAt: at(1, 23, 59, 30), ClosedAt: at(2, 1, 59, 30), RatingScore: 4, RatedAt: at(2, 3, 0, 0)},
		msg{"op-b", "USER", at(2, 0, 1, 0)})
	add(tickets.Ticket{ID: "d", Status: tickets.StatusOpen, HandlerID: "op-b", HandlerName: "Bob", Team: "support",
		CreatedAt: at(2, 12, 0, 0)}, msg{"op-b", "USER", at(2, 12, 0, 30)})
	add(tickets.Ticket{ID: "e", Status: tickets.StatusNew, CreatedAt: at(3, 6, 0, 0)}, msg{"owner", "USER", at(3, 6, 0, 1)})
	add(tickets.Ticket{ID: "f", Status: closed, HandlerID: "op-a", HandlerName: "Alice", Team: "sales",
		CreatedAt: at(2, 9, 0, 0), ClosedAt: at(2, 9, 16, 40), RatingScore: 1, RatingComment: "slow", RatedAt: at(3, 9, 0, 0)},
		msg{"switchboard", "SYSNOTIF", at(2, 9, 0, 5)}, msg{"owner", "USER", at(2, 9, 0, 10)}, msg{"op-a", "USER", at(2, 9, 5, 0)})
	add(tickets.Ticket{ID: "g", Status: closed, HandlerID: "op-b", HandlerName: "Bob",
		CreatedAt: time.Date(2026, 2, 28, 20, 0, 0, 0, time.UTC).UnixMilli(), ClosedAt: at(1, 9, 0, 0),
		RatingScore: 2, RatedAt: at(1, 9, 30, 0)}, msg{"op-b", "USER", at(1, 8, 0, 0)})
	add(tickets.Ticket{ID: "h", Tenant: "other", Status: closed, HandlerID: "op-x", CreatedAt: at(1, 12, 0, 0),
		ClosedAt: at(1, 12, 1, 0), RatingScore: 1, RatedAt: at(1, 12, 2, 0)}, msg{"op-x", "USER", at(1, 12, 0, 10)})
	add(tickets.Ticket{ID: "i", Status: closed, HandlerID: "op-a", HandlerName: "Alice", Team: "sales",
		CreatedAt: at(4, 1, 0, 0), ClosedAt: at(4, 2, 0, 0), RatingScore: 5, RatedAt: at(4, 3, 0, 0)})
}

// stored is a ticket as the test reads it back, with its first answer.
type stored struct {
	id, handler, name, team             string
	created, closed, rated, firstAnswer int64
	status, score                       int
}

// readBack loads tenant t's tickets and their first answers with plain
// queries, apart from the package's.
func readBack(t *testing.T, db *database.DB) []stored {
	t.Helper()
	var ts []tickets.Ticket
	if err := db.Where("tenant = ?", "t").Find(&ts).Error; err != nil {
		t.Fatal(err)
	}
	var ms []struct {
		SessionID, SenderID, Kind string
		CreatedAt                 int64
	}
	if err := db.Raw(`SELECT session_id, sender_id, kind, created_at FROM messages`).Scan(&ms).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]stored, len(ts))
	for i, tk := range ts {
		s := stored{id: tk.ID, handler: tk.HandlerID, name: tk.HandlerName, team: tk.Team, created: tk.CreatedAt,
			closed: tk.ClosedAt, rated: tk.RatedAt, status: int(tk.Status), score: tk.RatingScore}
		for _, m := range ms {
			if m.SessionID == tk.ID && m.Kind == "USER" && m.SenderID != tk.OwnerID && (s.firstAnswer == 0 || m.CreatedAt < s.firstAnswer) {
				s.firstAnswer = m.CreatedAt
			}
		}
		out[i] = s
	}
	return out
}

// nearestRank is the p-th percentile by the nearest-rank definition, in
// integer arithmetic: the ⌈p·n/100⌉-th smallest.
func nearestRank(values []float64, p int) any {
	if len(values) == 0 {
		return nil
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	return v[(p*len(v)+99)/100-1]
}

// expected computes the report from the stored tickets: what
// docs/protocol.md says each figure counts.
func expected(all []stored, from, to time.Time, team, operator string) map[string]any {
	start, end := from.UnixMilli(), to.AddDate(0, 0, 1).UnixMilli()
	in := func(ms int64) bool { return ms >= start && ms < end }
	var kept []stored
	for _, s := range all {
		if (team == "" || s.team == team) && (operator == "" || s.handler == operator) {
			kept = append(kept, s)
		}
	}
	firstOf := func(s stored) (float64, bool) { return float64(s.firstAnswer-s.created) / 1000, s.firstAnswer != 0 }
	resolutionOf := func(s stored) (float64, bool) { return float64(s.closed-s.created) / 1000, s.status == 10000 }
	dayOf := func(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.DateOnly) }

	var days []any
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		date := d.Format(time.DateOnly)
		created, closed := 0, 0
		var firsts, resolutions []float64
		for _, s := range kept {
			if s.status == 10000 && dayOf(s.closed) == date {
				closed++
			}
			if dayOf(s.created) != date {
				continue
			}
			created++
			if v, ok := firstOf(s); ok {
				firsts = append(firsts, v)
			}
			if v, ok := resolutionOf(s); ok {
				resolutions = append(resolutions, v)
			}
		}
		days = append(days, map[string]any{"date": date, "created": created, "closed": closed,
			"firstResponseMedianSeconds": nearestRank(firsts, 50), "resolutionMedianSeconds": nearestRank(resolutions, 50)})
	}
	durations := func(of func(stored) (float64, bool)) map[string]any {
		var vs []float64
		for _, s := range kept {
			if v, ok := of(s); ok && in(s.created) {
				vs = append(vs, v)
			}
		}
		var hist []any
		lower := -1.0
		for _, b := range []any{60, 300, 900, 3600, 14400, 86400, nil} {
			upper := 1e18
			if b != nil {
				upper = float64(b.(int))
			}
			n := 0
			for _, v := range vs {
				if v > lower && v <= upper {
					n++
				}
			}
			hist = append(hist, map[string]any{"upToSeconds": b, "count": n})
			lower = upper
		}
		return map[string]any{"count": len(vs), "medianSeconds": nearestRank(vs, 50), "p90Seconds": nearestRank(vs, 90), "histogram": hist}
	}
	average := func(match func(stored) bool) any {
		sum, n := 0, 0
		for _, s := range kept {
			if s.rated != 0 && in(s.rated) && match(s) {
				sum, n = sum+s.score, n+1
			}
		}
		if n == 0 {
			return nil
		}
		return float64(sum) / float64(n)
	}
	dist := map[string]any{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
	count := 0
	for _, s := range kept {
		if s.rated != 0 && in(s.rated) {
			dist[strconv.Itoa(s.score)] = dist[strconv.Itoa(s.score)].(int) + 1
			count++
		}
	}
	group := func(key func(stored) string, skip func(stored) bool) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, s := range kept {
			if skip(s) || !(in(s.created) || (s.rated != 0 && in(s.rated))) {
				continue
			}
			k := key(s)
			if out[k] != nil {
				continue
			}
			var firsts, resolutions []float64
			n := 0
			for _, o := range kept {
				if key(o) != k || skip(o) || !in(o.created) {
					continue
				}
				n++
				if v, ok := firstOf(o); ok {
					firsts = append(firsts, v)
				}
				if v, ok := resolutionOf(o); ok {
					resolutions = append(resolutions, v)
				}
			}
			out[k] = map[string]any{"tickets": n, "firstResponseMedianSeconds": nearestRank(firsts, 50),
				"resolutionMedianSeconds": nearestRank(resolutions, 50),
				"csatAverage":             average(func(o stored) bool { return key(o) == k && !skip(o) })}
		}
		return out
	}
	sorted := func(m map[string]map[string]any, field string, extra func(string, map[string]any)) []any {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := []any{}
		for _, k := range keys {
			m[k][field] = k
			extra(k, m[k])
			out = append(out, m[k])
		}
		return out
	}
	names := map[string]string{}
	for _, s := range kept {
		names[s.handler] = s.name
	}
	ops := sorted(group(func(s stored) string { return s.handler }, func(s stored) bool { return s.handler == "" }),
		"operatorId", func(k string, g map[string]any) { g["name"] = names[k] })
	teams := sorted(group(func(s stored) string { return s.team }, func(stored) bool { return false }),
		"team", func(string, map[string]any) {})
	return map[string]any{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "days": days,
		"firstResponse": durations(firstOf), "resolution": durations(resolutionOf),
		"csat":      map[string]any{"average": average(func(stored) bool { return true }), "count": count, "distribution": dist},
		"operators": ops, "teams": teams}
}

// jsonOf is v as a client decodes it.
func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReportsEqualTheStoredTickets: on both databases, a report over
// tickets and messages written with known times equals the figures the
// test computes itself from the stored rows, for the whole tenant, a
// team and an operator; a few are also checked by hand. Only
// supervisors and administrators read reports; bad periods are refused;
// the CSV has the same day rows.
func TestReportsEqualTheStoredTickets(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			fixture(t, db)
			now := func() time.Time { return time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC) }
			e := echo.New()
			reports.NewHTTP(reports.NewService(db, reports.Options{Now: now}), roles).Register(e.Group("/api/v1"))
			srv := httptest.NewServer(openapitest.Handler(t, e))
			t.Cleanup(srv.Close)
			get := func(token, query string) (int, http.Header, []byte) {
				t.Helper()
				req, _ := http.NewRequest("GET", srv.URL+"/api/v1/reports"+query, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				return res.StatusCode, res.Header, body
			}
			all := readBack(t, db)
			from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
			for _, q := range []struct{ team, operator string }{{"", ""}, {"sales", ""}, {"", "op-b"}, {"support", "op-b"}, {"none", ""}} {
				status, _, body := get("supervisor", "?from=2026-03-01&to=2026-03-03&team="+q.team+"&operator="+q.operator)
				var got any
				if err := json.Unmarshal(body, &got); status != 200 || err != nil {
					t.Fatalf("report %v: %d %s", q, status, body)
				}
				if want := jsonOf(t, expected(all, from, to, q.team, q.operator)); !reflect.DeepEqual(got, want) {
					g, _ := json.MarshalIndent(got, "", " ")
					w, _ := json.MarshalIndent(want, "", " ")
					t.Errorf("report %v:\n got %s\nwant %s", q, g, w)
				}
			}

			// By hand: 1 March has a, b, c created and a, b, g closed;
			// first answers of a, b, c, f, d: 60, 120, 90, 300, 30 s.
			_, _, body := get("admin", "?from=2026-03-01&to=2026-03-03")
			var r struct {
				Days []struct {
					Created, Closed            int
					FirstResponseMedianSeconds *float64
				}
				FirstResponse struct {
					Count                     int
					MedianSeconds, P90Seconds float64
				}
				CSAT struct {
					Average float64
					Count   int
				}
			}
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Days) != 3 || r.Days[0].Created != 3 || r.Days[0].Closed != 3 || *r.Days[0].FirstResponseMedianSeconds != 90 ||
				r.FirstResponse.Count != 5 || r.FirstResponse.MedianSeconds != 90 || r.FirstResponse.P90Seconds != 300 ||
				r.CSAT.Count != 5 || r.CSAT.Average != 3 {
				t.Errorf("by hand: %s", body)
			}

			// The default period ends today (the clock's 3 March).
			var period struct {
				From, To string
				Days     []any
			}
			if _, _, body := get("supervisor", ""); json.Unmarshal(body, &period) != nil ||
				period.From != "2026-02-02" || period.To != "2026-03-03" || len(period.Days) != 30 {
				t.Errorf("default period: %s to %s, %d days", period.From, period.To, len(period.Days))
			}
			// CSV: the same day rows.
			status, h, body := get("supervisor", "?from=2026-03-01&to=2026-03-03&format=csv")
			rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			if status != 200 || err != nil || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || len(rows) != 4 {
				t.Fatalf("CSV: %d %s %v\n%s", status, h.Get("Content-Type"), err, body)
			}
			want := expected(all, from, to, "", "")["days"].([]any)
			for i, row := range rows[1:] {
				d := want[i].(map[string]any)
				line := fmt.Sprintf("%s,%d,%d,%s,%s", d["date"], d["created"], d["closed"], csvNumber(d["firstResponseMedianSeconds"]), csvNumber(d["resolutionMedianSeconds"]))
				if strings.Join(row, ",") != line {
					t.Errorf("CSV row %d: %v, want %s", i, row, line)
				}
			}
			if strings.Join(rows[0], ",") != "date,created,closed,firstResponseMedianSeconds,resolutionMedianSeconds" {
				t.Errorf("CSV header %v", rows[0])
			}

			for _, c := range []struct {
				token, query string
				status       int
			}{
				{"user", "", 403}, {"program", "", 403}, {"operator", "", 403}, {"", "", 401},
				{"supervisor", "?from=2026-13-01", 400}, {"supervisor", "?to=yesterday", 400},
				{"supervisor", "?from=2026-03-04&to=2026-03-03", 400},
				{"supervisor", "?from=2025-01-01&to=2026-03-03", 400},
				{"supervisor", "?format=xml", 400},
				{"supervisor", "?team=" + strings.Repeat("t", 65), 400},
				{"supervisor", "?from=2025-03-03&to=2026-03-03", 200},
			} {
				if status, _, body := get(c.token, c.query); status != c.status {
					t.Errorf("GET /reports%s as %q: %d %s, want %d", c.query, c.token, status, body, c.status)
				}
			}
		})
	}
}

func csvNumber(v any) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(v.(float64), 'f', -1, 64)
}

package tickets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/openapitest"
	"github.com/switchboard-chat/switchboard/tickets"
)

// tokens is a verifier whose tokens are the callers' user ids.
type tokens map[string]tickets.Caller

func (v tokens) Verify(_ context.Context, raw string) (switchboard.Principal, error) {
	c, ok := v[raw]
	if !ok {
		return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENINVALID, "unknown token")
	}
	return c.Principal, nil
}

// restServer serves e's REST API over real HTTP to the given callers.
func restServer(t *testing.T, e *env, callers ...tickets.Caller) string {
	t.Helper()
	v := tokens{}
	for _, c := range callers {
		v[c.UserID] = c
	}
	router := echo.New()
	tickets.NewHTTP(e.svc, v).Register(router.Group("/api/v1"))
	srv := httptest.NewServer(openapitest.Handler(t, router))
	t.Cleanup(srv.Close)
	return srv.URL
}

// restPage is one answer of a list endpoint.
type restPage struct {
	status int
	next   string // the Link rel="next" target, "" when there is none
	cursor string // X-Next-Cursor
	items  []map[string]any
	err    map[string]any
}

var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

func getPage(t *testing.T, base, path, token string) restPage {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := restPage{status: res.StatusCode, cursor: res.Header.Get("X-Next-Cursor")}
	if link := res.Header.Get("Link"); link != "" {
		m := nextLink.FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("GET %s: Link %q is not one rel=\"next\" link", path, link)
		}
		p.next = m[1]
	}
	dec := json.NewDecoder(res.Body)
	if res.StatusCode != http.StatusOK {
		if err := dec.Decode(&p.err); err != nil {
			t.Fatalf("GET %s: %d with an unreadable error: %v", path, res.StatusCode, err)
		}
		return p
	}
	if err := dec.Decode(&p.items); err != nil {
		t.Fatalf("GET %s: the body is not a JSON array: %v", path, err)
	}
	if len(p.items) > switchboard.MaxPageLimit {
		t.Fatalf("GET %s: %d items in one page, more than %d", path, len(p.items), switchboard.MaxPageLimit)
	}
	return p
}

// seedMessages stores n messages from c in ticketID, many at a time, and
// returns their ids in commit order.
func seedMessages(t *testing.T, e *env, c tickets.Caller, ticketID string, n int) []string {
	t.Helper()
	const inFlight = 100
	for start := 0; start < n; start += inFlight {
		errs := make(chan error, inFlight)
		batch := min(inFlight, n-start)
		for i := range batch {
			id := fmt.Sprintf("%s-m%04d", ticketID, start+i)
			e.svc.SendMessage(c, ticketID, id, text("message "+id), func(err error) { errs <- err })
		}
		for range batch {
			select {
			case err := <-errs:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("a message was not stored in 30 s")
			}
		}
	}
	var ids []string
	if err := e.db.Model(&chat.Message{}).Where("session_id = ?", ticketID).Order("seq").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Fatalf("%d messages stored, want %d", len(ids), n)
	}
	return ids
}

// follow reads every page from path on by the Link header and returns the
// ids (field idKey) in the order received, and the pages' sizes.
func follow(t *testing.T, base, path, token, idKey string) (ids []string, sizes []int) {
	t.Helper()
	for path != "" {
		p := getPage(t, base, path, token)
		if p.status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, p.status, p.err)
		}
		for _, it := range p.items {
			ids = append(ids, it[idKey].(string))
		}
		sizes = append(sizes, len(p.items))
		path = p.next
		if len(sizes) > 100 {
			t.Fatal("more than 100 pages: the next link does not move on")
		}
	}
	return ids, sizes
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d items, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: item %d is %s, want %s (each item exactly once, in order)", what, i, got[i], want[i])
		}
	}
}

func TestRESTMessagesPages(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u1 := user("u1")
		e.create(u1, "t1")
		want := seedMessages(t, e, u1, "t1", 1200)
		base := restServer(t, e, u1)

		// Following the Link header, 500 at a time.
		got, sizes := follow(t, base, "/api/v1/tickets/t1/messages?limit=500", "u1", "messageId")
		sameIDs(t, "limit=500 by Link", got, want)
		if fmt.Sprint(sizes) != "[500 500 200]" {
			t.Errorf("page sizes %v, want [500 500 200]", sizes)
		}

		// By hand, as the README says: since=<the last id>, default limit.
		got = nil
		pages := 0
		for since := ""; ; pages++ {
			p := getPage(t, base, "/api/v1/tickets/t1/messages?since="+since, "u1")
			if p.status != http.StatusOK {
				t.Fatalf("since=%s: %d %v", since, p.status, p.err)
			}
			if len(p.items) > switchboard.DefaultPageLimit {
				t.Fatalf("since=%s: %d items without a limit, want at most %d", since, len(p.items), switchboard.DefaultPageLimit)
			}
			if len(p.items) == 0 {
				break
			}
			for _, it := range p.items {
				got = append(got, it["messageId"].(string))
			}
			since = got[len(got)-1]
		}
		sameIDs(t, "since=<last id>", got, want)
		if pages != 12 {
			t.Errorf("%d pages of the default limit, want 12", pages)
		}

		// A huge limit is clamped, not refused.
		p := getPage(t, base, "/api/v1/tickets/t1/messages?limit=100000", "u1")
		if p.status != http.StatusOK || len(p.items) != switchboard.MaxPageLimit || p.next == "" {
			t.Errorf("limit=100000: %d, %d items, next %q; want 200, %d items and a next page", p.status, len(p.items), p.next, switchboard.MaxPageLimit)
		}
		// The last page says it is the last.
		p = getPage(t, base, "/api/v1/tickets/t1/messages?since="+want[len(want)-2], "u1")
		if p.status != http.StatusOK || len(p.items) != 1 || p.next != "" {
			t.Errorf("the last page: %d, %d items, next %q", p.status, len(p.items), p.next)
		}
		badLimits(t, base, "/api/v1/tickets/t1/messages", "u1")
	})
}

func badLimits(t *testing.T, base, path, token string) {
	t.Helper()
	for _, bad := range []string{"0", "-1", "abc", "1.5", "10abc", "-99999999999999999999999"} {
		p := getPage(t, base, path+"?limit="+bad, token)
		if p.status != http.StatusBadRequest || p.err["code"] != switchboard.EINVALID {
			t.Errorf("%s?limit=%s: %d %v, want 400 INVALID_REQUEST", path, bad, p.status, p.err)
		}
	}
	if p := getPage(t, base, path+"?limit=99999999999999999999999", token); p.status != http.StatusOK {
		t.Errorf("%s?limit=<beyond int64>: %d %v, want a clamped page", path, p.status, p.err)
	}
}

// A page ends early once its contents are large: a page of big images
// must not make one request hold hundreds of them.
func TestRESTMessagesPageBytes(t *testing.T) {
	e := newEnv(t, "sqlite")
	u1 := user("u1")
	e.create(u1, "t1")
	big := make([]byte, 60<<10)
	for i := range big {
		big[i] = 'x'
	}
	for i := range 100 {
		e.send(u1, "t1", fmt.Sprintf("big-%03d", i), string(big))
	}
	base := restServer(t, e, u1)
	got, sizes := follow(t, base, "/api/v1/tickets/t1/messages?limit=500", "u1", "messageId")
	if len(got) != 100 || len(sizes) < 2 || sizes[0] >= 100 {
		t.Errorf("100 messages of 60 KiB came in pages of %v, want them split by size", sizes)
	}
}

func TestRESTTicketsPages(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		// 610 tickets, most of them sharing their creation millisecond
		// with others: the cursor must break the ties.
		const n = 610
		errs := make(chan error, n)
		for i := range n {
			if i%50 == 0 {
				e.clock.Add(time.Millisecond)
			}
			e.svc.CreateTicket(user(fmt.Sprintf("u%d", i%7)), fmt.Sprintf("t%04d", i),
				tickets.TicketInput{TicketName: "Ticket"}, func(err error) { errs <- err })
			if i%100 == 99 {
				for range 100 {
					if err := <-errs; err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for range n % 100 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var want []string
		if err := e.db.Model(&tickets.Ticket{}).Order("created_at DESC, id").Pluck("id", &want).Error; err != nil {
			t.Fatal(err)
		}
		op := operator("op1")
		base := restServer(t, e, op, user("u3"))

		got, sizes := follow(t, base, "/api/v1/tickets?limit=200", "op1", "ticketId")
		sameIDs(t, "limit=200 by Link", got, want)
		if fmt.Sprint(sizes) != "[200 200 200 10]" {
			t.Errorf("page sizes %v, want [200 200 200 10]", sizes)
		}
		got, _ = follow(t, base, "/api/v1/tickets", "op1", "ticketId")
		sameIDs(t, "default limit by Link", got, want)

		// The cursor alone, from X-Next-Cursor; a ticket created between
		// pages comes before the first page, not into the next.
		first := getPage(t, base, "/api/v1/tickets?limit=300", "op1")
		e.clock.Add(time.Second)
		e.create(user("u1"), "newer")
		second := getPage(t, base, "/api/v1/tickets?limit=300&cursor="+first.cursor, "op1")
		if first.cursor == "" || len(first.items) != 300 || len(second.items) != 300 ||
			second.items[0]["ticketId"] != want[300] {
			t.Errorf("X-Next-Cursor paging: cursor %q, pages of %d and %d starting %v, want 300 and 300 starting %s",
				first.cursor, len(first.items), len(second.items), second.items[0]["ticketId"], want[300])
		}

		if p := getPage(t, base, "/api/v1/tickets?limit=100000", "op1"); p.status != http.StatusOK ||
			len(p.items) != switchboard.MaxPageLimit || p.next == "" {
			t.Errorf("limit=100000: %d, %d items, next %q", p.status, len(p.items), p.next)
		}
		// An end user pages through its own tickets only.
		got, _ = follow(t, base, "/api/v1/tickets?limit=7", "u3", "ticketId")
		if len(got) != n/7 {
			t.Errorf("u3 paged through %d tickets, want %d", len(got), n/7)
		}
		badLimits(t, base, "/api/v1/tickets", "op1")
		for _, bad := range []string{"x", "eyJ0IjoxfQ", "%00"} {
			if p := getPage(t, base, "/api/v1/tickets?cursor="+bad, "op1"); p.status != http.StatusBadRequest {
				t.Errorf("cursor=%s: %d, want 400", bad, p.status)
			}
		}
	})
}

package tickets_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/openapitest"
	"github.com/switchboard-chat/switchboard/tickets"
)

// restAs serves e's REST API, every answer checked against openapi.yaml,
// to the callers by token.
func restAs(t *testing.T, e *env, callers map[string]tickets.Caller) string {
	t.Helper()
	router := echo.New()
	tickets.NewHTTP(e.svc, tokens(callers)).Register(router.Group("/api/v1"))
	srv := httptest.NewServer(openapitest.Handler(t, router))
	t.Cleanup(srv.Close)
	return srv.URL
}

// answer is one REST answer: its status, JSON body (nil for text) and raw
// body.
type answer struct {
	status int
	body   map[string]any
	list   []any
	raw    string
}

func (a answer) code() string { s, _ := a.body["code"].(string); return s }

func call(t *testing.T, base, method, path, token, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, raw: string(raw)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if raw[0] == '[' {
			err = json.Unmarshal(raw, &a.list)
		} else {
			err = json.Unmarshal(raw, &a.body)
		}
		if err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return a
}

// want fails unless the answer has the status (and, for an error, the
// code in the shared error shape).
func want(t *testing.T, what string, a answer, status int, code string) answer {
	t.Helper()
	if a.status != status || (code != "" && (a.code() != code || a.body["message"] == "")) {
		t.Fatalf("%s = %d %s, want %d %s", what, a.status, a.raw, status, code)
	}
	return a
}

// eventsNamed returns the events called name among evs, with their rooms.
func eventsNamed(evs []switchboard.Event, name string) []switchboard.Event {
	var out []switchboard.Event
	for _, ev := range evs {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

func sentTo(evs []switchboard.Event, name, room string) bool {
	for _, ev := range eventsNamed(evs, name) {
		for _, to := range ev.To {
			if to == room {
				return true
			}
		}
	}
	return false
}

// TestRESTCommandsAreTheSocketCommands: creating, accepting, messaging,
// assigning and closing over REST are allowed to the same callers as on
// the sockets and publish the same events to the same rooms.
func TestRESTCommandsAreTheSocketCommands(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		base := restAs(t, e, map[string]tickets.Caller{"u1": user("u1"), "u2": user("u2"),
			"op1": operator("op1"), "op2": operator("op2")})
		e.ensure(operator("op2"))

		// create: end users only; a retry is 200 and changes nothing.
		mark := e.pub.len()
		created := want(t, "create", call(t, base, "POST", "/api/v1/tickets", "u1",
			`{"ticketId":"t-1","ticketNm":"Printer","displayNm":"Ann"}`), 201, "")
		if created.body["ownerId"] != "u1" || created.body["statusId"] != float64(100) {
			t.Fatalf("created %v", created.body)
		}
		if !sentTo(e.pub.since(mark), "ticketCreated", opsRoom()) {
			t.Fatalf("no ticketCreated to the operators: %+v", e.pub.since(mark))
		}
		mark = e.pub.len()
		want(t, "create again", call(t, base, "POST", "/api/v1/tickets", "u1", `{"ticketId":"t-1"}`), 200, "")
		if evs := e.pub.since(mark); len(evs) != 0 {
			t.Fatalf("a retried create published %+v", evs)
		}
		before := e.snapshot()
		want(t, "create by another user", call(t, base, "POST", "/api/v1/tickets", "u2", `{"ticketId":"t-1"}`), 409, "CONFLICT")
		want(t, "create by an operator", call(t, base, "POST", "/api/v1/tickets", "op1", `{}`), 403, "FORBIDDEN")
		want(t, "create without a token", call(t, base, "POST", "/api/v1/tickets", "", `{}`), 401, "TOKEN_MISSING")
		want(t, "create with a bad token", call(t, base, "POST", "/api/v1/tickets", "nobody", `{}`), 401, "TOKEN_INVALID")
		want(t, "create with a non-object", call(t, base, "POST", "/api/v1/tickets", "u1", `[1]`), 400, "INVALID_REQUEST")
		want(t, "create with a bad name", call(t, base, "POST", "/api/v1/tickets", "u1", `{"ticketNm":7}`), 400, "INVALID_REQUEST")
		if after := e.snapshot(); after != before {
			t.Fatalf("refused creates changed the database:\nbefore %s\nafter  %s", before, after)
		}

		// get: the owner and operators; anyone else as if it did not exist.
		want(t, "get by owner", call(t, base, "GET", "/api/v1/tickets/t-1", "u1", ""), 200, "")
		want(t, "get by operator", call(t, base, "GET", "/api/v1/tickets/t-1", "op2", ""), 200, "")
		want(t, "get by another user", call(t, base, "GET", "/api/v1/tickets/t-1", "u2", ""), 404, "NOT_FOUND")

		// accept: operators only; the owner's sockets hear ticketAccepted.
		want(t, "accept by the owner", call(t, base, "POST", "/api/v1/tickets/t-1/accept", "u1", ""), 403, "FORBIDDEN")
		mark = e.pub.len()
		accepted := want(t, "accept", call(t, base, "POST", "/api/v1/tickets/t-1/accept", "op1", ""), 200, "")
		if accepted.body["handleById"] != "op1" || accepted.body["statusId"] != float64(200) {
			t.Fatalf("accepted %v", accepted.body)
		}
		if !sentTo(e.pub.since(mark), "ticketAccepted", uRoom("u1")) {
			t.Fatalf("the owner did not hear ticketAccepted: %+v", e.pub.since(mark))
		}
		want(t, "accept again", call(t, base, "POST", "/api/v1/tickets/t-1/accept", "op2", ""), 409, "CONFLICT")

		// messages: the client's id makes a retry idempotent.
		mark = e.pub.len()
		sent := want(t, "send", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "u1",
			`{"messageId":"m-1","content":"hello"}`), 201, "")
		if sent.body["messageId"] != "m-1" || sent.body["recipientId"] != "op1" || sent.body["senderId"] != "u1" {
			t.Fatalf("sent %v", sent.body)
		}
		if !sentTo(e.pub.since(mark), "messageUpdated", oRoom("op1")) {
			t.Fatalf("the handler did not get messageUpdated: %+v", e.pub.since(mark))
		}
		mark = e.pub.len()
		retry := want(t, "send again", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "u1",
			`{"messageId":"m-1","content":"hello"}`), 200, "")
		if retry.body["createdAt"] != sent.body["createdAt"] || len(e.pub.since(mark)) != 0 {
			t.Fatalf("a retry answered %v and published %+v", retry.body, e.pub.since(mark))
		}
		if n := e.count("messages", "session_id = ? AND sender_id = ?", "t-1", "u1"); n != 1 {
			t.Fatalf("%d messages stored, want 1", n)
		}
		before = e.snapshot()
		want(t, "send a number", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "u1", `{"content":5}`), 400, "INVALID_REQUEST")
		want(t, "send no JSON", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "u1", `hello`), 400, "INVALID_REQUEST")
		want(t, "send nothing", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "u1", ``), 400, "INVALID_REQUEST")
		want(t, "send huge", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "u1",
			`{"content":"`+strings.Repeat("x", 3<<20)+`"}`), 400, "INVALID_REQUEST")
		want(t, "send by a non-party operator", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "op2",
			`{"content":"hi"}`), 403, "FORBIDDEN")
		want(t, "send by another user", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "u2",
			`{"content":"hi"}`), 404, "NOT_FOUND")
		if after := e.snapshot(); after != before {
			t.Fatalf("refused messages changed the database")
		}
		want(t, "reply", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "op1", `{"content":"how can I help?"}`), 201, "")

		// assign, then close.
		want(t, "assign by the owner", call(t, base, "POST", "/api/v1/tickets/t-1/assign", "u1", `{"operatorId":"op2"}`), 403, "FORBIDDEN")
		mark = e.pub.len()
		assigned := want(t, "assign", call(t, base, "POST", "/api/v1/tickets/t-1/assign", "op1", `{"operatorId":"op2"}`), 200, "")
		if assigned.body["handleById"] != "op2" || len(e.pub.since(mark)) == 0 {
			t.Fatalf("assigned %v, events %+v", assigned.body, e.pub.since(mark))
		}
		want(t, "bad status", call(t, base, "PUT", "/api/v1/tickets/t-1/status", "op2", `{"statusId":7}`), 400, "INVALID_REQUEST")
		want(t, "no status", call(t, base, "PUT", "/api/v1/tickets/t-1/status", "op2", `{}`), 400, "INVALID_REQUEST")
		want(t, "status of nothing", call(t, base, "PUT", "/api/v1/tickets/nope/status", "op2", `{"statusId":10000}`), 404, "NOT_FOUND")
		mark = e.pub.len()
		closed := want(t, "close", call(t, base, "PUT", "/api/v1/tickets/t-1/status", "op2", `{"statusId":10000}`), 200, "")
		if closed.body["statusId"] != float64(10000) || !sentTo(e.pub.since(mark), "ticketStatusUpdated", uRoom("u1")) {
			t.Fatalf("closed %v, events %+v", closed.body, e.pub.since(mark))
		}
		want(t, "send to a closed ticket", call(t, base, "POST", "/api/v1/tickets/t-1/messages", "u1",
			`{"content":"still there?"}`), 409, "TICKET_CLOSED")

		// the audit trail: who may see the ticket.
		trail := want(t, "events", call(t, base, "GET", "/api/v1/tickets/t-1/events", "u1", ""), 200, "")
		var actions []string
		for _, row := range trail.list {
			actions = append(actions, row.(map[string]any)["action"].(string))
		}
		if got := strings.Join(actions, ","); got != "create,accept,assign,close" {
			t.Fatalf("audit trail %s", got)
		}
		want(t, "events of another's ticket", call(t, base, "GET", "/api/v1/tickets/t-1/events", "u2", ""), 404, "NOT_FOUND")

		// the transcript, both ways.
		js := want(t, "transcript", call(t, base, "GET", "/api/v1/tickets/t-1/transcript?format=json", "op1", ""), 200, "")
		if ms := js.body["messages"].([]any); len(ms) != 2 || ms[0].(map[string]any)["content"] != "hello" {
			t.Fatalf("transcript %v", js.body)
		}
		text := want(t, "text transcript", call(t, base, "GET", "/api/v1/tickets/t-1/transcript?format=text", "u1", ""), 200, "")
		if !strings.Contains(text.raw, "User u1: hello") || !strings.Contains(text.raw, "Operator op1: how can I help?") {
			t.Fatalf("text transcript %q", text.raw)
		}
		want(t, "transcript as pdf", call(t, base, "GET", "/api/v1/tickets/t-1/transcript?format=pdf", "u1", ""), 400, "INVALID_REQUEST")
		want(t, "transcript of another's", call(t, base, "GET", "/api/v1/tickets/t-1/transcript", "u2", ""), 404, "NOT_FOUND")
	})
}

// TestRESTProgramActsForItsUser: a program opens a ticket for its end
// user and writes as them, as it would after subscribing on a socket.
func TestRESTProgramActsForItsUser(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		base := restAs(t, e, map[string]tickets.Caller{"p": programFor(program, ""), "other": programFor("program-7", ""),
			"op1": operator("op1")})
		want(t, "create without userId", call(t, base, "POST", "/api/v1/tickets", "p", `{"ticketId":"t-p"}`), 400, "INVALID_REQUEST")
		want(t, "create in another program", call(t, base, "POST", "/api/v1/tickets", "p",
			`{"ticketId":"t-p","userId":"alice","programId":"program-7"}`), 403, "FORBIDDEN")
		created := want(t, "create", call(t, base, "POST", "/api/v1/tickets", "p",
			`{"ticketId":"t-p","userId":"alice","ownerNm":"Alice"}`), 201, "")
		owner := switchboard.ScopedUserID(program, "alice")
		if created.body["ownerId"] != owner || created.body["programId"] != program || created.body["ownerNm"] != "Alice" {
			t.Fatalf("created %v", created.body)
		}
		sent := want(t, "send", call(t, base, "POST", "/api/v1/tickets/t-p/messages", "p", `{"content":"hi"}`), 201, "")
		if sent.body["senderId"] != owner {
			t.Fatalf("sent %v", sent.body)
		}
		want(t, "another program sends", call(t, base, "POST", "/api/v1/tickets/t-p/messages", "other", `{"content":"hi"}`), 404, "NOT_FOUND")
		want(t, "a program accepts", call(t, base, "POST", "/api/v1/tickets/t-p/accept", "p", ""), 403, "FORBIDDEN")
		list := want(t, "list by owner", call(t, base, "GET", "/api/v1/tickets?ownerId=alice", "p", ""), 200, "")
		if len(list.list) != 1 {
			t.Fatalf("the program's list for alice: %v", list.list)
		}
	})
}

// TestRESTListFiltersAndCursor: each filter narrows the list, and a walk
// by cursor sees every match once.
func TestRESTListFiltersAndCursor(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		base := restAs(t, e, map[string]tickets.Caller{"u1": user("u1"), "op1": operator("op1")})
		for i := range 7 {
			owner := user(fmt.Sprintf("u%d", 1+i%2))
			e.create(owner, fmt.Sprintf("t-%d", i))
			e.clock.Add(time.Second)
		}
		e.accept(operator("op1"), "t-1")
		e.accept(operator("op1"), "t-4")
		e.clock.Add(time.Minute)
		since := e.clock.Now()
		e.accept(operator("op2"), "t-6")

		ids := func(a answer) string {
			var out []string
			for _, it := range a.list {
				out = append(out, it.(map[string]any)["ticketId"].(string))
			}
			return strings.Join(out, ",")
		}
		for query, wantIDs := range map[string]string{
			"handlerId=op1":         "t-4,t-1",
			"ownerId=u1":            "t-6,t-4,t-2,t-0",
			"status=100":            "t-5,t-3,t-2,t-0",
			"status=200&ownerId=u2": "t-1",
			"updatedSince=" + url.QueryEscape(since.Format(time.RFC3339Nano)): "t-6",
		} {
			got := want(t, query, call(t, base, "GET", "/api/v1/tickets?"+query, "op1", ""), 200, "")
			if ids(got) != wantIDs {
				t.Errorf("?%s = %s, want %s", query, ids(got), wantIDs)
			}
		}
		if got := ids(want(t, "a user's list", call(t, base, "GET", "/api/v1/tickets?ownerId=u2", "u1", ""), 200, "")); got != "t-6,t-4,t-2,t-0" {
			t.Errorf("a user filtering for another's tickets got %s, want only its own", got)
		}
		want(t, "bad since", call(t, base, "GET", "/api/v1/tickets?updatedSince=yesterday", "op1", ""), 400, "INVALID_REQUEST")
		want(t, "bad status", call(t, base, "GET", "/api/v1/tickets?status=3", "op1", ""), 400, "INVALID_REQUEST")
		want(t, "bad cursor", call(t, base, "GET", "/api/v1/tickets?cursor=zzz", "op1", ""), 400, "INVALID_REQUEST")

		var walked []string
		path := "/api/v1/tickets?ownerId=u1&limit=3"
		for path != "" {
			p := getPage(t, base, path, "op1")
			for _, it := range p.items {
				walked = append(walked, it["ticketId"].(string))
			}
			path = p.next
		}
		if got := strings.Join(walked, ","); got != "t-6,t-4,t-2,t-0" {
			t.Fatalf("walking ownerId=u1 by 3: %s", got)
		}
	})
}

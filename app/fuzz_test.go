package app

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	client "github.com/zishang520/socket.io/clients/socket/v3"
)

// Fuzz targets of everything a client sends: every event of both socket
// protocols (any name, any JSON arguments, as user, operator or program)
// and every REST request under /api/v1 (any path, query, body and content
// type). They drive the whole server over the wire, so every decoder the
// input meets is covered, and check what spec/livechat.md asks of bad
// input: a clear error, never an internal one, nothing committed when
// refused, no connection dropped. The seeds are the specs' call shapes;
// `go test` runs them as tests, scripts/test.sh fuzzes each target for a
// few seconds, and test/README.md gives the longer command.

// wireFuzz is the server a fuzz target sends to, with a socket per column.
type wireFuzz struct {
	n         *node
	tokens    [asOtherUser]string
	lc, chat  [asOtherUser]*client.Socket
	bystander *client.Socket // user-2, who sends nothing: never dropped
	watch     *commitWatch
}

func newWireFuzz(f *testing.F) *wireFuzz {
	iss := newTestIssuer(f)
	// Without limits (startTenantNode): a fuzzer sends thousands of events a
	// second by design, and being limited is not what it looks for.
	h := &wireFuzz{n: startTenantNode(f, iss, nil)}
	for a := asUser; a < asOtherUser; a++ {
		h.tokens[a] = iss.token(f, columnWho[a])
		h.lc[a], _ = livechatAs(f, h.n, h.tokens[a])
		h.chat[a], _ = chatAs(f, h.n, h.tokens[a])
	}
	h.bystander, _ = livechatAs(f, h.n, iss.token(f, user2))
	// A ticket of each end-user column, accepted by operator-1, with a
	// message each way: the seeds name them, so the fuzzer starts from
	// inputs that reach the service's rules, not only the decoders'.
	for _, in := range [][]any{
		{asUser, "subscribe", map[string]any{"userId": "user-1"}},
		{asProgram, "subscribe", map[string]any{"userId": "42", "programId": "program-42"}},
		{asOperator, "subscribeOperator"},
		{asUser, "createTicket", "t-1", map[string]any{"ticketNm": "Printer"}},
		{asProgram, "createTicket", "t-42", map[string]any{"ticketNm": "Billing", "programId": "program-42"}},
		{asOperator, "acceptTicket", "t-1", map[string]any{}, "user-1"},
		{asOperator, "acceptTicket", "t-42", map[string]any{}, "program-42/42"},
		{asUser, "updateMessage", "t-1", "m-1", map[string]any{"content": "hello", "type": 1}, "operator-1"},
		{asOperator, "updateMessage", "t-1", "m-2", map[string]any{"content": "hi", "type": 1}, "user-1"},
	} {
		if ack := emitAck(f, h.lc[in[0].(actor)], in[1].(string), in[2:]...); ack != nil {
			f.Fatalf("setup %v: %v", in, ack)
		}
	}
	h.watch = watchChanges(f, h.n)
	return h
}

// alive fails unless every socket of the harness is still connected.
func (h *wireFuzz) alive(t *testing.T) {
	t.Helper()
	for a := asUser; a < asOtherUser; a++ {
		if !h.lc[a].Connected() || !h.chat[a].Connected() {
			t.Fatalf("the %s's socket was dropped", actorNames[a])
		}
	}
	if !h.bystander.Connected() {
		t.Fatal("another user's socket was dropped")
	}
}

// fuzzArgs turns a fuzz input into event arguments: a JSON array is the
// argument list, any other JSON value is wrapped by one (for the chat
// protocol: an object is the payload of an envelope), and what is not JSON
// is one string argument. So every input reaches a handler, rather than
// most mutations ending at the JSON syntax.
func fuzzArgs(raw string, envelope bool) []any {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return []any{raw}
	}
	switch v := v.(type) {
	case []any:
		return v
	case map[string]any:
		if envelope {
			return []any{chatBody(v)}
		}
	}
	return []any{v}
}

// livechatCodes are the ack codes of spec/livechat.md a client may get;
// INTERNAL is not among them: bad input is never the server's failure.
var livechatCodes = []string{"UNAUTHENTICATED", "FORBIDDEN", "INVALID_REQUEST", "NOT_FOUND", "CONFLICT",
	"INVALID_TRANSITION", "TICKET_CLOSED", "RATE_LIMITED", "TOKEN_MISSING", "TOKEN_INVALID", "TOKEN_EXPIRED"}

// livechatSeeds are the call shapes of spec/livechat.md, by column.
var livechatSeeds = []struct {
	as    actor
	event string
	args  string
}{
	{asUser, "authenticate", `[{"accessToken":"not-a-token"}]`},
	{asUser, "authenticate", `[{}]`},
	{asUser, "subscribe", `[{"userId":"user-1","fullNm":"Ann","salutation":"Ms","gender":"f","dob":"1990-01-01","email":"a@example.com","latitude":1.5,"longitude":2}]`},
	{asProgram, "subscribe", `[{"userId":"42","programId":"program-42","fullNm":"End User"}]`},
	{asUser, "unsubscribe", `[]`},
	{asOperator, "subscribeOperator", `[]`},
	{asOperator, "unsubscribeOperator", `[]`},
	{asUser, "createTicket", `["t-new",{"ticketId":"t-new","displayNm":"Ann","ticketNm":"Printer","statusId":100}]`},
	{asProgram, "createTicket", `["t-p",{"ticketNm":"Billing","programId":"program-42"}]`},
	{asOperator, "acceptTicket", `["t-1",{"ticketId":"t-1","statusId":100},"user-1"]`},
	{asOperator, "updateTicketStatus", `["t-1",{"ticketId":"t-1"},10000,"user-1"]`},
	{asOperator, "updateTicketStatus", `["t-1",{},200,"user-1"]`},
	{asOperator, "assignTicket", `[{"ticketId":"t-1","handleById":null}]`},
	{asOperator, "assignTicket", `[{"ticketId":"t-42","handleById":"operator-1"}]`},
	{asUser, "updateMessage", `["t-1","m-9",{"content":"hello","type":1,"encoding":"utf-8"},"operator-1"]`},
	{asUser, "updateMessage", `["t-1","m-img",{"content":"data:image/png;base64,iVBORw0KGgo=","type":2},"operator-1"]`},
	{asProgram, "updateMessage", `["t-42","m-p",{"content":"hi","type":1,"programId":"program-42"},"operator-1"]`},
	{asOperator, "updateMessageStatus", `["m-1",3,"operator-1","user-1",false]`},
	{asUser, "updateMessageStatus", `["all",2,"user-1","operator-1",true]`},
	{asUser, "typing", `["t-1","operator-1"]`},
	{asOperator, "typing", `["t-1","user-1"]`},
	{asUser, "noSuchEvent", `[1,"two",{"three":3}]`},
	{asUser, "createTicket", `[42,"not an object"]`},
	{asUser, "updateMessage", `["t-1","m-x",{"content":"x","type":1.5}]`},
	{asOperator, "updateMessageStatus", `["m-1","3"]`},
}

func FuzzLivechatEvent(f *testing.F) {
	for _, s := range livechatSeeds {
		f.Add(uint8(s.as), s.event, s.args)
	}
	h := newWireFuzz(f)
	f.Fuzz(func(t *testing.T, as uint8, event, rawArgs string) {
		if client.RESERVED_EVENTS.Has(event) {
			return
		}
		args := fuzzArgs(rawArgs, false)
		s := h.lc[actor(as)%asOtherUser]
		h.watch.committed(t)
		ack := emitAck(t, s, event, args...)
		if ack != nil {
			m, _ := ack.(map[string]any)
			code, _ := m["code"].(string)
			if msg, _ := m["message"].(string); !slices.Contains(livechatCodes, code) || msg == "" {
				t.Fatalf("%s%v: ack %v is not a clear error", event, args, ack)
			}
			if h.watch.committed(t) {
				t.Fatalf("%s%v was refused (%v) but committed a change", event, args, ack)
			}
		}
		h.alive(t)
	})
}

// chatCodes are the chat protocol's result codes a client may get on a
// refusal; EXCEPTION would be the server's own failure.
var chatCodes = []string{"AUTHENTICATION_ERROR", "INVALID_REQUEST", "CHAT_NOT_FOUND", "CHATS_NOT_FOUND",
	"MSG_NOT_FOUND", "UNAUTHORIZED", "NOT_MEMBER_OF_CHAT", "USER_OFFLINE", "CONNECTION_ALREADY_OPEN"}

// chatSeeds are the call shapes of spec/chat.md; the session and message
// ids are made up (the fuzzer cannot know the server's UUIDs), so the
// seeds reach each handler's decoding and its not-found path.
var chatSeeds = []struct {
	as      actor
	event   string
	payload string
}{
	{asUser, "clientReady", `{"clientId":"acme","username":"user-1","tokenId":"x","isApp":false}`},
	{asUser, "createChat", `{"members":["operator-1"],"title":"Help","desc":"d","sesType":"ONETOONE"}`},
	{asOperator, "createChat", `{"members":["user-1","operator-2"],"sesType":"ONETOMANY"}`},
	{asUser, "setChatDetails", `{"chatSessionId":"s-1","title":"t","desc":"d"}`},
	{asUser, "addMembers", `{"chatSessionId":"s-1","members":["operator-2"]}`},
	{asUser, "leaveChat", `{"chatSessionId":"s-1"}`},
	{asUser, "sendMsg", `{"chatSessionId":"t-1","msg":"hello","msgType":"USER","metadata":{"CLASS":"CATEGORY","CONTENT":{"a":1}}}`},
	{asUser, "editMsg", `{"chatSessionId":"t-1","msgId":"m-1","msg":"edited"}`},
	{asUser, "removeMsg", `{"chatSessionId":"t-1","msgId":"m-1"}`},
	{asOperator, "markMsgRead", `{"chatSessionId":"t-1","messages":["m-1"]}`},
	{asUser, "markSessionRead", `{"chatSessionId":"t-1"}`},
	{asUser, "markAllSessionsRead", `{}`},
	{asUser, "getChatMessages", `{"chatSessionId":"t-1","offset":0,"numOfRes":20}`},
	{asUser, "getChatSessions", `{"offset":0,"numOfRes":10,"offsetMsg":0,"numOfResMsg":1}`},
	{asUser, "getArchivedSessions", `{"offset":0,"numOfRes":10,"offsetMsg":0,"numOfResMsg":1}`},
	{asOperator, "getAggregatedUsersSessions", `{"numOfRes":10,"numOfResMsg":1,"numOfResUsers":10}`},
	{asUser, "getChatUsers", `{"offset":0,"numOfRes":10,"usernames":["operator-1"]}`},
	{asUser, "findByProperties", `{"criteria":{"textSearch":{"searchKey":"print","components":["SESSION_TITLE","MESSAGES_BODY"],"sesTypes":["ONETOONE"]},"sessionIds":["t-1"],"fromDate":"2024-01-01T00:00:00.000Z","toDate":"2030-01-01T00:00:00.000Z","sessionAges":["RECENT"]},"offset":0,"numOfRes":10}`},
	{asUser, "starSessions", `{"chatSessionIds":["t-1"],"starred":true}`},
	{asUser, "archiveSessions", `{"chatSessionIds":["t-1"],"archived":false}`},
	{asUser, "setStatus", `{"status":"BUSY","statusMsg":"in a meeting"}`},
	{asUser, "sendUserAction", `{"chatSessionId":"t-1","action":"TYPING"}`},
	{asProgram, "getChatUsers", `{"clientId":"acme","username":"program-42"}`},
	{asUser, "noSuchEvent", `{}`},
	{asUser, "getChatSessions", `{"numOfRes":-1,"offset":1.5}`},
}

func FuzzChatEvent(f *testing.F) {
	for _, s := range chatSeeds {
		f.Add(uint8(s.as), s.event, s.payload) // an object: the payload of an envelope
	}
	f.Add(uint8(asUser), "sendMsg", `[{"headers":{},"payload":{"chatSessionId":"t-1","msg":"hi"}},"extra"]`)
	f.Add(uint8(asUser), "sendMsg", `[{"headers":"x","payload":[]}]`)
	f.Add(uint8(asUser), "sendMsg", `["not an envelope"]`)
	f.Add(uint8(asUser), "sendMsg", `[]`)
	h := newWireFuzz(f)
	f.Fuzz(func(t *testing.T, as uint8, event, rawArgs string) {
		if client.RESERVED_EVENTS.Has(event) {
			return
		}
		args := fuzzArgs(rawArgs, true)
		s := h.chat[actor(as)%asOtherUser]
		h.watch.committed(t)
		env := emitAck(t, s, event, args...)
		code := resultCode(env)
		if code == chatOK {
			h.alive(t)
			return
		}
		desc, _ := env.(map[string]any)["errorDescription"].(string)
		if !slices.Contains(chatCodes, code) || desc == "" {
			t.Fatalf("%s%v: answer %v is not a clear error", event, args, env)
		}
		if h.watch.committed(t) {
			t.Fatalf("%s%v was refused (%v) but committed a change", event, args, env)
		}
		h.alive(t)
	})
}

// restContentTypes are the bodies echo's binder decodes.
var restContentTypes = []string{"application/json", "application/xml", "application/x-www-form-urlencoded", "text/plain", ""}

func FuzzREST(f *testing.F) {
	for _, s := range []struct {
		as                actor
		method, path, q   string
		contentType, body string
	}{
		{asUser, "GET", "tickets", "", "", ""},
		{asOperator, "GET", "tickets", "status=100", "", ""},
		{asOperator, "GET", "tickets", "status=10000&limit=1", "", ""},
		{asOperator, "GET", "tickets", "limit=500&cursor=abc", "", ""},
		{asUser, "GET", "tickets/t-1/messages", "", "", ""},
		{asUser, "GET", "tickets/t-1/messages", "since=m-1", "", ""},
		{asOperator, "GET", "tickets/t-1/messages", "since=2024-05-01T10:00:00.000Z&limit=2", "", ""},
		{asProgram, "GET", "tickets/t-42/messages", "since=", "", ""},
		{asOperator, "GET", "operators", "", "", ""},
		{asOperator, "PUT", "operators/me/status", "", "application/json", `{"status":"AWAY"}`},
		{asOperator, "PUT", "operators/me/status", "", "application/json", `{"status":42}`},
		{asOperator, "PUT", "operators/me/status", "", "application/xml", `<status>BUSY</status>`},
		{asOperator, "PUT", "operators/me/status", "", "application/x-www-form-urlencoded", `status=BUSY`},
		{asUser, "PUT", "operators/me/status", "", "application/json", `{"status":"AVAILABLE"}`},
		{asUser, "POST", "tickets", "", "application/json", `{"ticketId":"t-f","ticketNm":"x"}`},
		{asProgram, "POST", "tickets", "", "application/json", `{"ticketId":"t-g","userId":"u"}`},
		{asUser, "GET", "tickets/t-1", "", "", ""},
		{asUser, "POST", "tickets/t-1/messages", "", "application/json", `{"messageId":"m-f","content":"hi"}`},
		{asOperator, "POST", "tickets/t-1/accept", "", "", ""},
		{asOperator, "POST", "tickets/t-1/assign", "", "application/json", `{"operatorId":""}`},
		{asOperator, "PUT", "tickets/t-1/status", "", "application/json", `{"statusId":10000}`},
		{asOperator, "GET", "tickets/t-1/events", "", "", ""},
		{asUser, "GET", "tickets/t-1/transcript", "format=text", "", ""},
		{asOperator, "GET", "openapi.json", "", "", ""},
	} {
		f.Add(uint8(s.as), s.method, s.path, s.q, uint8(slices.Index(restContentTypes, s.contentType)), s.body)
	}
	h := newWireFuzz(f)
	f.Fuzz(func(t *testing.T, as uint8, method, path, query string, contentType uint8, reqBody string) {
		if !slices.Contains([]string{"GET", "PUT", "POST", "DELETE", "PATCH"}, method) {
			return
		}
		req, err := http.NewRequest(method, h.n.base+"/api/v1/"+path+"?"+query, strings.NewReader(reqBody))
		if err != nil {
			return // not a URL a client could send
		}
		a := actor(as) % (asOtherUser + 1) // the last: no token
		if a < asOtherUser {
			req.Header.Set("Authorization", "Bearer "+h.tokens[a])
		}
		if ct := restContentTypes[int(contentType)%len(restContentTypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		h.watch.committed(t)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, req.URL, err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s (%q) as %d: %d %s", method, req.URL, reqBody, a, res.StatusCode, raw)
		}
		if res.StatusCode >= 400 && h.watch.committed(t) {
			t.Fatalf("%s %s (%q) was refused (%d %s) but committed a change", method, req.URL, reqBody, res.StatusCode, raw)
		}
	})
}

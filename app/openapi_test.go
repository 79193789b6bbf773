package app

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/openapitest"
)

// template writes an echo path (/tickets/:id) and an OpenAPI one
// (/tickets/{ticketId}) alike, parameter names aside.
var echoParam, docParam = regexp.MustCompile(`:[^/]+`), regexp.MustCompile(`\{[^}]+\}`)

// TestOpenAPICoversEveryRoute: every /api/v1 route the node registers is
// in openapi.yaml with its method, and every documented operation is
// registered. A route added without its description fails here.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	n := startNode(t, t.TempDir())
	doc := openapitest.Document(t)
	documented := map[string]bool{}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			documented[method+" "+docParam.ReplaceAllString(path, "{}")] = true
		}
	}
	registered := map[string]bool{}
	for _, r := range n.app.Routes() {
		path, ok := strings.CutPrefix(r.Path, openapitest.Prefix)
		if !ok || strings.HasPrefix(r.Method, "echo_route") { // echo's own not-found routes
			continue
		}
		key := r.Method + " " + echoParam.ReplaceAllString(path, "{}")
		registered[key] = true
		if !documented[key] {
			t.Errorf("%s %s is served but not in apidoc/openapi.yaml", r.Method, r.Path)
		}
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("%s is in apidoc/openapi.yaml but not served", key)
		}
	}
	if len(registered) < 20 {
		t.Fatalf("only %d /api/v1 routes found: %v", len(registered), registered)
	}
	// Served to anyone, as JSON.
	res, err := http.Get(n.base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestRESTCommandsReachTheSockets: a ticket driven over REST is heard on
// the sockets exactly as one driven by socket commands.
func TestRESTCommandsReachTheSockets(t *testing.T) {
	n := startNode(t, t.TempDir())
	opToken, userToken := n.token(t, "operator-1"), n.token(t, "user-1")
	op, opEv := dial(t, n, opToken)
	user, userEv := dial(t, n, userToken)
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1"})

	if status, body := rest(t, n, "POST", "/api/v1/tickets", userToken, `{"ticketId":"t-rest","ticketNm":"Printer"}`); status != 201 {
		t.Fatalf("POST /tickets: %d %v", status, body)
	}
	if created := opEv.next(t, "ticketCreated")[0].(map[string]any); created["ticketId"] != "t-rest" {
		t.Fatalf("ticketCreated %v", created)
	}
	if status, body := rest(t, n, "POST", "/api/v1/tickets/t-rest/accept", opToken, ""); status != 200 {
		t.Fatalf("accept: %d %v", status, body)
	}
	if accepted := userEv.next(t, "ticketAccepted")[0].(map[string]any); accepted["handleById"] != "operator-1" {
		t.Fatalf("ticketAccepted %v", accepted)
	}
	if status, body := rest(t, n, "POST", "/api/v1/tickets/t-rest/messages", opToken, `{"messageId":"m-rest","content":"hello"}`); status != 201 {
		t.Fatalf("send: %d %v", status, body)
	}
	if msg := userEv.next(t, "messageUpdated")[0].(map[string]any); msg["messageId"] != "m-rest" || msg["senderId"] != "operator-1" {
		t.Fatalf("messageUpdated %v", msg)
	}
	if status, body := rest(t, n, "PUT", "/api/v1/tickets/t-rest/status", opToken, `{"statusId":10000}`); status != 200 {
		t.Fatalf("close: %d %v", status, body)
	}
	if got := userEv.next(t, "ticketStatusUpdated"); got[0] != "t-rest" || got[1] != float64(10000) {
		t.Fatalf("ticketStatusUpdated %v", got)
	}
	status, body := rest(t, n, "GET", "/api/v1/operators", opToken, "")
	if status != 200 || body.([]any)[0].(map[string]any)["load"] != float64(0) {
		t.Fatalf("GET /operators after the close: %d %v", status, body)
	}
}

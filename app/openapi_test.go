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

package apidoc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard/apidoc"
	"github.com/switchboard-chat/switchboard/internal/openapitest"
)

// TestDocumentIsValidOpenAPI31: the document loads and validates as
// OpenAPI 3.1 (JSON Schema 2020-12 schemas), with no external references.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	doc := openapitest.Document(t)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatal("the loader does not read the document as OpenAPI 3.1")
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			if op.OperationID == "" || op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s %s: an operation needs an operationId and responses", method, path)
			}
		}
	}
}

// TestServedAsJSON: GET /api/v1/openapi.json answers the document, without
// a token, and validates against itself.
func TestServedAsJSON(t *testing.T) {
	e := echo.New()
	apidoc.Register(e.Group("/api/v1"))
	srv := httptest.NewServer(openapitest.Handler(t, e))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || doc["openapi"] != "3.1.0" || doc["paths"] == nil {
		t.Fatalf("GET /api/v1/openapi.json = %d, openapi %v", res.StatusCode, doc["openapi"])
	}
	if _, ok := doc["paths"].(map[string]any)["/tickets/{ticketId}/transcript"]; !ok {
		t.Fatal("the served document lacks /tickets/{ticketId}/transcript")
	}
}

package openapitest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/openapitest"
)

const ticket = `{"ticketId":"t-1","displayNm":"","ticketNm":"","statusId":100,"createdAt":"2024-05-01T10:00:00.000Z",
"handleById":"","handleByNm":"","lastResponseAt":"","ownerId":"u","ownerNm":"U","programId":"","isExternal":false}`

// TestCheckCatchesDrift: an answer the document does not describe fails,
// whatever part of it drifted.
func TestCheckCatchesDrift(t *testing.T) {
	doc := openapitest.Document(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, c := range []struct {
		name, method, path string
		status             int
		body               string
		ok                 bool
	}{
		{"a ticket", "GET", "/api/v1/tickets/t-1", 200, ticket, true},
		{"an error", "GET", "/api/v1/tickets/t-1", 404, `{"code":"NOT_FOUND","message":"no ticket t-1"}`, true},
		{"an escaped id", "GET", "/api/v1/users/program-42%2Falice/data", 200, `{"userId":"a","tenant":"t","exportedAt":"x","tickets":null}`, true},
		{"a field of the wrong type", "GET", "/api/v1/tickets/t-1", 200, `{"ticketId":5}`, false},
		{"a missing field", "GET", "/api/v1/tickets/t-1", 200, `{"ticketId":"t-1"}`, false},
		{"a status not described", "GET", "/api/v1/tickets/t-1", 201, ticket, false},
		{"an error code outside the vocabulary", "GET", "/api/v1/tickets/t-1", 404, `{"code":"NOPE","message":"x"}`, false},
		{"an error of another shape", "GET", "/api/v1/tickets/t-1", 404, `{"error":"x"}`, false},
		{"a path not described", "GET", "/api/v1/nowhere", 200, `{}`, false},
		{"a trailing slash", "GET", "/api/v1/tickets/t-1/", 200, ticket, false},
		{"a method not described", "PATCH", "/api/v1/tickets/t-1", 200, ticket, false},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		err := openapitest.Check(doc, req, c.status, jsonHeader, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s: Check = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

package app

import (
	"net/http"
	"testing"
)

// TestRouterErrorsInTheErrorShape: what the router itself refuses (no
// such path, a method the path does not take) answers {code, message}
// like every endpoint.
func TestRouterErrorsInTheErrorShape(t *testing.T) {
	n := runNode(t, testConfig(t, t.TempDir(), testEnv(nil)))
	token := n.token(t, "operator-1")
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/no-such-thing"},
		{"DELETE", "/api/v1/operators"},
	} {
		status, body := rest(t, n, c.method, c.path, token, "")
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %v", c.method, c.path, status, body)
		}
		if !mentions(body, `"code":"NOT_FOUND"`) || !mentions(body, `"message":`) {
			t.Errorf("%s %s: %v, want {code: NOT_FOUND, message}", c.method, c.path, body)
		}
	}
}

package frontend

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func newEcho(t *testing.T, opts Options) *echo.Echo {
	t.Helper()
	e := echo.New()
	Register(e, opts)
	return e
}

func get(t *testing.T, e *echo.Echo, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPagesAreServedWithAStrictPolicy(t *testing.T) {
	e := newEcho(t, Options{Issuer: "https://id.example.com/realms/support", ClientID: "web", Audience: "switchboard"})
	for _, tc := range []struct {
		path      string
		framable  bool
		mustHave  string
		coopSame  bool
		ancestors string
	}{
		{"/dashboard/", false, `<div id="app">`, true, "frame-ancestors 'none'"},
		{"/widget/", true, `<div id="app">`, false, "frame-ancestors *"},
		{"/widget/callback", false, `id="status"`, false, "frame-ancestors 'none'"},
		{"/demo/", false, `src="/widget.js"`, true, "frame-ancestors 'none'"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := get(t, e, tc.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "base-uri 'none'", tc.ancestors} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP %q allows inline code", csp)
			}
			if tc.path != "/demo/" {
				for _, want := range []string{"connect-src 'self' https://id.example.com;", "require-trusted-types-for 'script'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("CSP %q lacks %q", csp, want)
					}
				}
			}
			if got := res.Header.Get("X-Frame-Options"); (got == "DENY") == tc.framable {
				t.Errorf("X-Frame-Options %q", got)
			}
			if got := res.Header.Get("Cross-Origin-Opener-Policy"); (got == "same-origin") != tc.coopSame {
				t.Errorf("Cross-Origin-Opener-Policy %q", got)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("security headers missing: %v", res.Header)
			}
			b := body(t, res)
			if !strings.Contains(b, tc.mustHave) {
				t.Errorf("page lacks %q:\n%s", tc.mustHave, b)
			}
			// No inline script: everything comes from files.
			if strings.Contains(b, "<script>") || strings.Contains(b, "<script type=\"module\">") {
				t.Errorf("inline script in %s", tc.path)
			}
		})
	}
}

func TestAssetsAndLoader(t *testing.T) {
	e := newEcho(t, Options{Issuer: "http://127.0.0.1:8080/oidc", ClientID: "switchboard-web"})
	page := body(t, get(t, e, "/dashboard/"))
	i := strings.Index(page, `src="/assets/`)
	if i < 0 {
		t.Fatalf("no script asset in the dashboard page:\n%s", page)
	}
	asset := page[i+len(`src="`):]
	asset = asset[:strings.IndexByte(asset, '"')]
	res := get(t, e, asset)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("%s: %d %q", asset, res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("hashed asset not cached: %q", res.Header.Get("Cache-Control"))
	}
	etag := res.Header.Get("ETag")
	if again := get(t, e, asset, "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d", again.StatusCode)
	}

	for _, p := range []string{"/assets/nope.js", "/assets/../dashboard/index.html", "/assets/%2e%2e/widget.js", "/demo/index.html"} {
		if res := get(t, e, p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
	}

	loader := get(t, e, "/widget.js")
	if loader.StatusCode != http.StatusOK || loader.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("widget.js: %d %q", loader.StatusCode, loader.Header.Get("Content-Type"))
	}
	if loader.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Error("widget.js must be loadable by other sites")
	}
	if b := body(t, loader); !strings.Contains(b, "/widget/#") || !strings.Contains(b, "switchboard:widget") {
		t.Errorf("widget.js does not look like the loader: %.200s", b)
	}

	head := httptest.NewRecorder()
	e.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "/dashboard/", nil))
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD /dashboard/: %d, %d bytes, CSP %q", head.Code, head.Body.Len(), head.Header().Get("Content-Security-Policy"))
	}

	for path, want := range map[string]string{"/": "/dashboard/", "/dashboard": "/dashboard/", "/widget": "/widget/", "/demo": "/demo/"} {
		res := get(t, e, path)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Errorf("%s: %d → %q, want 302 → %q", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}

func TestConfigTellsWhereToSignIn(t *testing.T) {
	e := newEcho(t, Options{Issuer: "http://127.0.0.1:8080/oidc", ClientID: "switchboard-web", Audience: "switchboard", DevIssuer: true})
	res := get(t, e, "/frontend-config.json")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	var cfg Config
	if err := json.Unmarshal([]byte(body(t, res)), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "http://127.0.0.1:8080/oidc" || cfg.ClientID != "switchboard-web" || cfg.Audience != "switchboard" ||
		cfg.Scope != "openid profile" || !cfg.DevIssuer {
		t.Errorf("config %+v", cfg)
	}
	if len(cfg.DemoOperators) != 4 || cfg.DemoOperators[0].ID != "operator-1" || cfg.DemoOperators[3].ID != "supervisor-1" {
		t.Errorf("demo operators %+v", cfg.DemoOperators)
	}

	prod := newEcho(t, Options{Issuer: "https://id.example.com", ClientID: "web", Audience: "api"})
	var p Config
	if err := json.Unmarshal([]byte(body(t, get(t, prod, "/frontend-config.json"))), &p); err != nil {
		t.Fatal(err)
	}
	if p.DevIssuer || len(p.DemoOperators) != 0 {
		t.Errorf("a production config names demo accounts: %+v", p)
	}
}

// Package frontend serves the browser faces of Switchboard from the binary
// itself: the operator dashboard (/dashboard/), the end-user chat widget
// (/widget.js, the loader a site embeds, and /widget/, the frame it opens),
// a demo page that embeds the widget (/demo/), and /frontend-config.json,
// which tells the pages where to sign in.
//
// The pages are built from the TypeScript sources in this folder (npm run
// build) into dist/, which is committed and embedded here, so that
// `go run ./cmd/switchboard` serves them without Node. Every page gets a
// strict Content-Security-Policy: scripts and styles from this server's
// files only, connections to this server and the OpenID provider only,
// and Trusted Types enforced, so no string can become HTML.
package frontend

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard/oauth"
)

//go:embed all:dist
var dist embed.FS

// Options says how the pages sign in.
type Options struct {
	// Issuer is the OpenID provider's issuer URL the browser signs in
	// with (the development issuer's when it runs).
	Issuer string
	// ClientID is the provider's public browser client (authorization code
	// with PKCE, no secret).
	ClientID string
	// Audience is the API identifier access tokens must carry; sent as the
	// authorization request's "audience" for providers that need it.
	Audience string
	// Scope is requested at sign-in. Default "openid profile".
	Scope string
	// DevIssuer says the embedded development issuer runs: the pages say
	// so and offer its demo operators when assigning tickets.
	DevIssuer bool
	// Visitors is how the widget gets its token: "anonymous" (a visitor
	// token without sign-in, POST /api/v1/visitors), "identified" (the
	// same, exchanging the identity the site passes) or "oidc" (sign-in
	// at the provider). Default "oidc".
	Visitors string
}

// Config is /frontend-config.json. It holds no secret: a browser client
// has none.
type Config struct {
	Issuer        string        `json:"issuer"`
	ClientID      string        `json:"clientId"`
	Audience      string        `json:"audience"`
	Scope         string        `json:"scope"`
	DevIssuer     bool          `json:"devIssuer"`
	Visitors      string        `json:"visitors"`
	DemoOperators []DemoAccount `json:"demoOperators,omitempty"`
}

// DemoAccount is a demo operator of the development issuer.
type DemoAccount struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// page is one embedded HTML page and the policy it is served with.
type page struct {
	file string
	csp  string
	// framable pages (the widget frame) may be embedded by any site;
	// the others refuse every frame.
	framable bool
	// isolated pages get Cross-Origin-Opener-Policy: same-origin. The
	// sign-in callback and the widget frame must keep their opener.
	isolated bool
}

type server struct {
	files  fs.FS
	config []byte
	etags  map[string]string
}

// Register mounts the pages on e. It registers only its own paths: /,
// /dashboard/, /widget/, /widget/callback, /widget.js, /demo/, /assets/*
// and /frontend-config.json.
func Register(e *echo.Echo, opts Options) {
	s, err := newServer(opts)
	if err != nil {
		panic(err) // the embedded build is broken: a bug, caught by the tests
	}
	s.register(e, opts)
}

func newServer(opts Options) (*server, error) {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	if opts.Scope == "" {
		opts.Scope = "openid profile"
	}
	if opts.Visitors == "" {
		opts.Visitors = "oidc"
	}
	cfg := Config{Issuer: opts.Issuer, ClientID: opts.ClientID, Audience: opts.Audience, Scope: opts.Scope,
		DevIssuer: opts.DevIssuer, Visitors: opts.Visitors}
	if opts.DevIssuer {
		for _, a := range oauth.DevAccounts {
			if a.Operator {
				cfg.DemoOperators = append(cfg.DemoOperators, DemoAccount{ID: a.ID, Name: a.Name})
			}
		}
	}
	body, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	s := &server{files: files, config: body, etags: map[string]string{}}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		s.etags[p] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range []string{"dashboard/index.html", "widget/index.html", "widget/callback.html", "widget.js", "demo/index.html"} {
		if _, ok := s.etags[p]; !ok {
			return nil, fmt.Errorf("frontend: dist/%s is missing; run npm run build in frontend/", p)
		}
	}
	return s, nil
}

func (s *server) register(e *echo.Echo, opts Options) {
	connect := "'self'"
	if o := origin(opts.Issuer); o != "" {
		connect += " " + o
	}
	appCSP := func(ancestors string) string {
		return strings.Join([]string{
			"default-src 'none'",
			"script-src 'self'",
			"style-src 'self'",
			"img-src 'self' data:",
			"font-src 'self'",
			"connect-src " + connect,
			"base-uri 'none'",
			"form-action 'none'",
			"frame-ancestors " + ancestors,
			"require-trusted-types-for 'script'",
			"trusted-types 'none'",
		}, "; ")
	}
	dashboard := page{file: "dashboard/index.html", csp: appCSP("'none'"), isolated: true}
	widget := page{file: "widget/index.html", csp: appCSP("*"), framable: true}
	callback := page{file: "widget/callback.html", csp: appCSP("'none'")}
	demo := page{file: "demo/index.html", csp: strings.Join([]string{
		"default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
		"frame-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
	}, "; "), isolated: true}

	redirect := func(to string) echo.HandlerFunc {
		return func(c echo.Context) error { return c.Redirect(http.StatusFound, to) }
	}
	get := func(path string, h echo.HandlerFunc) { e.Match([]string{http.MethodGet, http.MethodHead}, path, h) }
	get("/", redirect("/dashboard/"))
	get("/dashboard", redirect("/dashboard/"))
	get("/dashboard/", s.page(dashboard))
	get("/widget", redirect("/widget/"))
	get("/widget/", s.page(widget))
	get("/widget/callback", s.page(callback))
	get("/demo", redirect("/demo/"))
	get("/demo/", s.page(demo))
	get("/demo/*", s.static("demo/", "no-cache"))
	get("/assets/*", s.static("assets/", "public, max-age=31536000, immutable"))
	get("/widget.js", s.loader)
	get("/frontend-config.json", s.configJSON)
}

// origin is the scheme://host[:port] of an absolute URL, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
}

func (s *server) page(p page) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		securityHeaders(h)
		h.Set("Content-Security-Policy", p.csp)
		if !p.framable {
			h.Set("X-Frame-Options", "DENY")
		}
		if p.isolated {
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
		}
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		return s.serve(c, p.file, "text/html; charset=utf-8")
	}
}

// static serves the files under dir (assets, the demo page's stylesheet).
func (s *server) static(dir, cache string) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("*")
		if name == "" || strings.Contains(name, "\\") || !fs.ValidPath(name) {
			return echo.ErrNotFound
		}
		file := dir + name
		if _, ok := s.etags[file]; !ok || path.Ext(file) == ".html" {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		securityHeaders(h)
		h.Set("Cache-Control", cache)
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		// Nothing here is a document; an SVG opened directly runs nothing.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
		return s.serve(c, file, contentType(file))
	}
}

// loader serves widget.js, which other sites load with a <script> tag.
func (s *server) loader(c echo.Context) error {
	h := c.Response().Header()
	securityHeaders(h)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Access-Control-Allow-Origin", "*")
	return s.serve(c, "widget.js", "text/javascript; charset=utf-8")
}

func (s *server) configJSON(c echo.Context) error {
	h := c.Response().Header()
	securityHeaders(h)
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	return c.Blob(http.StatusOK, "application/json", s.config)
}

func (s *server) serve(c echo.Context, file, ctype string) error {
	b, err := fs.ReadFile(s.files, file)
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Content-Type", ctype)
	h.Set("ETag", s.etags[file])
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(b))
	return nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".woff2":
		return "font/woff2"
	case ".json":
		return "application/json"
	case ".ico":
		return "image/x-icon"
	}
	return "application/octet-stream"
}

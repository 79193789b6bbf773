package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/switchboard-chat/switchboard"
)

// devServer is a loopback HTTP server whose issuer can be swapped, so that
// a "restarted" issuer keeps its URL. It mounts the issuer the way the app
// does with echo: under /oidc/, path not stripped.
type devServer struct {
	srv    *httptest.Server
	issuer string
	h      atomic.Pointer[http.Handler]
}

func newDevServer(t *testing.T) *devServer {
	t.Helper()
	s := &devServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/oidc/", func(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) })
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	s.issuer = s.srv.URL + "/oidc"
	return s
}

func (s *devServer) start(t *testing.T, dataDir string) *DevIssuer {
	t.Helper()
	d, err := NewDevIssuer(DevIssuerOptions{Issuer: s.issuer, DataDir: dataDir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := d.Handler()
	s.h.Store(&h)
	return d
}

func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDevIssuerEndToEnd(t *testing.T) {
	ctx := context.Background()
	s := newDevServer(t)
	dir := t.TempDir() + "/data" // created by the issuer
	d := s.start(t, dir)
	if d.Issuer() != s.issuer {
		t.Fatalf("Issuer() = %q", d.Issuer())
	}
	secrets := d.ProgramSecrets()
	if len(secrets) != 2 || secrets["program-42"] == "" || secrets["program-7"] == "" {
		t.Fatalf("ProgramSecrets() = %v", secrets)
	}

	// zitadel/oidc's op signs every JWT with typ "JWT" (op.SignerFromKey),
	// access tokens included, hence AcceptJWTTyp, as the app sets it for
	// the development issuer.
	v := NewVerifier(Config{Issuer: s.issuer, AcceptJWTTyp: true})

	tests := []struct {
		as   string
		want switchboard.Principal
	}{
		{"operator-1", switchboard.Principal{ID: "operator-1", Role: switchboard.RoleOperator, DisplayName: "Operator One", Tenant: "default", Admin: true}},
		{"user-1", switchboard.Principal{ID: "user-1", Role: switchboard.RoleUser, DisplayName: "User One", Tenant: "default"}},
		{"program-42", switchboard.Principal{ID: "program-42", ProgramID: "program-42", Role: switchboard.RoleProgram, DisplayName: "program-42", Tenant: "default"}},
	}
	tokens := map[string]string{}
	for _, tt := range tests {
		tok, err := DevToken(ctx, s.issuer, tt.as, dir)
		if err != nil {
			t.Fatalf("DevToken(%s): %v", tt.as, err)
		}
		tokens[tt.as] = tok
		if h := jwtHeader(t, tok); h["typ"] != "JWT" || h["alg"] != "RS256" {
			t.Errorf("%s: header = %v, want typ JWT, alg RS256", tt.as, h)
		}
		got, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("Verify(%s token): %v", tt.as, err)
		}
		if got.ExpiresAt.IsZero() {
			t.Errorf("%s: no expiry", tt.as)
		}
		got.ExpiresAt = got.ExpiresAt.UTC()
		tt.want.ExpiresAt = got.ExpiresAt
		if got != tt.want {
			t.Errorf("%s: principal = %+v\nwant %+v", tt.as, got, tt.want)
		}
	}

	// The same tokens are refused where typ "JWT" is not accepted.
	_, err := NewVerifier(Config{Issuer: s.issuer}).Verify(ctx, tokens["user-1"])
	wantCode(t, err, switchboard.ETOKENINVALID)

	// The ID token of a sign-in is no access token, even with typ "JWT"
	// accepted and our audience in it.
	full, err := devTokens(ctx, s.issuer, "user-2", dir)
	if err != nil {
		t.Fatal(err)
	}
	idToken, _ := full.Extra("id_token").(string)
	if idToken == "" {
		t.Fatal("no ID token")
	}
	_, err = v.Verify(ctx, idToken)
	wantCode(t, err, switchboard.ETOKENINVALID)

	// The browser client signs in the same way, back to a page of the server.
	provider, err := oidc.NewProvider(ctx, s.issuer)
	if err != nil {
		t.Fatal(err)
	}
	web := oauth2.Config{ClientID: DevWebClientID, Endpoint: provider.Endpoint(), RedirectURL: s.srv.URL + "/dashboard/", Scopes: []string{"openid"}}
	webTok, err := devSignIn(ctx, http.DefaultClient, web, "operator-2")
	if err != nil {
		t.Fatalf("browser client sign-in: %v", err)
	}
	if p, err := v.Verify(ctx, webTok.AccessToken); err != nil || p.ID != "operator-2" || p.Role != switchboard.RoleOperator {
		t.Errorf("browser client token: %+v, %v", p, err)
	}

	// Restart: a new issuer on the same data directory has the same key and
	// secrets, and a new verifier accepts the earlier tokens.
	d2 := s.start(t, dir)
	if got := d2.ProgramSecrets(); got["program-42"] != secrets["program-42"] {
		t.Error("program secrets changed across a restart")
	}
	v2 := NewVerifier(Config{Issuer: s.issuer, AcceptJWTTyp: true})
	for as, tok := range tokens {
		if _, err := v2.Verify(ctx, tok); err != nil {
			t.Errorf("%s token after restart: %v", as, err)
		}
	}
	if _, err := DevToken(ctx, s.issuer, "program-7", dir); err != nil {
		t.Errorf("program-7 after restart: %v", err)
	}
}

func TestDevTokenRefuses(t *testing.T) {
	ctx := context.Background()
	s := newDevServer(t)
	dir := t.TempDir()
	s.start(t, dir)

	if _, err := DevToken(ctx, s.issuer, "mallory", dir); err == nil || !strings.Contains(err.Error(), "operator-1") {
		t.Errorf("unknown account: err = %v, want a list of the demo accounts", err)
	}
	if _, err := DevToken(ctx, s.issuer, "program-42", t.TempDir()); err == nil {
		t.Error("a program token without its secret")
	}
	// A wrong secret is refused by the issuer itself.
	if err := writeFileAtomic(dir+"/"+devSecretsFile, []byte(`{"program-42":"wrong"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := DevToken(ctx, s.issuer, "program-42", dir); err == nil {
		t.Error("a program token with a wrong secret")
	}
}

func TestDevIssuerGuards(t *testing.T) {
	s := newDevServer(t)
	d := s.start(t, t.TempDir())
	h := d.Handler()
	host := strings.TrimPrefix(s.srv.URL, "http://")

	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	discovery := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, s.issuer+"/.well-known/openid-configuration", nil)
		r.RemoteAddr = "127.0.0.1:40000"
		return r
	}

	if w := serve(discovery()); w.Code != http.StatusOK {
		t.Fatalf("discovery from loopback: %d %s", w.Code, w.Body)
	}
	r := discovery()
	r.RemoteAddr = "[::1]:40000"
	if w := serve(r); w.Code != http.StatusOK {
		t.Errorf("discovery from ::1: %d", w.Code)
	}
	r = discovery()
	r.RemoteAddr = "203.0.113.9:40000"
	if w := serve(r); w.Code != http.StatusForbidden {
		t.Errorf("remote client: %d, want 403", w.Code)
	}
	r = discovery()
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 127.0.0.1")
	if w := serve(r); w.Code != http.StatusForbidden {
		t.Errorf("forwarded for a remote client: %d, want 403", w.Code)
	}
	r = discovery()
	r.Header.Set("Forwarded", `for="203.0.113.9:1234";proto=http`)
	if w := serve(r); w.Code != http.StatusForbidden {
		t.Errorf("Forwarded for a remote client: %d, want 403", w.Code)
	}
	r = discovery()
	r.Host = "rebound.evil.example"
	if w := serve(r); w.Code != http.StatusForbidden {
		t.Errorf("foreign Host: %d, want 403", w.Code)
	}

	// Mounted behind http.StripPrefix, it serves the stripped path too.
	r = discovery()
	r.URL.Path = "/.well-known/openid-configuration"
	if w := serve(r); w.Code != http.StatusOK {
		t.Errorf("stripped path: %d", w.Code)
	}

	authorize := func(redirect string, pkce bool) *httptest.ResponseRecorder {
		q := url.Values{
			"client_id":     {DevWebClientID},
			"response_type": {"code"},
			"scope":         {"openid profile"},
			"redirect_uri":  {redirect},
			"state":         {"xyz"},
		}
		if pkce {
			q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
			q.Set("code_challenge_method", "S256")
		}
		r := httptest.NewRequest(http.MethodGet, s.issuer+"/authorize?"+q.Encode(), nil)
		r.RemoteAddr = "127.0.0.1:40000"
		r.Host = host
		return serve(r)
	}
	// The browser client may return to any page of this machine...
	w := authorize("http://127.0.0.1:8080/dashboard/", true)
	if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), s.issuer+"/login?authRequestID=") {
		t.Fatalf("browser sign-in: %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	loginURL := w.Header().Get("Location")
	if w := authorize("http://localhost:5173/widget/callback?x=1", true); w.Code != http.StatusFound {
		t.Errorf("localhost redirect: %d %s", w.Code, w.Body)
	}
	// ...and to no other.
	for _, redirect := range []string{
		"http://127.0.0.1:1@evil.example/",
		"http://evil.example/",
		"https://evil.example:443/",
		"javascript:alert(1)",
	} {
		if w := authorize(redirect, true); w.Code == http.StatusFound {
			t.Errorf("redirect %q accepted: Location %q", redirect, w.Header().Get("Location"))
		}
	}
	// PKCE is required.
	w = authorize("http://127.0.0.1:8080/dashboard/", false)
	if loc := w.Header().Get("Location"); !strings.Contains(loc, "error=invalid_request") {
		t.Errorf("no PKCE: %d, Location %q", w.Code, loc)
	}

	// The login page lists the accounts and cannot be framed.
	r = httptest.NewRequest(http.MethodGet, loginURL, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	w = serve(r)
	body, _ := io.ReadAll(w.Body)
	if w.Code != http.StatusOK || !strings.Contains(string(body), `value="operator-3"`) || !strings.Contains(string(body), "User Two") {
		t.Errorf("login page: %d\n%s", w.Code, body)
	}
	if w.Header().Get("X-Frame-Options") != "DENY" {
		t.Error("login page may be framed")
	}
	r = httptest.NewRequest(http.MethodGet, s.issuer+"/login?authRequestID=%3Cscript%3E", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	if w := serve(r); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "<script>") {
		t.Errorf("unknown auth request: %d %q", w.Code, w.Body)
	}
}

func TestNewDevIssuerRefusesNonLoopbackIssuer(t *testing.T) {
	_, err := NewDevIssuer(DevIssuerOptions{Issuer: "http://0.0.0.0:8080/oidc", DataDir: t.TempDir()})
	if err == nil {
		t.Fatal("a development issuer reachable from other machines")
	}
}

// The one-click sign-in that mints an operator's token: a remote peer is
// refused whatever its headers say (a proxy's defaults name the upstream,
// 127.0.0.1, as Host), and its attempt leaves the sign-in untouched.
func TestDevSignInNeedsLoopbackPeer(t *testing.T) {
	s := newDevServer(t)
	d := s.start(t, t.TempDir())
	h := d.Handler()
	serve := func(handler http.Handler, r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		return w
	}
	q := url.Values{
		"client_id": {DevWebClientID}, "response_type": {"code"}, "scope": {"openid profile"},
		"redirect_uri": {"http://127.0.0.1:8080/dashboard/"}, "state": {"xyz"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}
	r := httptest.NewRequest(http.MethodGet, s.issuer+"/authorize?"+q.Encode(), nil)
	r.RemoteAddr = "127.0.0.1:40000"
	w := serve(h, r)
	loc, err := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusFound || err != nil || loc.Query().Get("authRequestID") == "" {
		t.Fatalf("authorize from loopback: %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	id := loc.Query().Get("authRequestID")
	click := func(remote string, headers map[string]string) *http.Request {
		form := url.Values{"authRequestID": {id}, "account": {"operator-1"}}
		r := httptest.NewRequest(http.MethodPost, s.issuer+"/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = remote
		r.Host = "127.0.0.1:8080"
		for k, v := range headers {
			r.Header.Set(k, v)
		}
		return r
	}
	for _, headers := range []map[string]string{
		nil,
		{"X-Forwarded-For": "127.0.0.1"},
		{"X-Real-Ip": "127.0.0.1"},
		{"Forwarded": "for=127.0.0.1;host=127.0.0.1"},
	} {
		if w := serve(h, click("203.0.113.9:50000", headers)); w.Code != http.StatusForbidden || w.Header().Get("Location") != "" {
			t.Errorf("a remote peer with Host 127.0.0.1 and %v: %d, Location %q", headers, w.Code, w.Header().Get("Location"))
		}
	}
	// The login page refuses a remote peer itself, without the handler's
	// guard in front (the mux serves the stripped path).
	r = click("[2001:db8::1]:50000", nil)
	r.URL.Path = "/login"
	if w := serve(d.mux, r); w.Code != http.StatusForbidden {
		t.Errorf("the login page behind no guard, remote peer: %d", w.Code)
	}
	// None of it completed the sign-in (a completed one is refused): the
	// local click still can.
	w = serve(h, click("127.0.0.1:40000", nil))
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "/authorize/callback?id=") {
		t.Errorf("local click after the refused ones: %d, Location %q", w.Code, w.Header().Get("Location"))
	}
}

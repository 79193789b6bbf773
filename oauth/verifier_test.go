package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/switchboard-chat/switchboard"
)

// testProvider serves discovery and a JWKS of keys the test controls, and
// counts the JWKS fetches.
type testProvider struct {
	srv        *httptest.Server
	mu         sync.Mutex
	keys       []jose.JSONWebKey
	jwksHits   atomic.Int64
	discovered atomic.Int64
	down       atomic.Bool // discovery answers 503
}

func newTestProvider(t testing.TB) *testProvider {
	t.Helper()
	p := &testProvider{}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.discovered.Add(1)
		if p.down.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.srv.URL,
			"jwks_uri":                              p.srv.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		p.mu.Lock()
		set := jose.JSONWebKeySet{Keys: p.keys}
		p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// testKey is a signing key; publish adds its public half to the JWKS.
type testKey struct {
	alg  jose.SignatureAlgorithm
	kid  string
	priv any
}

func (p *testProvider) publish(k testKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pub := (&jose.JSONWebKey{Key: k.priv}).Public()
	pub.KeyID, pub.Algorithm, pub.Use = k.kid, string(k.alg), "sig"
	p.keys = append(p.keys, pub)
}

func newRSAKey(t testing.TB, kid string) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{alg: jose.RS256, kid: kid, priv: k}
}

func sign(t testing.TB, k testKey, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (p *testProvider) claims(extra map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss":  p.srv.URL,
		"aud":  []string{"switchboard", "other-api"},
		"sub":  "alice",
		"iat":  now.Unix(),
		"exp":  now.Add(time.Hour).Unix(),
		"name": "Alice Liddell",
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *switchboard.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *switchboard.Error with code %s", err, err, code)
	}
	if _, ok := err.(*switchboard.Error); !ok {
		t.Fatalf("err is %T, want *switchboard.Error itself", err)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%s), want %s", e.Code, e.Message, code)
	}
}

func TestVerifyPrincipals(t *testing.T) {
	p := newTestProvider(t)
	rsaKey := newRSAKey(t, "rsa-1")
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecKey := testKey{alg: jose.ES256, kid: "ec-1", priv: ec}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	edKey := testKey{alg: jose.EdDSA, kid: "ed-1", priv: ed}
	for _, k := range []testKey{rsaKey, ecKey, edKey} {
		p.publish(k)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)

	tests := []struct {
		name   string
		cfg    Config
		key    testKey
		typ    string
		claims map[string]any
		want   switchboard.Principal
	}{
		{
			name: "user",
			want: switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name:   "operator by roles list",
			claims: map[string]any{"roles": []string{"viewer", "operator"}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleOperator, DisplayName: "Alice Liddell"},
		},
		{
			name:   "operator by space-separated roles",
			claims: map[string]any{"roles": "viewer operator"},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleOperator, DisplayName: "Alice Liddell"},
		},
		{
			name:   "administrator: an operator with the admin role",
			claims: map[string]any{"roles": []string{"operator", "admin"}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleOperator, DisplayName: "Alice Liddell", Admin: true},
		},
		{
			name:   "supervisor: an operator with the supervisor role",
			claims: map[string]any{"roles": []string{"operator", "supervisor"}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleOperator, DisplayName: "Alice Liddell", Supervisor: true},
		},
		{
			name:   "a renamed supervisor role; the default name is then no supervisor",
			cfg:    Config{SupervisorRole: "team-lead"},
			claims: map[string]any{"roles": []string{"operator", "team-lead"}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleOperator, DisplayName: "Alice Liddell", Supervisor: true},
		},
		{
			name:   "the supervisor role alone makes no operator",
			cfg:    Config{SupervisorRole: "team-lead"},
			claims: map[string]any{"roles": []string{"supervisor", "team-lead"}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name:   "the admin role alone makes no operator",
			claims: map[string]any{"roles": []string{"admin"}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name:   "a renamed admin role (Keycloak)",
			cfg:    Config{RolesClaim: "realm_access.roles", AdminRole: "support-admin"},
			claims: map[string]any{"realm_access": map[string]any{"roles": []string{"operator", "support-admin", "admin"}}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleOperator, DisplayName: "Alice Liddell", Admin: true},
		},
		{
			name:   "a role that only contains the operator role's name is not it",
			claims: map[string]any{"roles": "operators"},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name:   "operator by dotted claim path (Keycloak)",
			cfg:    Config{RolesClaim: "realm_access.roles", OperatorRole: "support-agent"},
			claims: map[string]any{"realm_access": map[string]any{"roles": []string{"support-agent"}}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleOperator, DisplayName: "Alice Liddell"},
		},
		{
			name:   "operator by a claim whose name has dots (Auth0)",
			cfg:    Config{RolesClaim: "https://switchboard.example/roles"},
			claims: map[string]any{"https://switchboard.example/roles": []string{"operator"}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleOperator, DisplayName: "Alice Liddell"},
		},
		{
			name:   "program by program_id",
			claims: map[string]any{"sub": "svc-account", "program_id": "program-42", "name": nil},
			want:   switchboard.Principal{ID: "program-42", ProgramID: "program-42", Role: switchboard.RoleProgram, DisplayName: "svc-account"},
		},
		{
			name:   "program by client_id equal to sub",
			claims: map[string]any{"sub": "program-7", "client_id": "program-7", "name": nil},
			want:   switchboard.Principal{ID: "program-7", ProgramID: "program-7", Role: switchboard.RoleProgram, DisplayName: "program-7"},
		},
		{
			name:   "a user signed in through a client is not that client",
			claims: map[string]any{"client_id": "switchboard-web"},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name:   "tenant claim",
			cfg:    Config{TenantClaim: "org.id"},
			claims: map[string]any{"org": map[string]any{"id": "acme"}},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell", Tenant: "acme"},
		},
		{
			name:   "configured single tenant",
			cfg:    Config{Tenant: "shop"},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell", Tenant: "shop"},
			claims: map[string]any{},
		},
		{
			name:   "display name from preferred_username",
			claims: map[string]any{"name": nil, "preferred_username": "alice.l", "email": "alice@example.com"},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "alice.l"},
		},
		{
			name:   "display name from email",
			claims: map[string]any{"name": nil, "email": "alice@example.com"},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "alice@example.com"},
		},
		{
			name: "application/at+jwt",
			typ:  "application/at+jwt",
			want: switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name: "typ JWT when accepted",
			cfg:  Config{AcceptJWTTyp: true},
			typ:  "JWT",
			want: switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name: "ES256",
			key:  ecKey,
			want: switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name: "EdDSA",
			key:  edKey,
			want: switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name:   "expired within leeway",
			claims: map[string]any{"exp": time.Now().Add(-10 * time.Second).Unix()},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
		{
			name:   "not yet valid within leeway",
			claims: map[string]any{"nbf": time.Now().Add(10 * time.Second).Unix()},
			want:   switchboard.Principal{ID: "alice", Role: switchboard.RoleUser, DisplayName: "Alice Liddell"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Issuer = p.srv.URL
			v := NewVerifier(cfg)
			key := tt.key
			if key.priv == nil {
				key = rsaKey
			}
			typ := tt.typ
			if typ == "" {
				typ = "at+jwt"
			}
			claims := map[string]any{"exp": exp.Unix()}
			for k, val := range tt.claims {
				claims[k] = val
			}
			got, err := v.Verify(context.Background(), sign(t, key, typ, p.claims(claims)))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want.Tenant == "" {
				want.Tenant = "default"
			}
			if want.ExpiresAt.IsZero() {
				if e, ok := claims["exp"].(int64); ok {
					want.ExpiresAt = time.Unix(e, 0)
				}
			}
			if !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
			}
			got.ExpiresAt, want.ExpiresAt = time.Time{}, time.Time{}
			if got != want {
				t.Errorf("principal = %+v\nwant        %+v", got, want)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	p := newTestProvider(t)
	key := newRSAKey(t, "rsa-1")
	p.publish(key)
	impostor := newRSAKey(t, "rsa-1") // same kid, key not published

	hs := testKey{alg: jose.HS256, kid: "rsa-1", priv: []byte("0123456789abcdef0123456789abcdef")}
	noneToken := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`))
		b, _ := json.Marshal(p.claims(nil))
		return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
	}

	tests := []struct {
		name  string
		cfg   Config
		token func() string
		code  string
	}{
		{"empty", Config{}, func() string { return "" }, switchboard.ETOKENMISSING},
		{"blank", Config{}, func() string { return "  " }, switchboard.ETOKENMISSING},
		{"garbage", Config{}, func() string { return "not-a-jwt" }, switchboard.ETOKENINVALID},
		{"whitespace inside", Config{}, func() string {
			raw := sign(t, key, "at+jwt", p.claims(nil))
			i := strings.IndexByte(raw, '.') + 5 // in the payload
			return raw[:i] + " " + raw[i:]
		}, switchboard.ETOKENINVALID},
		{"not base64url", Config{}, func() string {
			raw := sign(t, key, "at+jwt", p.claims(nil))
			i := strings.IndexByte(raw, '.') + 5
			return raw[:i] + "+" + raw[i+1:]
		}, switchboard.ETOKENINVALID},
		{"expired beyond leeway", Config{}, func() string {
			return sign(t, key, "at+jwt", p.claims(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}))
		}, switchboard.ETOKENEXPIRED},
		{"expired with no leeway", Config{Leeway: -1}, func() string {
			return sign(t, key, "at+jwt", p.claims(map[string]any{"exp": time.Now().Add(-2 * time.Second).Unix()}))
		}, switchboard.ETOKENEXPIRED},
		{"expired and badly signed is invalid, not expired", Config{}, func() string {
			return sign(t, impostor, "at+jwt", p.claims(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}))
		}, switchboard.ETOKENINVALID},
		{"no exp", Config{}, func() string { return sign(t, key, "at+jwt", p.claims(map[string]any{"exp": nil})) }, switchboard.ETOKENINVALID},
		{"nbf in the future", Config{}, func() string {
			return sign(t, key, "at+jwt", p.claims(map[string]any{"nbf": time.Now().Add(time.Minute).Unix()}))
		}, switchboard.ETOKENINVALID},
		{"wrong audience", Config{}, func() string {
			return sign(t, key, "at+jwt", p.claims(map[string]any{"aud": "someone-else"}))
		}, switchboard.ETOKENINVALID},
		{"configured audience", Config{Audience: "chat-api"}, func() string {
			return sign(t, key, "at+jwt", p.claims(nil))
		}, switchboard.ETOKENINVALID},
		{"wrong issuer", Config{}, func() string {
			return sign(t, key, "at+jwt", p.claims(map[string]any{"iss": "https://evil.example"}))
		}, switchboard.ETOKENINVALID},
		{"issuer with a trailing slash", Config{}, func() string {
			return sign(t, key, "at+jwt", p.claims(map[string]any{"iss": p.srv.URL + "/"}))
		}, switchboard.ETOKENINVALID},
		{"bad signature", Config{}, func() string { return sign(t, impostor, "at+jwt", p.claims(nil)) }, switchboard.ETOKENINVALID},
		{"alg HS256", Config{}, func() string { return sign(t, hs, "at+jwt", p.claims(nil)) }, switchboard.ETOKENINVALID},
		{"alg none", Config{}, noneToken, switchboard.ETOKENINVALID},
		{"typ JWT not accepted", Config{}, func() string { return sign(t, key, "JWT", p.claims(nil)) }, switchboard.ETOKENINVALID},
		{"no typ", Config{AcceptJWTTyp: true}, func() string { return sign(t, key, "", p.claims(nil)) }, switchboard.ETOKENINVALID},
		{"other typ", Config{AcceptJWTTyp: true}, func() string { return sign(t, key, "logout+jwt", p.claims(nil)) }, switchboard.ETOKENINVALID},
		{"ID token with nonce", Config{AcceptJWTTyp: true}, func() string {
			return sign(t, key, "JWT", p.claims(map[string]any{"nonce": "n-0S6_WzA2Mj"}))
		}, switchboard.ETOKENINVALID},
		{"ID token with at_hash", Config{AcceptJWTTyp: true}, func() string {
			return sign(t, key, "JWT", p.claims(map[string]any{"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}))
		}, switchboard.ETOKENINVALID},
		{"ID token with at_hash claiming at+jwt", Config{}, func() string {
			return sign(t, key, "at+jwt", p.claims(map[string]any{"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}))
		}, switchboard.ETOKENINVALID},
		{"no sub", Config{}, func() string { return sign(t, key, "at+jwt", p.claims(map[string]any{"sub": nil})) }, switchboard.ETOKENINVALID},
		{"missing tenant claim", Config{TenantClaim: "tid"}, func() string { return sign(t, key, "at+jwt", p.claims(nil)) }, switchboard.ETOKENINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Issuer = p.srv.URL
			_, err := NewVerifier(cfg).Verify(context.Background(), tt.token())
			wantCode(t, err, tt.code)
			t.Log(err)
		})
	}
}

// fakeClock lets the test step over the key refresh interval.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestUnknownKidRefreshIsRateLimited(t *testing.T) {
	p := newTestProvider(t)
	key := newRSAKey(t, "rsa-1")
	p.publish(key)
	clock := &fakeClock{now: time.Now()}
	v := NewVerifier(Config{Issuer: p.srv.URL})
	v.now = clock.Now
	ctx := context.Background()

	if _, err := v.Verify(ctx, sign(t, key, "at+jwt", p.claims(nil))); err != nil {
		t.Fatal(err)
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times for the first token, want 1", got)
	}

	ghost := sign(t, newRSAKey(t, "ghost"), "at+jwt", p.claims(nil))
	for range 5 {
		_, err := v.Verify(ctx, ghost)
		wantCode(t, err, switchboard.ETOKENINVALID)
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want 1: unknown kids within the interval must fail fast", got)
	}

	// After the interval, a burst of unknown kids costs one fetch.
	clock.Advance(DefaultKeyRefreshInterval + time.Second)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := v.Verify(ctx, ghost)
			if switchboard.ErrorCode(err) != switchboard.ETOKENINVALID {
				t.Errorf("ghost kid: %v", err)
			}
		})
	}
	wg.Wait()
	if got := p.jwksHits.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times after the interval, want 2", got)
	}

	// A rotated-in key is picked up at the next allowed refresh.
	rotated := newRSAKey(t, "rsa-2")
	p.publish(rotated)
	tok := sign(t, rotated, "at+jwt", p.claims(nil))
	_, err := v.Verify(ctx, tok)
	wantCode(t, err, switchboard.ETOKENINVALID)
	clock.Advance(DefaultKeyRefreshInterval + time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("rotated key after the interval: %v", err)
	}
	// Known keys need no fetch at all.
	if _, err := v.Verify(ctx, sign(t, key, "at+jwt", p.claims(nil))); err != nil {
		t.Fatal(err)
	}
	if got := p.jwksHits.Load(); got != 3 {
		t.Fatalf("JWKS fetched %d times in all, want 3", got)
	}
}

func TestDiscoveryIsLazyAndRetried(t *testing.T) {
	p := newTestProvider(t)
	key := newRSAKey(t, "rsa-1")
	p.publish(key)
	p.down.Store(true)
	clock := &fakeClock{now: time.Now()}

	v := NewVerifier(Config{Issuer: p.srv.URL})
	v.now = clock.Now
	if got := p.discovered.Load(); got != 0 {
		t.Fatalf("NewVerifier contacted the issuer %d times", got)
	}
	tok := sign(t, key, "at+jwt", p.claims(nil))
	_, err := v.Verify(context.Background(), tok)
	wantCode(t, err, switchboard.EINTERNAL)

	p.down.Store(false)
	_, err = v.Verify(context.Background(), tok)
	wantCode(t, err, switchboard.EINTERNAL) // remembered for a moment: no hammering
	if got := p.discovered.Load(); got != 1 {
		t.Fatalf("discovery attempted %d times, want 1", got)
	}
	clock.Advance(discoveryRetryInterval)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after the issuer came up: %v", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.Audience != "switchboard" || c.RolesClaim != "roles" || c.OperatorRole != "operator" || c.AdminRole != "admin" ||
		c.ProgramClaim != "program_id" || c.TenantClaim != "" || c.Tenant != "default" ||
		c.Leeway != 30*time.Second || c.AcceptJWTTyp || c.HTTPClient == nil || c.HTTPClient.Timeout != 10*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	if c2 := c.WithDefaults(); c2.Leeway != c.Leeway || c2.HTTPClient != c.HTTPClient {
		t.Error("WithDefaults is not idempotent")
	}
}

// BenchmarkVerify is the work of every socket's authentication: an RS256
// access token of the size a provider issues, verified and read.
func BenchmarkVerify(b *testing.B) {
	p := newTestProvider(b)
	key := newRSAKey(b, "rsa-1")
	p.publish(key)
	v := NewVerifier(Config{Issuer: p.srv.URL})
	raw := sign(b, key, "at+jwt", p.claims(map[string]any{
		"jti": "w0q8x3Lr2nS6Zt1KpXvB4", "client_id": "widget", "scope": "openid profile",
		"roles": []string{"user"}, "preferred_username": "alice", "email": "alice@example.com",
	}))
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

package visitors

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/limiter"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

var secret = []byte("0123456789abcdef0123456789abcdef-site-secret")

// clock is a time the tests move.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t testing.TB, db *database.DB, c *clock, opts Options) *Service {
	t.Helper()
	committer := database.NewCommitter(db, nil, database.CommitterOptions{})
	t.Cleanup(committer.Close)
	opts.Audience, opts.Now = "switchboard", c.now
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(context.Background(), db, committer, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func forEachDialect(t *testing.T, f func(t *testing.T, db *database.DB)) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) { f(t, testdb.Open(t, dialect)) })
	}
}

func code(err error) string { return switchboard.ErrorCode(err) }

// TestAnonymousTokenIsAUsersAndExpires: a new visitor's token verifies as an
// end user of the default tenant, with the visitor's subject, until its
// exp (plus leeway); then it is TOKEN_EXPIRED.
func TestAnonymousTokenIsAUsersAndExpires(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *database.DB) {
		c := &clock{time.Unix(1_700_000_000, 0)}
		s := newService(t, db, c, Options{Tenant: "acme", TokenTTL: 10 * time.Minute, Leeway: -1})
		g, err := s.Anonymous(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if g.ExpiresIn != 600 || g.RefreshToken == "" || g.VisitorID == "" || g.TokenType != "Bearer" {
			t.Fatalf("grant %+v", g)
		}
		p, err := s.Verify(context.Background(), g.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		want := switchboard.Principal{ID: "visitor:" + g.VisitorID, Role: switchboard.RoleUser,
			DisplayName: "Visitor " + g.VisitorID[:6], Tenant: "acme", ExpiresAt: c.t.Add(10 * time.Minute)}
		if !p.ExpiresAt.Equal(want.ExpiresAt) {
			t.Fatalf("expires %v, want %v", p.ExpiresAt, want.ExpiresAt)
		}
		p.ExpiresAt = want.ExpiresAt
		if p != want {
			t.Fatalf("principal %+v, want %+v", p, want)
		}
		c.t = c.t.Add(10*time.Minute + time.Second)
		if _, err := s.Verify(context.Background(), g.AccessToken); code(err) != switchboard.ETOKENEXPIRED {
			t.Fatalf("an expired token: %v, want TOKEN_EXPIRED", err)
		}
		// The refresh credential renews it, for the same visitor.
		g2, err := s.Renew(context.Background(), g.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := s.Verify(context.Background(), g2.AccessToken)
		if err != nil || p2.ID != p.ID || g2.VisitorID != g.VisitorID {
			t.Fatalf("renewed: %+v %v, want visitor %s", p2, err, p.ID)
		}
	})
}

// TestRefreshRotatesAndReuseRevokes: a refresh credential works once; its
// successor works; the spent one presented again is refused and revokes
// the successor too; an expired or made-up one is refused.
func TestRefreshRotatesAndReuseRevokes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *database.DB) {
		c := &clock{time.Unix(1_700_000_000, 0)}
		s := newService(t, db, c, Options{RefreshTTL: 24 * time.Hour})
		ctx := context.Background()
		g1, err := s.Anonymous(ctx)
		if err != nil {
			t.Fatal(err)
		}
		g2, err := s.Renew(ctx, g1.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if g2.RefreshToken == g1.RefreshToken {
			t.Fatal("renewal did not rotate the refresh token")
		}
		g3, err := s.Renew(ctx, g2.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Renew(ctx, g2.RefreshToken); code(err) != switchboard.ETOKENINVALID || !strings.Contains(err.Error(), "used already") {
			t.Fatalf("a spent refresh token again: %v, want refused as reused", err)
		}
		if _, err := s.Renew(ctx, g3.RefreshToken); code(err) != switchboard.ETOKENINVALID {
			t.Fatalf("the successor of a reused token: %v, want revoked", err)
		}
		var rows int
		if err := db.Raw(`SELECT COUNT(*) FROM visitor_refresh_tokens`).Scan(&rows).Error; err != nil || rows != 0 {
			t.Fatalf("%d refresh tokens left after the revocation (%v)", rows, err)
		}

		// A rolling expiry: each renewal counts the lifetime again.
		g, _ := s.Anonymous(ctx)
		c.t = c.t.Add(23 * time.Hour)
		if g, err = s.Renew(ctx, g.RefreshToken); err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(23 * time.Hour)
		if g, err = s.Renew(ctx, g.RefreshToken); err != nil {
			t.Fatalf("renewed 23h after the last renewal: %v", err)
		}
		c.t = c.t.Add(25 * time.Hour)
		if _, err := s.Renew(ctx, g.RefreshToken); code(err) != switchboard.ETOKENINVALID {
			t.Fatalf("an expired refresh token: %v", err)
		}
		for _, bad := range []string{"", "x", strings.Repeat("A", 43)} {
			if _, err := s.Renew(ctx, bad); code(err) != switchboard.ETOKENINVALID {
				t.Fatalf("refresh token %q: %v", bad, err)
			}
		}
	})
}

// TestKeyIsSharedAndKept: a second service on the same database (another
// node, or a restart) signs with the same key and accepts the first's
// tokens.
func TestKeyIsSharedAndKept(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *database.DB) {
		c := &clock{time.Now()}
		a := newService(t, db, c, Options{})
		b := newService(t, db, c, Options{})
		g, err := a.Anonymous(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Verify(context.Background(), g.AccessToken); err != nil {
			t.Fatalf("the other node refuses the token: %v", err)
		}
		if string(a.JWKS(context.Background())) != string(b.JWKS(context.Background())) {
			t.Fatal("two nodes publish different keys")
		}
	})
}

func signIdentity(t *testing.T, key []byte, alg jose.SignatureAlgorithm, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// TestIdentifiedVisitor: a site's signed identity becomes an end user with
// subject site:<userId> (percent-encoded like any subject), the same
// visitor every time; forged, tampered, expired, unsigned or too
// long-lived identities are refused.
func TestIdentifiedVisitor(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *database.DB) {
		c := &clock{time.Unix(1_700_000_000, 0)}
		s := newService(t, db, c, Options{Mode: ModeIdentified, Secret: secret, Leeway: -1})
		ctx := context.Background()
		exp := c.t.Add(5 * time.Minute).Unix()
		good := signIdentity(t, secret, jose.HS256, Identity{UserID: "42/a%b", Name: "Ann", Email: "ann@example.com", Exp: exp})
		g, err := s.Identified(ctx, good)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Verify(ctx, g.AccessToken)
		if err != nil || p.ID != "site:42%2Fa%25b" || p.DisplayName != "Ann" || p.Role != switchboard.RoleUser {
			t.Fatalf("identified principal %+v, %v", p, err)
		}
		again, err := s.Identified(ctx, signIdentity(t, secret, jose.HS256, Identity{UserID: "42/a%b", Name: "Ann B", Exp: exp}))
		if err != nil || again.VisitorID != g.VisitorID {
			t.Fatalf("the same user again: %+v %v, want visitor %s", again, err, g.VisitorID)
		}
		if _, err := s.Anonymous(ctx); code(err) != switchboard.EFORBIDDEN {
			t.Fatalf("an anonymous visitor in identified mode: %v, want FORBIDDEN", err)
		}

		parts := strings.Split(good, ".")
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"userId":"1","exp":`+jsonInt(exp)+`}`)) + "." + parts[2]
		otherKey := []byte("another-secret-another-secret-another!!")
		bad := map[string]string{
			"forged":         signIdentity(t, otherKey, jose.HS256, Identity{UserID: "42", Exp: exp}),
			"tampered":       tampered,
			"unsigned":       parts[0] + "." + parts[1] + ".",
			"alg none":       "eyJhbGciOiJub25lIn0." + parts[1] + ".",
			"HS512":          signIdentity(t, append(append([]byte{}, secret...), secret...), jose.HS512, Identity{UserID: "42", Exp: exp}),
			"no exp":         signIdentity(t, secret, jose.HS256, Identity{UserID: "42"}),
			"expired":        signIdentity(t, secret, jose.HS256, Identity{UserID: "42", Exp: c.t.Add(-time.Second).Unix()}),
			"too long-lived": signIdentity(t, secret, jose.HS256, Identity{UserID: "42", Exp: c.t.Add(2 * time.Hour).Unix()}),
			"no userId":      signIdentity(t, secret, jose.HS256, Identity{Exp: exp}),
			"not a JWS":      "hello",
		}
		for name, identity := range bad {
			if _, err := s.Identified(ctx, identity); code(err) != switchboard.EFORBIDDEN {
				t.Errorf("%s identity: %v, want FORBIDDEN", name, err)
			}
		}
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestVerifyRefusesWhatIsNotAVisitorToken: a token signed with another
// key, of another issuer or audience, without typ at+jwt, or claiming an
// operator's role in vain.
func TestVerifyRefusesWhatIsNotAVisitorToken(t *testing.T) {
	c := &clock{time.Now()}
	s := newService(t, testdb.Open(t, "sqlite"), c, Options{})
	priv := s.ring.Load().signing // sign with the real key, but wrong claims
	mint := func(mutate func(*accessClaims), typ string) string {
		cl := accessClaims{Claims: jwt.Claims{Issuer: DefaultIssuer, Subject: "visitor:x", Audience: jwt.Audience{"switchboard"},
			Expiry: jwt.NewNumericDate(c.t.Add(time.Minute))}, ClientID: ClientID}
		mutate(&cl)
		signer := priv.signer
		if typ != "at+jwt" {
			signer = signerWith(t, s, typ)
		}
		raw, err := jwt.Signed(signer).Claims(cl).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	if _, err := s.Verify(context.Background(), mint(func(*accessClaims) {}, "at+jwt")); err != nil {
		t.Fatalf("the baseline token: %v", err)
	}
	cases := map[string]string{
		"another issuer":   mint(func(c *accessClaims) { c.Issuer = "https://idp.example.com" }, "at+jwt"),
		"another audience": mint(func(c *accessClaims) { c.Audience = jwt.Audience{"other"} }, "at+jwt"),
		"no exp":           mint(func(c *accessClaims) { c.Expiry = nil }, "at+jwt"),
		"not a visitor":    mint(func(c *accessClaims) { c.Subject = "operator-1" }, "at+jwt"),
		"typ JWT":          mint(func(*accessClaims) {}, "JWT"),
	}
	for name, raw := range cases {
		if _, err := s.Verify(context.Background(), raw); code(err) != switchboard.ETOKENINVALID {
			t.Errorf("%s: %v, want TOKEN_INVALID", name, err)
		}
	}
	// A roles claim changes nothing: a visitor is a user.
	var p switchboard.Principal
	raw := mustSignMap(t, s, map[string]any{"iss": DefaultIssuer, "sub": "visitor:y", "aud": "switchboard",
		"exp": c.t.Add(time.Minute).Unix(), "roles": []string{"operator"}, "program_id": "program-42"})
	p, err := s.Verify(context.Background(), raw)
	if err != nil || p.Role != switchboard.RoleUser || p.ProgramID != "" {
		t.Fatalf("a visitor token claiming roles: %+v %v", p, err)
	}
	// Another server's key with our kid: the signature fails.
	other := newService(t, testdb.Open(t, "sqlite"), c, Options{})
	g, _ := other.Anonymous(context.Background())
	if _, err := s.Verify(context.Background(), g.AccessToken); code(err) != switchboard.ETOKENINVALID {
		t.Fatalf("another database's visitor token: %v", err)
	}
}

func signerWith(t *testing.T, s *Service, typ string) jose.Signer {
	t.Helper()
	var row string
	if err := s.db.Raw(`SELECT jwk FROM visitor_signing_keys`).Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	var jwk jose.JSONWebKey
	if err := json.Unmarshal([]byte(row), &jwk); err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jwk.Key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", s.ring.Load().signing.kid))
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func mustSignMap(t *testing.T, s *Service, claims map[string]any) string {
	raw, err := jwt.Signed(s.ring.Load().signing.signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// providerStub stands for the OpenID provider's verifier.
type providerStub struct{ p switchboard.Principal }

func (f providerStub) Verify(context.Context, string) (switchboard.Principal, error) {
	if f.p.ID == "" {
		return f.p, switchboard.Errorf(switchboard.ETOKENINVALID, "not the provider's")
	}
	return f.p, nil
}

// TestVerifierRoutes: visitor tokens are checked locally, others by the
// provider's verifier; a provider's subject in a visitor namespace is
// refused.
func TestVerifierRoutes(t *testing.T) {
	c := &clock{time.Now()}
	s := newService(t, testdb.Open(t, "sqlite"), c, Options{})
	g, _ := s.Anonymous(context.Background())
	v := NewVerifier(s, providerStub{})
	if p, err := v.Verify(context.Background(), g.AccessToken); err != nil || p.ID != "visitor:"+g.VisitorID {
		t.Fatalf("a visitor token through the verifier: %+v %v", p, err)
	}
	op := switchboard.Principal{ID: "operator-1", Role: switchboard.RoleOperator}
	if p, err := NewVerifier(s, providerStub{op}).Verify(context.Background(), "a.b.c"); err != nil || p != op {
		t.Fatalf("a provider token: %+v %v", p, err)
	}
	squat := switchboard.Principal{ID: "visitor:" + g.VisitorID, Role: switchboard.RoleUser}
	if _, err := NewVerifier(s, providerStub{squat}).Verify(context.Background(), "a.b.c"); code(err) != switchboard.ETOKENINVALID {
		t.Fatalf("a provider subject posing as a visitor: %v", err)
	}
}

// TestHTTP: POST /api/v1/visitors makes, renews and refuses; per address
// new visitors are limited; the key set verifies the tokens; in oidc mode
// the routes say they are off.
func TestHTTP(t *testing.T) {
	c := &clock{time.Now()}
	s := newService(t, testdb.Open(t, "sqlite"), c, Options{Secret: secret})
	lim := limiter.New(limiter.Options{AddressRate: 0.001, AddressBurst: 2})
	e := echo.New()
	NewHTTP(s, lim).Register(e.Group("/api/v1"))
	post := func(body string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/visitors", strings.NewReader(body))
		req.RemoteAddr = "192.0.2.7:5000"
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	status, g := post("")
	if status != 200 || g["access_token"] == nil || g["refresh_token"] == nil || g["expires_in"] != float64(600) {
		t.Fatalf("a new visitor: %d %v", status, g)
	}
	if status, r := post(`{"refresh_token":"` + g["refresh_token"].(string) + `"}`); status != 200 || r["visitor_id"] != g["visitor_id"] {
		t.Fatalf("renewal: %d %v", status, r)
	}
	if status, r := post(`{"refresh_token":"` + g["refresh_token"].(string) + `"}`); status != 401 || r["code"] != "TOKEN_INVALID" {
		t.Fatalf("a spent refresh token: %d %v", status, r)
	}
	forged := signIdentity(t, []byte("not-the-site-secret-not-the-site-secret"), jose.HS256, Identity{UserID: "1", Exp: c.t.Add(time.Minute).Unix()})
	if status, r := post(`{"identity":"` + forged + `"}`); status != 403 || r["code"] != "FORBIDDEN" {
		t.Fatalf("a forged identity: %d %v", status, r)
	}
	if status, r := post(`{}`); status != 429 || r["code"] != "RATE_LIMITED" {
		t.Fatalf("a third new visitor from one address with a burst of 2: %d %v", status, r)
	}
	if status, _ := post(`{"refresh_token":"x","identity":"y"}`); status != 400 {
		t.Fatalf("both refresh_token and identity: %d", status)
	}

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/visitors/jwks", nil))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 || !set.Keys[0].IsPublic() {
		t.Fatalf("jwks: %s %v", rec.Body, err)
	}
	tok, err := jwt.ParseSigned(g["access_token"].(string), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := tok.Claims(set.Keys[0].Key, &claims); err != nil || claims["iss"] != DefaultIssuer || claims["client_id"] != ClientID {
		t.Fatalf("the published key does not verify the token: %v %v", claims, err)
	}

	off := echo.New()
	NewHTTP(nil, lim).Register(off.Group("/api/v1"))
	for _, req := range []*http.Request{httptest.NewRequest(http.MethodPost, "/api/v1/visitors", nil),
		httptest.NewRequest(http.MethodGet, "/api/v1/visitors/jwks", nil)} {
		rec := httptest.NewRecorder()
		off.ServeHTTP(rec, req)
		if rec.Code != 404 || !strings.Contains(rec.Body.String(), "SWITCHBOARD_VISITORS=oidc") {
			t.Fatalf("oidc mode %s: %d %s", req.URL.Path, rec.Code, rec.Body)
		}
	}
}

// TestCheckRefusesBadSettings: identified mode needs a secret of 32 bytes
// or more; a key rotates after an hour at the soonest, and not before its
// tokens' lifetime.
func TestCheckRefusesBadSettings(t *testing.T) {
	for _, o := range []Options{
		{Mode: ModeIdentified, Audience: "a"},
		{Mode: ModeAnonymous, Audience: "a", Secret: []byte("short")},
		{Mode: ModeOIDC, Audience: "a"},
		{Mode: ModeAnonymous, Audience: "a", KeyRotation: time.Minute},
		{Mode: ModeAnonymous, Audience: "a", KeyRotation: 2 * time.Hour, TokenTTL: 3 * time.Hour},
	} {
		if err := o.WithDefaults().Check(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if err := (Options{Mode: ModeIdentified, Audience: "a", Secret: secret}).WithDefaults().Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseMode("ldap"); err == nil {
		t.Fatal("mode ldap accepted")
	}
}

package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testIssuer is an OpenID provider of the test's own: discovery and a
// JWKS over real HTTP, and access tokens (RFC 9068, typ at+jwt) it signs
// for any subject, role and tenant. The development issuer has one tenant
// and fixed accounts; the tests that prove nothing crosses tenants need
// principals of two. The server verifies these tokens through the same
// go-oidc path as any production provider's.
type testIssuer struct {
	srv *httptest.Server
	key *ecdsa.PrivateKey
}

// tenantClaim is the claim the test issuer puts the tenant in.
const tenantClaim = "tenant"

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss.srv.URL,
			"jwks_uri":                              iss.srv.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		pub := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: string(jose.ES256), Use: "sig"}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	})
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	return iss
}

// who is a principal the test issuer mints a token for.
type who struct {
	sub, tenant string
	role        string // "user", "operator" or "program"
}

// token signs an access token for w, valid for an hour.
func (iss *testIssuer) token(t testing.TB, w who) string {
	t.Helper()
	claims := map[string]any{tenantClaim: w.tenant, "name": "Name of " + w.sub}
	switch w.role {
	case "operator":
		claims["roles"] = []string{"operator"}
	case "program":
		claims["program_id"], claims["client_id"] = w.sub, w.sub
	}
	return iss.tokenFor(t, w.sub, claims)
}

// tokenFor signs an access token for sub, valid for an hour, with the
// claims given beside the registered ones.
func (iss *testIssuer) tokenFor(t testing.TB, sub string, claims map[string]any) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{"iss": iss.srv.URL, "aud": "switchboard", "sub": sub, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: iss.key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(c)
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

// unlimited lifts the per-user and per-address limits: the tests that
// start servers with startTenantNode send as fast as one user can, from
// one address, and are about what each event does, not about how often
// one may send it (the limits have tests of their own).
var unlimited = map[string]string{
	"SWITCHBOARD_RATE_MESSAGES": "-1", "SWITCHBOARD_RATE_EVENTS": "-1", "SWITCHBOARD_MAX_CONNS_PER_IP": "-1",
	"SWITCHBOARD_MAX_CONNS_PER_PRINCIPAL": "-1", "SWITCHBOARD_MAX_REQUESTS_PER_PRINCIPAL": "-1",
}

// startTenantNode runs the server on a fresh database with iss as its
// provider and the tenant taken from the token, without limits; env adds
// or overrides settings. Scheduled jobs never run during the test: what
// changes the database is what the test sends.
func startTenantNode(t testing.TB, iss *testIssuer, env map[string]string) *node {
	t.Helper()
	get := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "SWITCHBOARD_SQLITE_TUNING" {
			return testEnv(nil)(k)
		}
		return unlimited[k]
	}
	cfg := testConfig(t, t.TempDir(), get)
	cfg.OIDC.Issuer = iss.srv.URL
	cfg.OIDC.TenantClaim = tenantClaim
	quietJobs(&cfg)
	return runNode(t, cfg)
}

// quietJobs moves every scheduled job to midnight of New Year's Day: a
// slot claims its run with a commit, and the tests on these nodes count
// commits (watchChanges) to show that a refused request changed nothing.
func quietJobs(cfg *Config) {
	const never = "0 0 1 1 *"
	for _, s := range []*string{&cfg.ArchiveSchedule, &cfg.AutoCloseSchedule, &cfg.EscalateSchedule,
		&cfg.RemindSchedule, &cfg.RetentionSchedule, &cfg.Visitors.PruneSchedule, &cfg.Events.PruneSchedule} {
		*s = never
	}
}

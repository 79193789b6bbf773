package oauth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/switchboard-chat/switchboard"
)

// discoveryRetryInterval is how long a failed discovery is remembered: the
// sockets arriving meanwhile fail fast instead of each waiting for the
// provider's timeout.
const discoveryRetryInterval = 2 * time.Second

// maxTokenBytes bounds the work an unauthenticated client can ask for.
const maxTokenBytes = 16 << 10

// Verifier checks access tokens of one issuer and turns them into
// principals. One per process: it caches the provider's keys. It is safe
// for concurrent use.
type Verifier struct {
	cfg             Config
	now             func() time.Time
	refreshInterval time.Duration

	mu          sync.Mutex
	oidc        *oidc.IDTokenVerifier // nil until discovery succeeds
	lastAttempt time.Time
	lastErr     error
}

// NewVerifier returns a verifier for cfg (defaults applied). It does not
// contact the issuer: the development issuer is served by the very server
// that is not listening yet. Discovery happens on the first Verify and is
// retried on a later call if it failed.
func NewVerifier(cfg Config) *Verifier {
	return &Verifier{
		cfg:             cfg.WithDefaults(),
		now:             time.Now,
		refreshInterval: DefaultKeyRefreshInterval,
	}
}

// Config returns the verifier's configuration, defaults applied.
func (v *Verifier) Config() Config { return v.cfg }

// Verify checks a raw JWT access token as spec/oauth.md says and returns
// its principal. Errors are *switchboard.Error: ETOKENMISSING for "",
// ETOKENEXPIRED for a token expired beyond the leeway, ETOKENINVALID for
// any other token that is not acceptable, and EINTERNAL when the issuer
// cannot be reached (the token may well be good; try again later).
func (v *Verifier) Verify(ctx context.Context, raw string) (switchboard.Principal, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENMISSING, "an access token is required")
	}
	if len(raw) > maxTokenBytes {
		return switchboard.Principal{}, invalid("the access token is too long")
	}
	jws, err := v.parse(raw)
	if err != nil {
		return switchboard.Principal{}, err
	}
	verifier, err := v.verifier(ctx)
	if err != nil {
		return switchboard.Principal{}, err
	}
	// go-oidc checks the signature (alg allow-list, keys), iss and aud.
	token, err := verifier.Verify(withParsed(ctx, raw, jws), raw)
	if err != nil {
		// go-oidc speaks of ID tokens; here it is checking an access token.
		msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "oidc: "), "id token", "token")
		return switchboard.Principal{}, invalid("%s", msg)
	}
	var claims map[string]any
	if err := token.Claims(&claims); err != nil {
		return switchboard.Principal{}, invalid("the access token's claims are malformed")
	}
	// An ID token proves a login to a client; it is not an API credential.
	// Its nonce/at_hash give it away even when typ cannot.
	if _, ok := claims["nonce"]; ok {
		return switchboard.Principal{}, invalid("an ID token is not an access token (it has a nonce)")
	}
	if _, ok := claims["at_hash"]; ok {
		return switchboard.Principal{}, invalid("an ID token is not an access token (it has an at_hash)")
	}
	if err := v.checkTimes(token.Expiry, claims); err != nil {
		return switchboard.Principal{}, err
	}
	return principalFromClaims(v.cfg, claims, token.Expiry)
}

// parse reads the token as a compact JWS and refuses what its header
// alone gives away, before any key is fetched: an algorithm outside the
// allow-list and a JWT that is not an access token by its typ (RFC 9068).
// A compact JWS is three base64url parts with nothing between them, so
// go-jose's ParseSigned, which first copies the token rune by rune to
// strip whitespace, is not needed here.
func (v *Verifier) parse(raw string) (*jose.JSONWebSignature, error) {
	jws, err := jose.ParseSignedCompact(raw, allowedAlgs)
	if err != nil {
		return nil, invalid("the access token is not a signed JWT: %s",
			strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
	}
	typ, _ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string)
	// Media type names are case-insensitive (RFC 7515, 4.1.9).
	switch t := strings.TrimPrefix(strings.ToLower(typ), "application/"); {
	case t == "at+jwt":
	case t == "jwt" && v.cfg.AcceptJWTTyp:
	case t == "jwt":
		return nil, invalid(`access tokens must have typ "at+jwt" (this server does not accept typ "JWT" unless configured to)`)
	case t == "":
		return nil, invalid(`access tokens must have typ "at+jwt"; a JWT without typ is an ID token`)
	default:
		return nil, invalid("typ %q is not an access token", typ)
	}
	return jws, nil
}

func (v *Verifier) checkTimes(exp time.Time, claims map[string]any) error {
	if exp.IsZero() {
		return invalid("the access token has no exp")
	}
	leeway := max(v.cfg.Leeway, 0)
	now := v.now()
	if now.After(exp.Add(leeway)) {
		return switchboard.Errorf(switchboard.ETOKENEXPIRED, "the access token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if raw, ok := claims["nbf"]; ok {
		nbf, ok := numericDate(raw)
		if !ok {
			return invalid("the access token's nbf is not a time")
		}
		if nbf.After(now.Add(leeway)) {
			return invalid("the access token is not valid before %s", nbf.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// verifier returns go-oidc's verifier, discovering the provider first if
// no call has done so yet.
func (v *Verifier) verifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.oidc != nil {
		return v.oidc, nil
	}
	if v.cfg.Issuer == "" {
		return nil, switchboard.Errorf(switchboard.EINTERNAL, "no token issuer is configured")
	}
	now := v.now()
	if v.lastErr != nil && now.Sub(v.lastAttempt) < discoveryRetryInterval {
		return nil, v.lastErr
	}
	v.lastAttempt = now
	verifier, err := v.discover(ctx)
	if err != nil {
		v.cfg.Logger.Warn("oauth: token issuer discovery failed", "issuer", v.cfg.Issuer, "err", err)
		v.lastErr = switchboard.Errorf(switchboard.EINTERNAL, "the token issuer cannot be reached; try again shortly")
		return nil, v.lastErr
	}
	v.oidc, v.lastErr = verifier, nil
	return verifier, nil
}

func (v *Verifier) discover(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, v.cfg.HTTPClient), v.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering %s: %w", v.cfg.Issuer, err)
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return nil, fmt.Errorf("discovering %s: no jwks_uri", v.cfg.Issuer)
	}
	algs := make([]string, len(allowedAlgs))
	for i, a := range allowedAlgs {
		algs[i] = string(a)
	}
	keys := newKeySet(meta.JWKSURI, v.cfg.HTTPClient, v.refreshInterval, v.now, v.cfg.Logger)
	return oidc.NewVerifier(v.cfg.Issuer, keys, &oidc.Config{
		ClientID:             v.cfg.Audience,
		SupportedSigningAlgs: algs,
		// go-oidc has no leeway; checkTimes does exp and nbf.
		SkipExpiryCheck: true,
	}), nil
}

func invalid(format string, args ...any) error {
	return switchboard.Errorf(switchboard.ETOKENINVALID, format, args...)
}

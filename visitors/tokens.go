package visitors

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// ClientID is the client_id of visitor tokens (RFC 9068 requires one):
// the widget, to which Switchboard issues them.
const ClientID = "switchboard-widget"

// accessClaims are a visitor token's claims (RFC 9068, 2.2).
type accessClaims struct {
	jwt.Claims
	ClientID  string `json:"client_id"`
	Name      string `json:"name,omitempty"`
	VisitorID string `json:"visitor_id"`
}

// mint signs an access token for v, valid from now for TokenTTL, with
// the newest key.
func (s *Service) mint(ctx context.Context, v visitor, now time.Time) (string, error) {
	c := accessClaims{
		Claims: jwt.Claims{
			Issuer:   s.opts.Issuer,
			Subject:  v.Subject,
			Audience: jwt.Audience{s.opts.Audience},
			Expiry:   jwt.NewNumericDate(now.Add(s.opts.TokenTTL)),
			IssuedAt: jwt.NewNumericDate(now),
			ID:       newUUID(),
		},
		ClientID: ClientID, Name: v.Name, VisitorID: v.ID,
	}
	token, err := jwt.Signed(s.keys(ctx).signing.signer).Claims(c).Serialize()
	if err != nil {
		return "", switchboard.Errorf(switchboard.EINTERNAL, "signing a visitor token: %v", err)
	}
	return token, nil
}

// Owns reports whether raw names a visitor key in its header (a kid
// beginning with visitors-, known or not: one may be a key another node
// has just made): then it is Verify's to check, not the OpenID
// provider's. Only the header is read (its kid), which costs a fraction
// of parsing the token.
func (s *Service) Owns(raw string) bool {
	head, _, ok := strings.Cut(raw, ".")
	if !ok || len(head) > 1024 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false
	}
	var h struct {
		Kid string `json:"kid"`
	}
	return json.Unmarshal(b, &h) == nil && strings.HasPrefix(h.Kid, kidPrefix)
}

// Verify checks a visitor token and returns its principal: always an end
// user of the deployment's tenant, whatever else the token says. Errors
// are *switchboard.Error: ETOKENEXPIRED for an expired token (renew it),
// ETOKENINVALID for any other that is not acceptable.
func (s *Service) Verify(ctx context.Context, raw string) (switchboard.Principal, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENMISSING, "an access token is required")
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return switchboard.Principal{}, invalid("the visitor token is not a signed JWT")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), "at+jwt") {
		return switchboard.Principal{}, invalid(`visitor tokens have typ "at+jwt"`)
	}
	key, err := s.verifyingKey(ctx, h.KeyID)
	if err != nil {
		return switchboard.Principal{}, err
	}
	if key == nil {
		return switchboard.Principal{}, invalid("the visitor token is signed by an unknown key")
	}
	var c accessClaims
	if err := tok.Claims(&key.public, &c); err != nil {
		return switchboard.Principal{}, invalid("the visitor token's signature does not verify")
	}
	switch {
	case c.Issuer != s.opts.Issuer:
		return switchboard.Principal{}, invalid("the visitor token's issuer is not %s", s.opts.Issuer)
	case !slices.Contains(c.Audience, s.opts.Audience):
		return switchboard.Principal{}, invalid("the visitor token is not for audience %s", s.opts.Audience)
	case c.Expiry == nil:
		return switchboard.Principal{}, invalid("the visitor token has no exp")
	case !inVisitorNamespace(c.Subject):
		return switchboard.Principal{}, invalid("the visitor token's subject is not a visitor's")
	}
	exp := c.Expiry.Time()
	if s.opts.Now().After(exp.Add(max(s.opts.Leeway, 0))) {
		return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENEXPIRED,
			"the visitor token expired at %s; renew it with the refresh token", exp.UTC().Format(time.RFC3339))
	}
	name := c.Name
	if strings.TrimSpace(name) == "" {
		name = c.Subject
	}
	return switchboard.Principal{ID: switchboard.SubjectUserID(c.Subject), Role: switchboard.RoleUser,
		DisplayName: name, Tenant: s.opts.Tenant, ExpiresAt: exp}, nil
}

// Renew spends a refresh credential and returns a new grant for its
// visitor, with the credential's successor. A credential works once:
// presented again, it is refused and its successors are revoked too.
func (s *Service) Renew(ctx context.Context, refresh string) (Grant, error) {
	old, ok := refreshHash(refresh)
	if !ok {
		return Grant{}, invalid("the refresh token is malformed")
	}
	now := s.opts.Now()
	next, nextHash := newRefreshToken()
	var out renewal
	op := renewOp(old, nextHash, now, s.opts.RefreshTTL, &out)
	if err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) { return nil, op(tx) }); err != nil {
		return Grant{}, switchboard.Errorf(switchboard.EINTERNAL, "renewing a visitor token: %v", err)
	}
	switch {
	case out.reused:
		s.opts.Logger.Warn("visitors: a refresh token was used twice; its visitor's refresh tokens are revoked")
		return Grant{}, invalid("the refresh token was used already; it and its successors are revoked")
	case out.unknown:
		return Grant{}, invalid("the refresh token is unknown or expired")
	}
	return s.grantFor(ctx, out.visitor, next, now)
}

// refreshBytes is a refresh credential's randomness.
const refreshBytes = 32

// newRefreshToken returns a new refresh credential and the hash it is
// stored by. The credential is 256 random bits, so a plain SHA-256 (no
// salt, no stretching) is as hard to reverse as guessing it.
func newRefreshToken() (token, hash string) {
	b := make([]byte, refreshBytes)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	h, _ := refreshHash(token)
	return token, h
}

func refreshHash(token string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != refreshBytes {
		return "", false
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), true
}

func invalid(format string, args ...any) error {
	return switchboard.Errorf(switchboard.ETOKENINVALID, format, args...)
}

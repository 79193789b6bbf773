package visitors

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"

	"github.com/switchboard-chat/switchboard"
)

// Identity is what a site says of its logged-in user: the claims of a
// compact JWS it signs with HS256 and its secret (SWITCHBOARD_VISITOR_SECRET),
// for the widget to exchange for a visitor token.
type Identity struct {
	UserID string `json:"userId"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	// Exp is when the identity stops being accepted (seconds since the
	// epoch); required, and at most MaxIdentityTTL ahead.
	Exp int64 `json:"exp"`
}

// maxIdentityBytes bounds what an unauthenticated client can make the
// server parse; maxFieldBytes the length of each claim.
const (
	maxIdentityBytes = 4 << 10
	maxFieldBytes    = 256
)

// checkIdentity verifies a site's signed identity and returns its claims.
// Anything unsigned, signed with another key or algorithm, tampered with,
// expired or too long-lived is refused.
func (s *Service) checkIdentity(raw string) (Identity, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxIdentityBytes {
		return Identity{}, forbidden("the identity is missing or too long")
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return Identity{}, forbidden("the identity is not a compact JWS signed with HS256")
	}
	payload, err := jws.Verify(s.opts.Secret)
	if err != nil {
		return Identity{}, forbidden("the identity's signature does not verify")
	}
	var id Identity
	if err := json.Unmarshal(payload, &id); err != nil {
		return Identity{}, forbidden("the identity's claims are malformed")
	}
	now := s.opts.Now()
	switch {
	case strings.TrimSpace(id.UserID) == "":
		return Identity{}, forbidden("the identity has no userId")
	case id.Exp == 0:
		return Identity{}, forbidden("the identity has no exp")
	case now.After(time.Unix(id.Exp, 0).Add(max(s.opts.Leeway, 0))):
		return Identity{}, forbidden("the identity has expired")
	case time.Unix(id.Exp, 0).After(now.Add(s.opts.MaxIdentityTTL + max(s.opts.Leeway, 0))):
		return Identity{}, forbidden("the identity's exp is more than %s ahead", s.opts.MaxIdentityTTL)
	}
	for _, f := range []string{id.UserID, id.Name, id.Email} {
		if len(f) > maxFieldBytes || !utf8.ValidString(f) {
			return Identity{}, forbidden("the identity's claims must be UTF-8 of at most %d bytes each", maxFieldBytes)
		}
	}
	return id, nil
}

func forbidden(format string, args ...any) error {
	return switchboard.Errorf(switchboard.EFORBIDDEN, format, args...)
}

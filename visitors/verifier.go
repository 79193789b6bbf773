package visitors

import (
	"context"

	"github.com/switchboard-chat/switchboard"
)

// TokenVerifier turns an access token into a principal (oauth.Verifier).
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (switchboard.Principal, error)
}

// Verifier accepts Switchboard's visitor tokens beside the configured
// OpenID provider's. A token naming the visitor key is checked here
// (issuer, key, audience, expiry); any other goes to the provider's
// verifier, which requires the provider's issuer, so neither kind can pass
// for the other.
type Verifier struct {
	visitors *Service
	provider TokenVerifier
}

// NewVerifier returns a Verifier of visitors' tokens and provider's.
func NewVerifier(visitors *Service, provider TokenVerifier) *Verifier {
	return &Verifier{visitors: visitors, provider: provider}
}

// Verify implements the bindings' TokenVerifier.
func (v *Verifier) Verify(ctx context.Context, raw string) (switchboard.Principal, error) {
	if v.visitors.Owns(raw) {
		return v.visitors.Verify(ctx, raw)
	}
	p, err := v.provider.Verify(ctx, raw)
	if err != nil {
		return p, err
	}
	// The provider's subjects live beside the visitors': one named like a
	// visitor would be that visitor, in the same tenant.
	if p.Role != switchboard.RoleProgram && inVisitorNamespace(p.ID) {
		return switchboard.Principal{}, invalid("subjects beginning with %q or %q are reserved for visitors", anonymousPrefix, sitePrefix)
	}
	return p, nil
}

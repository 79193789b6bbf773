// Package oauth turns OAuth 2.0 access tokens into principals (see
// spec/oauth.md): a Verifier checks JWT access tokens (RFC 9068) from any
// OpenID provider through coreos/go-oidc, and a DevIssuer is the embedded
// development provider that issues such tokens for demo accounts.
package oauth

import (
	"log/slog"
	"net/http"
	"time"
)

// Config holds the SWITCHBOARD_OIDC_* settings of spec/oauth.md. The zero
// value, after WithDefaults, trusts the development issuer once Issuer is set.
type Config struct {
	// Issuer is compared to "iss" exactly, trailing slash included. Empty
	// means the development issuer; the app starts it and fills Issuer in.
	Issuer string
	// Audience must be one of the token's "aud" values. Default "switchboard".
	Audience string
	// RolesClaim names the claim holding roles, a list or a space-separated
	// string. A dotted path reaches into nested objects
	// ("realm_access.roles"); a claim whose own name contains dots (Auth0's
	// "https://example.com/roles") is found too. Default "roles".
	RolesClaim string
	// OperatorRole is the role value that makes an operator. Default "operator".
	OperatorRole string
	// AdminRole is the role value that, beside OperatorRole, makes an
	// operator an administrator of its tenant. Default "admin".
	AdminRole string
	// SupervisorRole is the role value that, beside OperatorRole, makes an
	// operator a supervisor of its tenant. Default "supervisor".
	SupervisorRole string
	// ProgramClaim names the program of a client-credentials token. Without
	// it, a token whose client_id equals its sub is a program too.
	// Default "program_id".
	ProgramClaim string
	// TenantClaim names the claim holding the tenant; empty means a single
	// tenant, Tenant.
	TenantClaim string
	// Tenant is every principal's tenant when there is no TenantClaim.
	// Default "default".
	Tenant string
	// Leeway is the clock skew allowed for exp and nbf. Default 30s; a
	// negative value means none (zero cannot, being the unset value).
	Leeway time.Duration
	// AcceptJWTTyp also accepts access tokens whose header typ is "JWT",
	// for providers that do not use "at+jwt" (the development issuer among
	// them). ID tokens are still refused by their nonce/at_hash.
	AcceptJWTTyp bool
	// HTTPClient fetches discovery and keys. Default: a client with a 10s
	// timeout, so that a hanging provider cannot hold sockets forever.
	HTTPClient *http.Client
	// Logger receives what a client must not see: why the provider could
	// not be reached. Default slog.Default().
	Logger *slog.Logger
}

// Defaults of spec/oauth.md.
const (
	DefaultAudience       = "switchboard"
	DefaultRolesClaim     = "roles"
	DefaultOperatorRole   = "operator"
	DefaultAdminRole      = "admin"
	DefaultSupervisorRole = "supervisor"
	DefaultProgramClaim   = "program_id"
	DefaultTenant         = "default"
	DefaultLeeway         = 30 * time.Second
)

// WithDefaults returns c with every unset field given its default.
func (c Config) WithDefaults() Config {
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.RolesClaim == "" {
		c.RolesClaim = DefaultRolesClaim
	}
	if c.OperatorRole == "" {
		c.OperatorRole = DefaultOperatorRole
	}
	if c.AdminRole == "" {
		c.AdminRole = DefaultAdminRole
	}
	if c.SupervisorRole == "" {
		c.SupervisorRole = DefaultSupervisorRole
	}
	if c.ProgramClaim == "" {
		c.ProgramClaim = DefaultProgramClaim
	}
	if c.Tenant == "" {
		c.Tenant = DefaultTenant
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

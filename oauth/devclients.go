package oauth

import (
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Clients of the development issuer.
const (
	// DevWebClientID is the public browser client of the dashboard and the
	// widget: authorization code + PKCE (S256), no secret, redirect to any
	// http://127.0.0.1:<port>/... or http://localhost:<port>/... page.
	DevWebClientID = "switchboard-web"
	// DevCLIClientID is the native client DevToken (`switchboard token`)
	// signs in with: authorization code + PKCE to devCLIRedirectURI, a
	// redirect it reads but never follows.
	DevCLIClientID = "switchboard-cli"

	devCLIRedirectURI = "http://127.0.0.1/callback"
)

// DevAccount is a demo person of the development issuer. There are no
// passwords: whoever reaches the (loopback-only) login page picks one.
type DevAccount struct {
	ID       string
	Name     string
	Operator bool
	// Admin makes the operator an administrator of the demo tenant.
	Admin bool
	// Supervisor makes the operator a supervisor of the demo tenant.
	Supervisor bool
}

// DevAccounts are the demo people, operators first.
var DevAccounts = []DevAccount{
	{ID: "operator-1", Name: "Operator One", Operator: true, Admin: true},
	{ID: "operator-2", Name: "Operator Two", Operator: true},
	{ID: "operator-3", Name: "Operator Three", Operator: true},
	{ID: "supervisor-1", Name: "Supervisor One", Operator: true, Supervisor: true},
	{ID: "user-1", Name: "User One"},
	{ID: "user-2", Name: "User Two"},
}

// DevPrograms are the client ids of the demo programs (client-credentials
// clients); their secrets are in the data directory.
var DevPrograms = []string{"program-42", "program-7"}

func devAccount(id string) (DevAccount, bool) {
	for _, a := range DevAccounts {
		if a.ID == id {
			return a, true
		}
	}
	return DevAccount{}, false
}

const devTokenLifetime = time.Hour

// devClient implements op.Client (and op.HasRedirectGlobs) for the few
// fixed clients of the development issuer.
type devClient struct {
	id            string
	appType       op.ApplicationType
	authMethod    oidc.AuthMethod
	grantTypes    []oidc.GrantType
	responseTypes []oidc.ResponseType
	redirectURIs  []string
	redirectGlobs []string
	loginURL      string // the login page; the auth request id is appended
	devMode       bool
}

func newDevClients(issuer string) map[string]*devClient {
	loginURL := issuer + "/login?authRequestID="
	clients := map[string]*devClient{
		DevWebClientID: {
			id:            DevWebClientID,
			appType:       op.ApplicationTypeUserAgent,
			authMethod:    oidc.AuthMethodNone,
			grantTypes:    []oidc.GrantType{oidc.GrantTypeCode},
			responseTypes: []oidc.ResponseType{oidc.ResponseTypeCode},
			// The glob alone would let "http://127.0.0.1:1@evil.example/"
			// through; loopbackRedirect in the handler refuses that first.
			redirectGlobs: []string{"http://127.0.0.1:*/**", "http://localhost:*/**"},
			loginURL:      loginURL,
			// Plain http redirects are refused for browser clients otherwise.
			devMode: true,
		},
		DevCLIClientID: {
			id:            DevCLIClientID,
			appType:       op.ApplicationTypeNative,
			authMethod:    oidc.AuthMethodNone,
			grantTypes:    []oidc.GrantType{oidc.GrantTypeCode},
			responseTypes: []oidc.ResponseType{oidc.ResponseTypeCode},
			redirectURIs:  []string{devCLIRedirectURI},
			loginURL:      loginURL,
		},
	}
	for _, id := range DevPrograms {
		clients[id] = &devClient{
			id:         id,
			appType:    op.ApplicationTypeWeb,
			authMethod: oidc.AuthMethodBasic,
			grantTypes: []oidc.GrantType{oidc.GrantTypeClientCredentials},
		}
	}
	return clients
}

func (c *devClient) GetID() string                        { return c.id }
func (c *devClient) RedirectURIs() []string               { return c.redirectURIs }
func (c *devClient) RedirectURIGlobs() []string           { return c.redirectGlobs }
func (c *devClient) PostLogoutRedirectURIs() []string     { return c.redirectURIs }
func (c *devClient) PostLogoutRedirectURIGlobs() []string { return c.redirectGlobs }
func (c *devClient) ApplicationType() op.ApplicationType  { return c.appType }
func (c *devClient) AuthMethod() oidc.AuthMethod          { return c.authMethod }
func (c *devClient) ResponseTypes() []oidc.ResponseType   { return c.responseTypes }
func (c *devClient) GrantTypes() []oidc.GrantType         { return c.grantTypes }
func (c *devClient) LoginURL(id string) string            { return c.loginURL + url.QueryEscape(id) }

// AccessTokenType is JWT for every client: the resource server verifies
// tokens offline, as it does for any production provider.
func (c *devClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *devClient) IDTokenLifetime() time.Duration       { return devTokenLifetime }
func (c *devClient) DevMode() bool                        { return c.devMode }
func (c *devClient) IsScopeAllowed(string) bool           { return false }
func (c *devClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *devClient) ClockSkew() time.Duration             { return 0 }
func (c *devClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}
func (c *devClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequestLifetime bounds how long a login page may be left open.
const authRequestLifetime = 10 * time.Minute

// devStorage is the in-memory op.Storage (with client credentials) of the
// development issuer. Only auth requests in flight are kept: access tokens
// are JWTs nobody needs to look up, and there are no refresh tokens.
type devStorage struct {
	audience string
	lifetime time.Duration
	key      *devSigningKey
	secrets  map[string]string
	clients  map[string]*devClient

	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string // code -> auth request id
}

var (
	_ op.Storage                   = (*devStorage)(nil)
	_ op.ClientCredentialsStorage  = (*devStorage)(nil)
	_ op.CanSetUserinfoFromRequest = (*devStorage)(nil)
	_ op.HasRedirectGlobs          = (*devClient)(nil)
)

var errNotFound = errors.New("not found")

// authRequest implements op.AuthRequest. Values handed to op are copies,
// so the login page can complete a request while op reads another copy.
type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge
	audience     []string
	subject      string
	authTime     time.Time
	done         bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return nil }
func (a *authRequest) GetAudience() []string                 { return a.audience }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// clientCredentialsRequest is the op.TokenRequest of a program.
type clientCredentialsRequest struct {
	subject  string
	audience []string
	scopes   []string
}

func (r *clientCredentialsRequest) GetSubject() string    { return r.subject }
func (r *clientCredentialsRequest) GetAudience() []string { return r.audience }
func (r *clientCredentialsRequest) GetScopes() []string   { return r.scopes }

func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", b), nil
}

func (s *devStorage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	// Public clients have no secret; S256 PKCE is what binds the code to them.
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required")
	}
	id, err := randomID()
	if err != nil {
		return nil, err
	}
	a := &authRequest{
		id:           id,
		created:      time.Now(),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       slices.Clone(req.Scopes),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		challenge:    &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
		// The API audience for the access token; the client for the ID
		// token, which op builds from the same list.
		audience: []string{s.audience, req.ClientID},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for rid, r := range s.requests {
		if time.Since(r.created) > authRequestLifetime {
			s.deleteLocked(rid)
		}
	}
	s.requests[id] = a
	c := *a
	return &c, nil
}

func (s *devStorage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestLocked(id)
}

func (s *devStorage) requestLocked(id string) (*authRequest, error) {
	a, ok := s.requests[id]
	if !ok || time.Since(a.created) > authRequestLifetime {
		return nil, fmt.Errorf("auth request %q: %w (it may have expired; start the sign-in again)", id, errNotFound)
	}
	c := *a
	return &c, nil
}

// completeLogin marks the auth request as authenticated as account.
func (s *devStorage) completeLogin(id, account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.requestLocked(id); err != nil {
		return err
	}
	a := s.requests[id]
	if a.done {
		return errors.New("this sign-in is already complete")
	}
	a.subject, a.authTime, a.done = account, time.Now(), true
	return nil
}

func (s *devStorage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, errNotFound
	}
	return s.requestLocked(id)
}

func (s *devStorage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[id]; !ok {
		return errNotFound
	}
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once the code is exchanged: a code is good
// for one exchange.
func (s *devStorage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(id)
	return nil
}

func (s *devStorage) deleteLocked(id string) {
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
}

func (s *devStorage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	id, err := randomID()
	return id, time.Now().Add(s.lifetime), err
}

var errNoRefresh = errors.New("the development issuer issues no refresh tokens; sign in again")

func (s *devStorage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNoRefresh
}

func (s *devStorage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, oidc.ErrInvalidGrant().WithParent(errNoRefresh)
}

func (s *devStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *devStorage) TerminateSession(context.Context, string, string) error { return nil }

func (s *devStorage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrInvalidRequest().WithDescription("the development issuer does not revoke tokens; they expire")
}

func (s *devStorage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *devStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *devStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{devPublicKey{s.key}}, nil
}

func (s *devStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", id, errNotFound)
	}
	return c, nil
}

func (s *devStorage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	want, ok := s.secrets[id]
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		return errors.New("unknown client or wrong secret")
	}
	return nil
}

func (s *devStorage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	return s.GetClientByClientID(ctx, id)
}

func (s *devStorage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	return &clientCredentialsRequest{subject: id, audience: []string{s.audience}, scopes: scopes}, nil
}

// SetUserinfoFromScopes is deprecated by op in favour of SetUserinfoFromRequest.
func (s *devStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *devStorage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	setUserinfo(info, req.GetSubject(), scopes)
	return nil
}

func (s *devStorage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, _, subject, _ string) error {
	setUserinfo(info, subject, []string{oidc.ScopeOpenID, oidc.ScopeProfile})
	return nil
}

func setUserinfo(info *oidc.UserInfo, subject string, scopes []string) {
	info.Subject = subject
	if a, ok := devAccount(subject); ok && slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name, info.PreferredUsername = a.Name, a.ID
	}
}

func (s *devStorage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("the development issuer does not introspect; its access tokens are JWTs")
}

// GetPrivateClaimsFromScopes adds what the resource server reads beyond
// the registered claims: display names and roles of people, the program id
// of programs. The claim names are the Config defaults.
func (s *devStorage) GetPrivateClaimsFromScopes(_ context.Context, subject, _ string, _ []string) (map[string]any, error) {
	if a, ok := devAccount(subject); ok {
		claims := map[string]any{"name": a.Name, "preferred_username": a.ID}
		if a.Operator {
			roles := []string{DefaultOperatorRole}
			if a.Admin {
				roles = append(roles, DefaultAdminRole)
			}
			if a.Supervisor {
				roles = append(roles, DefaultSupervisorRole)
			}
			claims[DefaultRolesClaim] = roles
		}
		return claims, nil
	}
	if _, ok := s.secrets[subject]; ok {
		return map[string]any{DefaultProgramClaim: subject}, nil
	}
	return nil, nil
}

func (s *devStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("the development issuer does not accept JWT client assertions")
}

func (s *devStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the development issuer does not support the JWT profile grant")
}

func (s *devStorage) Health(context.Context) error { return nil }

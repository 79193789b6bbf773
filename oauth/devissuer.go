package oauth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// DevIssuerOptions configures the development issuer.
type DevIssuerOptions struct {
	// Issuer is the issuer URL, e.g. "http://127.0.0.1:8080/oidc"; its
	// host must be a loopback address or localhost. The server serves
	// Handler under the issuer's path.
	Issuer string
	// DataDir keeps the signing key and the program secrets, so that tokens
	// and secrets survive a restart. Created if missing.
	DataDir string
	// Audience is put into every access token's "aud". Default "switchboard".
	Audience string
	// TokenLifetime is how long access tokens are valid. Default 1h.
	TokenLifetime time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// DevIssuer is the embedded OpenID provider of spec/oauth.md for
// development, built on zitadel/oidc's op package: demo accounts that sign
// in with one click, demo programs with client secrets, RS256 JWT access
// tokens. It answers loopback clients only. The server verifies its tokens
// with a Verifier like any other provider's (with AcceptJWTTyp: op signs
// access tokens with typ "JWT", not "at+jwt").
type DevIssuer struct {
	issuer  string
	prefix  string // the issuer URL's path, stripped before routing
	secrets map[string]string
	mux     *http.ServeMux
	log     *slog.Logger
}

// NewDevIssuer loads or creates the issuer's key and secrets in
// opts.DataDir. It does not listen: the server mounts Handler.
func NewDevIssuer(opts DevIssuerOptions) (*DevIssuer, error) {
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = devTokenLifetime
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	u, err := url.Parse(opts.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("development issuer: %q is not an issuer URL (want e.g. http://127.0.0.1:8080/oidc)", opts.Issuer)
	}
	if !isLoopbackName(u.Hostname()) {
		return nil, fmt.Errorf("development issuer: %q is not on a loopback address; the development issuer must not be reachable from other machines", opts.Issuer)
	}
	if opts.DataDir == "" {
		return nil, errors.New("development issuer: a data directory is required to keep its signing key")
	}
	key, err := loadOrCreateSigningKey(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("development issuer: signing key: %w", err)
	}
	secrets, err := loadOrCreateProgramSecrets(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("development issuer: program secrets: %w", err)
	}
	storage := &devStorage{
		audience: opts.Audience,
		lifetime: opts.TokenLifetime,
		key:      key,
		secrets:  secrets,
		clients:  newDevClients(opts.Issuer),
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
	}
	// The crypto key only encrypts authorization codes, which live for
	// minutes: a fresh one per start is fine.
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, err
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      cryptoKey,
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, storage, op.StaticIssuer(opts.Issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("development issuer: %w", err)
	}
	login := &devLogin{storage: storage, issuer: opts.Issuer, callback: op.AuthCallbackURL(provider), log: opts.Logger}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", login.show)
	mux.HandleFunc("POST /login", login.submit)
	mux.Handle(provider.AuthorizationEndpoint().Relative(), loopbackRedirectsOnly(provider))
	mux.Handle("/", provider)
	return &DevIssuer{
		issuer:  opts.Issuer,
		prefix:  strings.TrimSuffix(u.Path, "/"),
		secrets: secrets,
		mux:     mux,
		log:     opts.Logger,
	}, nil
}

// Issuer returns the issuer URL, the value of "iss" in its tokens.
func (d *DevIssuer) Issuer() string { return d.issuer }

// ProgramSecrets returns the client secret of each demo program, by client
// id, for the server to print at start.
func (d *DevIssuer) ProgramSecrets() map[string]string { return maps.Clone(d.secrets) }

// Handler serves the issuer: discovery, keys, authorize, token, userinfo,
// the login page. It expects the full request path, issuer path included
// (/oidc/.well-known/openid-configuration), and strips the issuer's path
// itself, so echo's e.Any("/oidc/*", echo.WrapHandler(h)) and a plain
// mux.Handle("/oidc/", h) both work; a path already stripped (by
// http.StripPrefix) is served as is.
//
// Whether a client is on this machine is decided by the connection's peer
// address (RemoteAddr) alone, which the client cannot choose. Headers are
// the client's to write: they can only add refusals (a proxy saying it
// forwards for another address, a Host that is not a loopback name), never
// make a remote peer local. A reverse proxy on this machine makes every
// client it relays a loopback peer, so the development issuer must never
// sit behind one; the server starts it only on a loopback listener unless
// told otherwise.
func (d *DevIssuer) Handler() http.Handler {
	stripped := http.StripPrefix(d.prefix, d.mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackPeer(r) || forwardedForRemote(r) {
			d.log.Warn("oauth: development issuer refused a non-loopback client", "remote", r.RemoteAddr)
			http.Error(w, "The development issuer only answers clients on this machine.", http.StatusForbidden)
			return
		}
		// A web page whose name was rebound to 127.0.0.1 reaches us from
		// loopback, but with its own name as Host.
		if !isLoopbackName(hostOnly(r.Host)) {
			http.Error(w, "The development issuer only answers requests for a loopback host name.", http.StatusForbidden)
			return
		}
		if d.prefix != "" && r.URL.Path == d.prefix {
			http.NotFound(w, r) // stripped, it would be "", which ServeMux redirects to the server's root
			return
		}
		if d.prefix != "" && strings.HasPrefix(r.URL.Path, d.prefix+"/") {
			stripped.ServeHTTP(w, r)
			return
		}
		d.mux.ServeHTTP(w, r)
	})
}

// loopbackRedirectsOnly refuses authorization requests whose redirect_uri
// is not a plain http(s) URL of this machine. op's glob match of the
// browser client's redirect URIs cannot express that on its own.
func loopbackRedirectsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "Malformed authorization request.", http.StatusBadRequest)
			return
		}
		if ru := r.Form.Get("redirect_uri"); ru != "" {
			u, err := url.Parse(ru)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Fragment != "" || !isLoopbackName(u.Hostname()) {
				http.Error(w, "The development issuer only redirects to pages on this machine (http://127.0.0.1:<port>/... or http://localhost:<port>/...).", http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackPeer reports whether the connection itself comes from this
// machine: its peer address, never a header.
func loopbackPeer(r *http.Request) bool {
	return isLoopbackIP(hostOnly(r.RemoteAddr))
}

// forwardedForRemote reports whether a proxy says it forwards the request
// for a client elsewhere. It only ever refuses: a header naming a loopback
// address proves nothing, since any client can write it.
func forwardedForRemote(r *http.Request) bool {
	for _, name := range []string{"X-Forwarded-For", "X-Real-Ip"} {
		for _, v := range r.Header.Values(name) {
			for addr := range strings.SplitSeq(v, ",") {
				if !isLoopbackIP(hostOnly(strings.TrimSpace(addr))) {
					return true
				}
			}
		}
	}
	for _, v := range r.Header.Values("Forwarded") {
		for elem := range strings.SplitSeq(v, ",") {
			for pair := range strings.SplitSeq(elem, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(k, "for") && !isLoopbackIP(hostOnly(strings.Trim(val, `"`))) {
					return true
				}
			}
		}
	}
	return false
}

// hostOnly strips the port and IPv6 brackets of a host[:port].
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

func isLoopbackIP(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.IsLoopback()
}

func isLoopbackName(host string) bool {
	return strings.EqualFold(host, "localhost") || isLoopbackIP(host)
}

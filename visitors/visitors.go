// Package visitors lets a website's visitors chat without an account at an
// OpenID provider. Switchboard issues them RFC 9068 access tokens of its
// own, signed with a key kept in the database, and the token verifier
// accepts those beside the configured issuer's (Verifier):
//
//   - an anonymous visitor gets a token for subject visitor:<uuid> with
//     nothing but a request, and keeps its identity (and so its
//     conversations) through a refresh credential the widget stores;
//   - an identified visitor is a site's logged-in user, vouched for by the
//     site's backend with an identity it signs with a secret shared with
//     Switchboard (HMAC); its subject is site:<the site's user id>.
//
// A visitor is always an end user (switchboard.RoleUser) of the
// deployment's default tenant: no claim of a visitor token can make it an
// operator or a program.
package visitors

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Mode is how a deployment's end users come to Switchboard.
type Mode string

const (
	// ModeAnonymous: the widget asks for a visitor token without any
	// sign-in; a site with a secret may also send identified visitors.
	ModeAnonymous Mode = "anonymous"
	// ModeIdentified: only visitors a site vouches for; no anonymous ones.
	ModeIdentified Mode = "identified"
	// ModeOIDC: end users sign in at the OpenID provider; Switchboard
	// issues no tokens.
	ModeOIDC Mode = "oidc"
)

// ParseMode reads SWITCHBOARD_VISITORS.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ModeAnonymous, nil
	case ModeAnonymous, ModeIdentified, ModeOIDC:
		return m, nil
	}
	return "", fmt.Errorf("%q: want anonymous, identified or oidc", s)
}

// Defaults.
const (
	// DefaultIssuer is the iss of visitor tokens. It is the same on every
	// node of a database, whatever address each listens on, so that any
	// node accepts a token another minted; it is not a URL any provider
	// uses, so no provider's token is ever taken for a visitor's.
	DefaultIssuer     = "urn:switchboard:visitors"
	DefaultTokenTTL   = 10 * time.Minute
	DefaultRefreshTTL = 90 * 24 * time.Hour
	// DefaultMaxIdentityTTL bounds how far ahead a site's identity may
	// expire: an identity is rendered into the page for the widget to
	// exchange at once, so a long-lived one is only a longer-lived thing
	// to steal.
	DefaultMaxIdentityTTL = time.Hour
	// DefaultKeyRotation is how long a signing key signs before a new one
	// replaces it; MinKeyRotation the least a deployment may set.
	DefaultKeyRotation = 30 * 24 * time.Hour
	MinKeyRotation     = time.Hour
	// MinSecretBytes is the least length of a site's secret: HMAC-SHA256
	// is as strong as its key, up to the hash's 32 bytes.
	MinSecretBytes = 32
)

// Options configures a Service. Zero values take the defaults.
type Options struct {
	Mode Mode
	// Issuer is the iss of visitor tokens. Default DefaultIssuer.
	Issuer string
	// Audience is the aud of visitor tokens: the audience the verifier
	// requires of every access token.
	Audience string
	// Tenant is every visitor's tenant: the deployment's default tenant.
	Tenant string
	// Secret verifies the identities sites sign (HS256). Empty: no
	// identified visitors. At least MinSecretBytes.
	Secret []byte
	// TokenTTL is an access token's lifetime; RefreshTTL a refresh
	// credential's, counted again from every renewal.
	TokenTTL   time.Duration
	RefreshTTL time.Duration
	// MaxIdentityTTL is the furthest ahead a site's identity may expire.
	MaxIdentityTTL time.Duration
	// KeyRotation is the age at which the signing key is replaced by a
	// new one (see keys.go). Default DefaultKeyRotation.
	KeyRotation time.Duration
	// Leeway is the clock skew allowed for exp.
	Leeway time.Duration
	// Now is the clock (tests move it). Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// WithDefaults returns o with every unset field given its default.
func (o Options) WithDefaults() Options {
	if o.Mode == "" {
		o.Mode = ModeAnonymous
	}
	if o.Issuer == "" {
		o.Issuer = DefaultIssuer
	}
	if o.Tenant == "" {
		o.Tenant = "default"
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = DefaultRefreshTTL
	}
	if o.MaxIdentityTTL <= 0 {
		o.MaxIdentityTTL = DefaultMaxIdentityTTL
	}
	if o.KeyRotation <= 0 {
		o.KeyRotation = DefaultKeyRotation
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Check refuses options a server must not start with.
func (o Options) Check() error {
	if o.Mode == ModeOIDC {
		return fmt.Errorf("visitors: no visitor tokens in oidc mode")
	}
	if o.Audience == "" {
		return fmt.Errorf("visitors: an audience is required")
	}
	if len(o.Secret) > 0 && len(o.Secret) < MinSecretBytes {
		return fmt.Errorf("SWITCHBOARD_VISITOR_SECRET is %d bytes: at least %d are needed (e.g. openssl rand -base64 32)",
			len(o.Secret), MinSecretBytes)
	}
	if o.KeyRotation < max(MinKeyRotation, o.TokenTTL) {
		return fmt.Errorf("SWITCHBOARD_VISITOR_KEY_ROTATION (%s) must be at least %s and at least the token lifetime (%s)",
			o.KeyRotation, MinKeyRotation, o.TokenTTL)
	}
	if o.Mode == ModeIdentified && len(o.Secret) == 0 {
		return fmt.Errorf("SWITCHBOARD_VISITORS=identified needs SWITCHBOARD_VISITOR_SECRET, the secret the site signs its users' identities with")
	}
	return nil
}

// Grant is what a visitor gets: an access token, how long it lasts, and
// the refresh credential that renews it (once).
type Grant struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	VisitorID    string `json:"visitor_id"`
}

// Service issues, renews and verifies visitor tokens. It is safe for
// concurrent use.
type Service struct {
	db        *database.DB
	committer *database.Committer
	opts      Options
	// ring is the signing keys in use (keys.go); reloading serializes
	// reloads of it.
	ring      atomic.Pointer[keyRing]
	reloading sync.Mutex
}

// New returns a Service over db, writing through committer. It reads the
// signing keys, creating the first if no node has yet, or the next if the
// newest is due for rotation.
func New(ctx context.Context, db *database.DB, committer *database.Committer, opts Options) (*Service, error) {
	opts = opts.WithDefaults()
	if err := opts.Check(); err != nil {
		return nil, err
	}
	ring, err := loadKeys(ctx, committer, opts.Now(), opts.KeyRotation, opts.keepRetired())
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, committer: committer, opts: opts}
	s.ring.Store(ring)
	return s, nil
}

// Options returns the settings in force.
func (s *Service) Options() Options { return s.opts }

// Anonymous makes a new anonymous visitor and returns its first grant.
func (s *Service) Anonymous(ctx context.Context) (Grant, error) {
	if s.opts.Mode != ModeAnonymous {
		return Grant{}, switchboard.Errorf(switchboard.EFORBIDDEN,
			"this server takes identified visitors only: the site must send the visitor's signed identity")
	}
	id := newUUID()
	v := visitor{ID: id, Subject: anonymousPrefix + id, Name: "Visitor " + id[:6]}
	return s.grant(ctx, v, true)
}

// Identified exchanges an identity a site signed for a grant for the
// site's user (the same visitor every time for one user id).
func (s *Service) Identified(ctx context.Context, identity string) (Grant, error) {
	if len(s.opts.Secret) == 0 {
		return Grant{}, switchboard.Errorf(switchboard.EFORBIDDEN,
			"this server takes no identified visitors (no SWITCHBOARD_VISITOR_SECRET is set)")
	}
	claims, err := s.checkIdentity(identity)
	if err != nil {
		return Grant{}, err
	}
	name := claims.Name
	if name == "" {
		name = claims.Email
	}
	if name == "" {
		name = claims.UserID
	}
	v := visitor{ID: newUUID(), Subject: sitePrefix + claims.UserID, Name: name, Email: claims.Email}
	return s.grant(ctx, v, false)
}

// grant stores v (a new anonymous visitor, or a site's user, whose row
// keeps its first id) with a fresh refresh credential and mints its
// access token.
func (s *Service) grant(ctx context.Context, v visitor, anonymous bool) (Grant, error) {
	now := s.opts.Now()
	refresh, hash := newRefreshToken()
	family := newUUID()
	var stored visitor
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		var err error
		if stored, err = saveVisitor(tx, s.opts.Tenant, v, now, anonymous); err != nil {
			return nil, err
		}
		return nil, insertRefresh(tx, hash, stored.ID, family, now, now.Add(s.opts.RefreshTTL))
	})
	if err != nil {
		return Grant{}, fmt.Errorf("visitors: storing a visitor: %w", err)
	}
	return s.grantFor(ctx, stored, refresh, now)
}

func (s *Service) grantFor(ctx context.Context, v visitor, refresh string, now time.Time) (Grant, error) {
	token, err := s.mint(ctx, v, now)
	if err != nil {
		return Grant{}, err
	}
	return Grant{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(s.opts.TokenTTL / time.Second),
		RefreshToken: refresh, VisitorID: v.ID}, nil
}

// Subjects of visitor tokens: a namespace of their own, so that neither
// kind of visitor is ever the other, and a site's user id is never an
// OpenID subject (Verifier refuses provider tokens in these namespaces).
const (
	anonymousPrefix = "visitor:"
	sitePrefix      = "site:"
)

// inVisitorNamespace reports whether an access token subject is one only
// Switchboard issues.
func inVisitorNamespace(sub string) bool {
	return strings.HasPrefix(sub, anonymousPrefix) || strings.HasPrefix(sub, sitePrefix)
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

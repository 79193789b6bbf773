package app

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/oauth"
	"github.com/switchboard-chat/switchboard/visitors"
)

// VisitorSettings are the settings of package visitors.
type VisitorSettings struct {
	// Mode is SWITCHBOARD_VISITORS: anonymous, identified or oidc.
	Mode string
	// Secret verifies the identities a site signs for its users.
	Secret     string
	Issuer     string
	TokenTTL   time.Duration
	RefreshTTL time.Duration
}

func (v *VisitorSettings) load(str func(*string, setting, string), dur func(*time.Duration, setting, time.Duration)) {
	str(&v.Mode, setting{"visitors", "SWITCHBOARD_VISITORS", "how end users come to the widget: anonymous (a visitor token without sign-in; identified ones too if a secret is set), identified (only users the site vouches for) or oidc (sign-in at the OpenID provider)"}, string(visitors.ModeAnonymous))
	str(&v.Secret, setting{"visitor-secret", "SWITCHBOARD_VISITOR_SECRET", "secret (32 bytes or more) a site signs its users' identities with (HS256); required in identified mode"}, "")
	str(&v.Issuer, setting{"visitor-issuer", "SWITCHBOARD_VISITOR_ISSUER", "iss of the visitor tokens Switchboard issues; the same on every node"}, visitors.DefaultIssuer)
	dur(&v.TokenTTL, setting{"visitor-token-ttl", "SWITCHBOARD_VISITOR_TOKEN_TTL", "lifetime of a visitor's access token"}, visitors.DefaultTokenTTL)
	dur(&v.RefreshTTL, setting{"visitor-refresh-ttl", "SWITCHBOARD_VISITOR_REFRESH_TTL", "lifetime of a visitor's refresh token, counted again from each renewal"}, visitors.DefaultRefreshTTL)
}

// check refuses settings a server must not start with, beside the OpenID
// provider's settings oidc.
func (v VisitorSettings) check(oidc oauth.Config) error {
	mode, err := visitors.ParseMode(v.Mode)
	if err != nil {
		return fmt.Errorf("SWITCHBOARD_VISITORS: %w", err)
	}
	if mode == visitors.ModeOIDC {
		return nil
	}
	if v.Issuer == oidc.Issuer {
		return fmt.Errorf("SWITCHBOARD_VISITOR_ISSUER must differ from SWITCHBOARD_OIDC_ISSUER: a provider's token would pass for a visitor's")
	}
	if v.TokenTTL <= 0 || v.RefreshTTL <= v.TokenTTL {
		return fmt.Errorf("SWITCHBOARD_VISITOR_TOKEN_TTL (%s) must be positive and shorter than SWITCHBOARD_VISITOR_REFRESH_TTL (%s)", v.TokenTTL, v.RefreshTTL)
	}
	return v.options(mode, oidc.WithDefaults().Audience, "").Check()
}

func (v VisitorSettings) options(mode visitors.Mode, audience, tenant string) visitors.Options {
	return visitors.Options{Mode: mode, Issuer: v.Issuer, Audience: audience, Tenant: tenant,
		Secret: []byte(v.Secret), TokenTTL: v.TokenTTL, RefreshTTL: v.RefreshTTL}.WithDefaults()
}

// visitorTokens starts the visitor token service, or returns nil in oidc
// mode.
func (a *App) visitorTokens(db *database.DB, committer *database.Committer) (*visitors.Service, error) {
	mode, err := visitors.ParseMode(a.cfg.Visitors.Mode)
	if err != nil || mode == visitors.ModeOIDC {
		return nil, err
	}
	oidc := a.cfg.OIDC.WithDefaults()
	opts := a.cfg.Visitors.options(mode, oidc.Audience, oidc.Tenant)
	opts.Leeway, opts.Logger = oidc.Leeway, a.log
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return visitors.New(ctx, db, committer, opts)
}

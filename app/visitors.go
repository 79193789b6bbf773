package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/jobs"
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
	// KeyRotation is the age at which the signing key is replaced;
	// PruneSchedule is when expired refresh tokens and retired keys are
	// deleted (a cron spec).
	KeyRotation   time.Duration
	PruneSchedule string
}

func (v *VisitorSettings) load(str func(*string, setting, string), dur func(*time.Duration, setting, time.Duration)) {
	str(&v.Mode, setting{"visitors", "SWITCHBOARD_VISITORS", "how end users come to the widget: anonymous (a visitor token without sign-in; identified ones too if a secret is set), identified (only users the site vouches for) or oidc (sign-in at the OpenID provider)"}, string(visitors.ModeAnonymous))
	str(&v.Secret, setting{"visitor-secret", "SWITCHBOARD_VISITOR_SECRET", "secret (32 bytes or more) a site signs its users' identities with (HS256); required in identified mode"}, "")
	str(&v.Issuer, setting{"visitor-issuer", "SWITCHBOARD_VISITOR_ISSUER", "iss of the visitor tokens Switchboard issues; the same on every node"}, visitors.DefaultIssuer)
	dur(&v.TokenTTL, setting{"visitor-token-ttl", "SWITCHBOARD_VISITOR_TOKEN_TTL", "lifetime of a visitor's access token"}, visitors.DefaultTokenTTL)
	dur(&v.RefreshTTL, setting{"visitor-refresh-ttl", "SWITCHBOARD_VISITOR_REFRESH_TTL", "lifetime of a visitor's refresh token, counted again from each renewal"}, visitors.DefaultRefreshTTL)
	dur(&v.KeyRotation, setting{"visitor-key-rotation", "SWITCHBOARD_VISITOR_KEY_ROTATION", "age at which the visitor token signing key is replaced by a new one (at least 1h and the token lifetime); the old one verifies until its tokens have expired"}, visitors.DefaultKeyRotation)
	str(&v.PruneSchedule, setting{"visitor-prune-schedule", "SWITCHBOARD_VISITOR_PRUNE_SCHEDULE", "when expired visitor refresh tokens and retired signing keys are deleted (cron spec, UTC)"}, "23 * * * *")
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
	if _, err := jobs.Parse(v.PruneSchedule); err != nil {
		return fmt.Errorf("SWITCHBOARD_VISITOR_PRUNE_SCHEDULE=%q: %w", v.PruneSchedule, err)
	}
	if v.TokenTTL <= 0 || v.RefreshTTL <= v.TokenTTL {
		return fmt.Errorf("SWITCHBOARD_VISITOR_TOKEN_TTL (%s) must be positive and shorter than SWITCHBOARD_VISITOR_REFRESH_TTL (%s)", v.TokenTTL, v.RefreshTTL)
	}
	return v.options(mode, oidc.WithDefaults().Audience, "").Check()
}

func (v VisitorSettings) options(mode visitors.Mode, audience, tenant string) visitors.Options {
	return visitors.Options{Mode: mode, Issuer: v.Issuer, Audience: audience, Tenant: tenant,
		Secret: []byte(v.Secret), TokenTTL: v.TokenTTL, RefreshTTL: v.RefreshTTL, KeyRotation: v.KeyRotation}.WithDefaults()
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

// VisitorPruneJob is the scheduled job that deletes visitors' expired
// refresh tokens and retired signing keys (visitors.Service.Prune).
const VisitorPruneJob = "visitor-prune"

// visitorPruneJob prunes through svc at each slot of spec, judged at the
// slot's time; one node runs each slot.
func visitorPruneJob(svc *visitors.Service, spec string, log *slog.Logger) jobs.Job {
	return jobs.Job{Name: VisitorPruneJob, Spec: spec, Run: func(ctx context.Context, now time.Time) error {
		p, err := svc.Prune(ctx, now)
		if p.RefreshTokens > 0 || p.SigningKeys > 0 {
			log.Info("visitor credentials pruned", "refreshTokens", p.RefreshTokens, "signingKeys", p.SigningKeys, "slot", now)
		}
		if p.More {
			log.Info("visitor credentials pruned: more are left for the next slot", "refreshTokens", p.RefreshTokens)
		}
		return err
	}}
}

// addVisitorJobs schedules the visitors' jobs on r; none without visitor
// tokens (svc nil, oidc mode).
func addVisitorJobs(r *jobs.Runner, svc *visitors.Service, cfg VisitorSettings, log *slog.Logger) error {
	if svc == nil {
		return nil
	}
	return r.Add(visitorPruneJob(svc, cfg.PruneSchedule, log))
}

package oauth

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard"
)

// principalFromClaims applies the principal table of spec/oauth.md to the
// claims of a verified token: operator by role, then program, else user.
func principalFromClaims(cfg Config, claims map[string]any, exp time.Time) (switchboard.Principal, error) {
	sub, _ := claimString(claims["sub"])
	if sub == "" {
		return switchboard.Principal{}, invalid("the access token has no sub")
	}
	// The id is the subject encoded so that no subject's id is a program's
	// end user's (switchboard.SubjectUserID).
	p := switchboard.Principal{ID: switchboard.SubjectUserID(sub), Role: switchboard.RoleUser, ExpiresAt: exp}

	roles, _ := lookupClaim(claims, cfg.RolesClaim)
	programID := programOf(cfg, claims, sub)
	switch {
	case slices.Contains(stringList(roles), cfg.OperatorRole):
		p.Role = switchboard.RoleOperator
		p.Admin = slices.Contains(stringList(roles), cfg.AdminRole)
		p.Supervisor = slices.Contains(stringList(roles), cfg.SupervisorRole)
	case programID != "":
		p.Role = switchboard.RoleProgram
		p.ID, p.ProgramID = programID, programID
	}

	p.DisplayName = sub
	for _, name := range []string{"name", "preferred_username", "email"} {
		if s, ok := claimString(claims[name]); ok && strings.TrimSpace(s) != "" {
			p.DisplayName = s
			break
		}
	}

	p.Tenant = cfg.Tenant
	if cfg.TenantClaim != "" {
		v, _ := lookupClaim(claims, cfg.TenantClaim)
		tenant, ok := claimString(v)
		// Falling back to the default tenant would put this bearer beside
		// another tenant's people.
		if !ok || tenant == "" {
			return switchboard.Principal{}, invalid("the access token has no %s claim (the tenant)", cfg.TenantClaim)
		}
		p.Tenant = tenant
	}
	return p, nil
}

// programOf returns the program a client-credentials token is for, or "".
func programOf(cfg Config, claims map[string]any, sub string) string {
	if v, ok := lookupClaim(claims, cfg.ProgramClaim); ok {
		if id, ok := claimString(v); ok && id != "" {
			return id
		}
	}
	// A client acting for itself has no user: its sub is its client id.
	if clientID, ok := claimString(claims["client_id"]); ok && clientID == sub {
		return clientID
	}
	return ""
}

// lookupClaim finds a claim by its name or, failing that, by a dotted path
// into nested objects ("realm_access.roles").
func lookupClaim(claims map[string]any, name string) (any, bool) {
	if name == "" {
		return nil, false
	}
	if v, ok := claims[name]; ok {
		return v, true
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// stringList reads a roles claim: a JSON list of strings or one
// space-separated string (the "scope" style some providers use).
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// claimString reads a string claim; a number is taken in its decimal form
// because some providers emit numeric ids.
func claimString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// numericDate reads a JWT NumericDate (seconds since the epoch).
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

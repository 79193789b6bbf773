package limiter

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/metrics"
)

// Verifier turns an access token into a principal (oauth.Verifier).
type Verifier interface {
	Verify(ctx context.Context, raw string) (switchboard.Principal, error)
}

// verified is what LimitRequests learnt of a request's token, kept in its
// context for the handler's own Verify (RequestVerifier).
type verified struct {
	raw string
	p   switchboard.Principal
}

type verifiedKey struct{}

// LimitRequests is an echo middleware that refuses a principal's REST
// request while it already has MaxRequests in flight: 429 with
// {code: "RATE_LIMITED", message}. It verifies the bearer token to know the
// principal; a request without a valid token passes on untouched, and its
// handler answers it as before (401). Handlers that verify through
// RequestVerifier reuse this verification.
func (l *Limiter) LimitRequests(v Verifier) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			raw, err := switchboard.BearerToken(r)
			if err != nil {
				return next(c)
			}
			p, err := v.Verify(r.Context(), raw)
			if err != nil {
				return next(c)
			}
			key := PrincipalKey(p)
			if !l.requests.acquire(key, l.opts.MaxRequests) {
				l.opts.Logger.Warn("request refused: too many in flight", "user", p.ID, "role", p.Role,
					"tenant", p.Tenant, "max", l.opts.MaxRequests, "path", r.URL.Path)
				l.opts.Metrics.RateLimited(metrics.ProtocolREST, metrics.KindRequest)
				c.Response().Header().Set("Retry-After", "1")
				return switchboard.WriteHTTPError(c.Response(), switchboard.Errorf(switchboard.ERATELIMITED,
					"too many requests in flight (at most %d at once); wait for one to finish", l.opts.MaxRequests))
			}
			defer l.requests.release(key)
			c.SetRequest(r.WithContext(context.WithValue(r.Context(), verifiedKey{}, verified{raw, p})))
			return next(c)
		}
	}
}

// RequestVerifier wraps v for REST handlers behind LimitRequests: the
// token the middleware verified for this request is not verified twice.
func RequestVerifier(v Verifier) Verifier { return requestVerifier{v} }

type requestVerifier struct{ v Verifier }

func (rv requestVerifier) Verify(ctx context.Context, raw string) (switchboard.Principal, error) {
	if got, ok := ctx.Value(verifiedKey{}).(verified); ok && got.raw == raw {
		return got.p, nil
	}
	return rv.v.Verify(ctx, raw)
}

// InFlight is how many REST requests of p are running.
func (l *Limiter) InFlight(p switchboard.Principal) int { return l.requests.count(PrincipalKey(p)) }

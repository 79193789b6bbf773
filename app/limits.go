package app

import (
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// Limits are the settings of internal/limiter.
type Limits struct {
	MessageRate, MessageBurst int
	EventRate, EventBurst     int
	ProgramScale              int
	PerEndUser                bool
	AbuseRefusals             int
	AbuseWindow               time.Duration
	MaxConnsPerIP             int
	MaxConnsPerPrincipal      int
	MaxRequests               int
	// NewVisitors per minute per client address, NewVisitorsBurst at once.
	NewVisitors, NewVisitorsBurst int
	// TrustedProxies are the reverse proxies (CIDRs or addresses, comma
	// separated) whose X-Forwarded-For names the client.
	TrustedProxies string
}

// load binds the limits' settings with Load's helpers.
func (l *Limits) load(num func(*int, setting, int), dur func(*time.Duration, setting, time.Duration),
	boolean func(*bool, setting, bool), str func(*string, setting, string)) {
	num(&l.MessageRate, setting{"rate-messages", "SWITCHBOARD_RATE_MESSAGES", "messages per second one user or operator may send, over both protocols (-1: no limit)"}, limiter.DefaultMessageRate)
	num(&l.MessageBurst, setting{"rate-messages-burst", "SWITCHBOARD_RATE_MESSAGES_BURST", "messages one user or operator may send at once"}, limiter.DefaultMessageBurst)
	num(&l.EventRate, setting{"rate-events", "SWITCHBOARD_RATE_EVENTS", "socket events per second (messages included) one user or operator may send (-1: no limit)"}, limiter.DefaultEventRate)
	num(&l.EventBurst, setting{"rate-events-burst", "SWITCHBOARD_RATE_EVENTS_BURST", "socket events one user or operator may send at once"}, limiter.DefaultEventBurst)
	num(&l.ProgramScale, setting{"rate-program-scale", "SWITCHBOARD_RATE_PROGRAM_SCALE", "a program's rates and bursts are this many times a user's (its end users all count against it)"}, limiter.DefaultProgramScale)
	boolean(&l.PerEndUser, setting{"rate-per-end-user", "SWITCHBOARD_RATE_PER_END_USER", "also limit each end user of a program at a user's rates"}, true)
	num(&l.AbuseRefusals, setting{"abuse-refusals", "SWITCHBOARD_ABUSE_REFUSALS", "refusals within the abuse window that cut a socket off"}, limiter.DefaultAbuseRefusals)
	dur(&l.AbuseWindow, setting{"abuse-window", "SWITCHBOARD_ABUSE_WINDOW", "window of the abuse refusals; also the least time between two userChatRateLimited events of one principal"}, limiter.DefaultAbuseWindow)
	num(&l.MaxConnsPerIP, setting{"max-conns-per-ip", "SWITCHBOARD_MAX_CONNS_PER_IP", "Socket.IO connections from one client address, both protocols (-1: no limit)"}, limiter.DefaultMaxConnsPerIP)
	num(&l.MaxConnsPerPrincipal, setting{"max-conns-per-principal", "SWITCHBOARD_MAX_CONNS_PER_PRINCIPAL", "authenticated sockets of one user, operator or program, both protocols (-1: no limit)"}, limiter.DefaultMaxConnsPerPrincipal)
	num(&l.MaxRequests, setting{"max-requests-per-principal", "SWITCHBOARD_MAX_REQUESTS_PER_PRINCIPAL", "REST requests of one principal in flight at once (-1: no limit)"}, limiter.DefaultMaxRequests)
	num(&l.NewVisitors, setting{"rate-new-visitors", "SWITCHBOARD_RATE_NEW_VISITORS", "new visitors (POST /api/v1/visitors without a refresh token) per minute from one client address (-1: no limit)"}, 12)
	num(&l.NewVisitorsBurst, setting{"rate-new-visitors-burst", "SWITCHBOARD_RATE_NEW_VISITORS_BURST", "new visitors one client address may make at once"}, limiter.DefaultAddressBurst)
	str(&l.TrustedProxies, setting{"trusted-proxies", "SWITCHBOARD_TRUSTED_PROXIES", "reverse proxies (comma-separated CIDRs or addresses) whose X-Forwarded-For names the client; empty: the TCP peer is the client"}, "")
}

// check refuses settings that would not limit anything sensible.
func (l Limits) check() error {
	for _, v := range []struct {
		env string
		n   int
	}{{"SWITCHBOARD_RATE_MESSAGES_BURST", l.MessageBurst}, {"SWITCHBOARD_RATE_EVENTS_BURST", l.EventBurst},
		{"SWITCHBOARD_RATE_PROGRAM_SCALE", l.ProgramScale}, {"SWITCHBOARD_ABUSE_REFUSALS", l.AbuseRefusals},
		{"SWITCHBOARD_RATE_NEW_VISITORS_BURST", l.NewVisitorsBurst}} {
		if v.n < 1 {
			return fmt.Errorf("%s=%d: must be at least 1", v.env, v.n)
		}
	}
	for _, v := range []struct {
		env string
		n   int
	}{{"SWITCHBOARD_RATE_MESSAGES", l.MessageRate}, {"SWITCHBOARD_RATE_EVENTS", l.EventRate},
		{"SWITCHBOARD_MAX_CONNS_PER_IP", l.MaxConnsPerIP}, {"SWITCHBOARD_MAX_CONNS_PER_PRINCIPAL", l.MaxConnsPerPrincipal},
		{"SWITCHBOARD_MAX_REQUESTS_PER_PRINCIPAL", l.MaxRequests}, {"SWITCHBOARD_RATE_NEW_VISITORS", l.NewVisitors}} {
		if v.n == 0 || v.n < -1 {
			return fmt.Errorf("%s=%d: must be at least 1, or -1 for no limit", v.env, v.n)
		}
	}
	if l.AbuseWindow <= 0 {
		return fmt.Errorf("SWITCHBOARD_ABUSE_WINDOW=%s: must be positive", l.AbuseWindow)
	}
	if _, err := limiter.ClientIP(limiter.ParseList(l.TrustedProxies)); err != nil {
		return fmt.Errorf("SWITCHBOARD_TRUSTED_PROXIES: %w", err)
	}
	return nil
}

// options are the limiter's options from the settings.
func (l Limits) options() limiter.Options {
	return limiter.Options{MessageRate: float64(l.MessageRate), MessageBurst: l.MessageBurst,
		EventRate: float64(l.EventRate), EventBurst: l.EventBurst, ProgramScale: float64(l.ProgramScale),
		PerEndUser: l.PerEndUser, AbuseRefusals: l.AbuseRefusals, AbuseWindow: l.AbuseWindow,
		MaxConnsPerIP: l.MaxConnsPerIP, MaxConnsPerPrincipal: l.MaxConnsPerPrincipal, MaxRequests: l.MaxRequests,
		AddressRate: perMinute(l.NewVisitors), AddressBurst: l.NewVisitorsBurst}
}

// limiter makes the one Limiter both protocols and REST share, and the
// client-address function of the connection limits and echo's RealIP.
func (a *App) limiter(publisher switchboard.Publisher) (*limiter.Limiter, echo.IPExtractor, error) {
	clientIP, err := limiter.ClientIP(limiter.ParseList(a.cfg.Limits.TrustedProxies))
	if err != nil {
		return nil, nil, fmt.Errorf("SWITCHBOARD_TRUSTED_PROXIES: %w", err)
	}
	opts := a.cfg.Limits.options()
	opts.Publisher, opts.Logger, opts.Metrics = publisher, a.log, a.metrics
	return limiter.New(opts), clientIP, nil
}

// perMinute is a per-minute setting as a rate per second (-1 stays no limit).
func perMinute(n int) float64 {
	if n < 0 {
		return -1
	}
	return float64(n) / 60
}

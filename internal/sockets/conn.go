// Package sockets holds what a client socket is to Switchboard under
// either protocol: who it is, how long it may stay unauthenticated and
// how long its token lasts, the connection slot it holds, the refusals
// counted against it, its typing throttle and its count in presence.
// Each binding embeds a Conn in its own socket type and keeps beside it
// what only its protocol has (livechat's rooms and operator
// subscription); what the Conn decides, the binding acts on through its
// Owner.
package sockets

import (
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
	"github.com/switchboard-chat/switchboard/metrics"
)

// Settings are one binding's rules for all its sockets. A Conn keeps a
// pointer to them: they cost an idle socket nothing.
type Settings struct {
	// AuthGrace is how long a socket may stay unauthenticated.
	AuthGrace time.Duration
	// TypingInterval is the least time between two typing notices of
	// one socket in one conversation that go through.
	TypingInterval time.Duration
	// Limiter, when set, bounds each principal's sockets and events.
	Limiter *limiter.Limiter
	// Presence, when set, counts authenticated sockets per user.
	Presence Presence
	// Metrics, when set, counts the binding's sockets and its refusals.
	Metrics *metrics.Protocol
}

// Presence counts users' live sockets (chat.Presence).
type Presence interface {
	Connect(tenant, userID string)
	Disconnect(tenant, userID string)
}

// Owner is the binding's side of a socket: what it does when the Conn's
// timers say so. Both are called from a timer's goroutine, outside the
// Conn's lock.
type Owner interface {
	// GraceOver: the socket was not authenticated within AuthGrace;
	// the binding disconnects it.
	GraceOver()
	// TokenExpired: p's token expired; the Conn refuses the socket's
	// events from now on (Active), and the binding closes the socket or
	// waits for a fresh token.
	TokenExpired(p switchboard.Principal)
}

// ErrClosed is Authenticate's answer for a socket that has closed.
var ErrClosed error = switchboard.Errorf(switchboard.EUNAUTHENTICATED, "the socket closed")

// Conn is one socket's identity and lifetime. Socket.IO runs a socket's
// event handlers one at a time, but the timers run elsewhere, so the
// fields are under mu. The zero value is not ready: Start it.
type Conn struct {
	settings *Settings
	owner    Owner

	mu        sync.Mutex
	principal switchboard.Principal
	authed    bool // a token was accepted (it may have expired since)
	expired   bool // the accepted token expired: events are refused
	closed    bool
	counted   bool // reported to Settings.Presence
	grace     *time.Timer
	expiry    *time.Timer
	typing    *fanout.Throttle
	strikes   limiter.Strikes
	release   limiter.Release // the principal's connection slot
}

// Start makes c ready for a new socket and starts its grace: unless
// authenticated within settings.AuthGrace, owner hears GraceOver.
func (c *Conn) Start(settings *Settings, owner Owner) {
	c.settings, c.owner = settings, owner
	c.typing = fanout.NewThrottle(settings.TypingInterval)
	c.grace = time.AfterFunc(settings.AuthGrace, c.graceOver)
	settings.Metrics.Connected()
}

func (c *Conn) graceOver() {
	c.mu.Lock()
	authed := c.authed
	c.mu.Unlock()
	if !authed {
		c.owner.GraceOver()
	}
}

// Principal is who the socket is authenticated as (the zero Principal
// before).
func (c *Conn) Principal() switchboard.Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.principal
}

// Active reports whether the socket's events may run: it is
// authenticated and its token has not expired.
func (c *Conn) Active() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authed && !c.expired
}

// HoldSlot takes a connection slot of p for the socket, once: a socket
// that holds one (a token refresh) takes no other. Over the limit it
// returns the limiter's RATE_LIMITED error. The slot is given back by
// Close.
func (c *Conn) HoldSlot(p switchboard.Principal) error {
	lim := c.settings.Limiter
	if lim == nil {
		return nil
	}
	c.mu.Lock()
	held := c.release != nil
	c.mu.Unlock()
	if held {
		return nil
	}
	release, err := lim.ConnectPrincipal(p)
	if err != nil {
		c.settings.Metrics.RateLimited(metrics.KindConnection)
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.release != nil {
		release() // closed meanwhile: Close cannot give it back
		return nil
	}
	c.release = release
	return nil
}

// Authenticated says what an accepted token changed.
type Authenticated struct {
	// First: the socket had no identity before.
	First bool
	// Restored: the socket's previous token had expired; its events run
	// again and the binding restores what the expiry took away.
	Restored bool
}

// Authenticate makes p the socket's identity, or refreshes it. A socket
// keeps one identity for its life: a token of someone else is
// FORBIDDEN. The grace ends, and the socket lives as long as p's token:
// at p.ExpiresAt the owner hears TokenExpired.
func (c *Conn) Authenticate(p switchboard.Principal) (Authenticated, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Authenticated{}, ErrClosed
	}
	if c.authed && (p.ID != c.principal.ID || p.Role != c.principal.Role || p.Tenant != c.principal.Tenant) {
		return Authenticated{}, switchboard.Errorf(switchboard.EFORBIDDEN, "this socket is authenticated as someone else")
	}
	a := Authenticated{First: !c.authed, Restored: c.expired}
	c.principal, c.authed, c.expired = p, true, false
	if c.grace != nil {
		c.grace.Stop()
		c.grace = nil
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.expiry = time.AfterFunc(time.Until(p.ExpiresAt), func() { c.expire(p.ExpiresAt) })
	return a, nil
}

// expire ends the authentication of the token that expires at, unless
// a fresh one replaced it or the socket closed meanwhile.
func (c *Conn) expire(at time.Time) {
	c.mu.Lock()
	if c.closed || c.expired || !c.principal.ExpiresAt.Equal(at) {
		c.mu.Unlock()
		return
	}
	c.expired = true
	p := c.principal
	c.mu.Unlock()
	c.owner.TokenExpired(p)
}

// CountPresence reports the authenticated socket to Settings.Presence,
// once, unless it closed (Close takes it back). A binding counts the
// socket once its user is stored, so that presence finds it.
func (c *Conn) CountPresence() {
	presence := c.settings.Presence
	if presence == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.authed && !c.closed && !c.counted {
		c.counted = true
		presence.Connect(c.principal.Tenant, c.principal.ID)
	}
}

// Admit charges one event of kind to w's token buckets and counts a
// refusal against the socket (limiter.Limiter.Admit). Without a limiter
// everything is admitted.
func (c *Conn) Admit(w limiter.Who, kind limiter.Kind) (cutOff bool, err error) {
	lim := c.settings.Limiter
	if lim == nil {
		return false, nil
	}
	cutOff, err = lim.Admit(w, kind, &c.strikes)
	if err != nil {
		refused := metrics.KindEvent
		if kind == limiter.Message {
			refused = metrics.KindMessage
		}
		c.settings.Metrics.RateLimited(refused)
	}
	return cutOff, err
}

// AllowTyping reports whether a typing notice in the conversation key
// may go now (at most one per Settings.TypingInterval), and records it.
func (c *Conn) AllowTyping(key string) bool { return c.typing.Allow(key) }

// Close ends the socket: its timers stop, its connection slot and its
// presence are given back, and it authenticates no more. It returns who
// the socket was and whether its token had expired, for the binding to
// undo what it holds; closing again changes nothing.
func (c *Conn) Close() (p switchboard.Principal, expired bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.settings.Metrics.Disconnected()
	}
	if c.counted {
		c.counted = false
		c.settings.Presence.Disconnect(c.principal.Tenant, c.principal.ID)
	}
	c.closed = true
	if c.release != nil {
		c.release()
	}
	for _, t := range []*time.Timer{c.grace, c.expiry} {
		if t != nil {
			t.Stop()
		}
	}
	return c.principal, c.expired
}

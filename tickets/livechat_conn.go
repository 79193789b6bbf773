package tickets

import (
	"context"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// conn is one livechat socket's session. Socket.IO runs a socket's event
// handlers one at a time, but the expiry and grace timers and the
// Committer's callbacks run elsewhere, so the fields are under mu.
type conn struct {
	l *Livechat
	s *socket.Socket

	mu        sync.Mutex
	principal switchboard.Principal
	authed    bool // a token was accepted (it may have expired since)
	expired   bool // the accepted token expired; events are refused
	userID    string
	name      string
	rooms     map[string]bool  // rooms the client asked for, restored after re-authentication
	operator  bool             // subscribed as an operator (counts for presence)
	typing    *fanout.Throttle // typing events per ticket
	expiry    *time.Timer
	grace     *time.Timer
	closed    bool
	counted   bool // reported to LivechatOptions.Sockets
	strikes   limiter.Strikes
	release   limiter.Release // the principal's connection slot
}

func newConn(l *Livechat, s *socket.Socket) *conn {
	// rooms is made on first use: most sockets never join a room of their
	// own, and an idle connection should cost little.
	c := &conn{l: l, s: s, typing: fanout.NewThrottle(l.opts.TypingInterval)}
	c.grace = time.AfterFunc(l.opts.AuthGrace, c.graceOver)
	return c
}

// caller is the identity commands from this socket run as.
func (c *conn) caller() Caller {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Caller{Principal: c.principal, UserID: c.userID, Name: c.name, Socket: string(c.s.Id())}
}

// active reports whether events may run: authenticated and not expired.
func (c *conn) active() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authed && !c.expired
}

func (c *conn) graceOver() {
	c.mu.Lock()
	authed := c.authed
	c.mu.Unlock()
	if !authed {
		c.s.Disconnect(true)
	}
}

// authenticate verifies a token and (re)establishes the socket's identity.
// A socket keeps one identity for its life: a token of someone else is
// FORBIDDEN. A fresh token after expiry restores the rooms it had.
func (c *conn) authenticate(token string, reply func(error)) {
	fail := func(err error) {
		c.l.emitTo(c.s, "unauthenticated", errorWire(err))
		if reply != nil {
			reply(err)
		}
	}
	if token == "" {
		fail(switchboard.Errorf(switchboard.ETOKENMISSING, "accessToken is required"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p, err := c.l.verifier.Verify(ctx, token)
	if err != nil {
		fail(err)
		return
	}
	if err := c.countConnection(p); err != nil {
		fail(err)
		fanout.Refuse(c.s)
		return
	}
	c.mu.Lock()
	if c.authed && (p.ID != c.principal.ID || p.Role != c.principal.Role || p.Tenant != c.principal.Tenant) {
		c.mu.Unlock()
		fail(switchboard.Errorf(switchboard.EFORBIDDEN, "this socket is authenticated as someone else"))
		return
	}
	first := !c.authed
	restore := c.expired
	c.principal, c.authed, c.expired = p, true, false
	if first {
		c.userID, c.name = p.ID, p.DisplayName
		if p.Role == switchboard.RoleProgram {
			c.userID = "" // until it subscribes for one of its end users
		}
	}
	if c.grace != nil {
		c.grace.Stop()
		c.grace = nil
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.expiry = time.AfterFunc(time.Until(p.ExpiresAt), func() { c.expire(p.ExpiresAt) })
	var rooms []socket.Room
	if restore {
		for r := range c.rooms {
			rooms = append(rooms, socket.Room(r))
		}
	}
	rejoinOperator := restore && c.operator
	c.mu.Unlock()

	if len(rooms) > 0 {
		c.s.Join(rooms...)
	}
	if rejoinOperator {
		c.l.presence.Join(p.Tenant, p.ID)
	}
	announce := func(err error) {
		if err != nil {
			c.l.log.Error("recording a principal failed", "user", p.ID, "err", err)
		}
		c.l.emitTo(c.s, "authenticated", principalWire(p))
		if reply != nil {
			reply(nil)
		}
	}
	if first {
		// Known from now on (an operator may be assigned tickets): say so
		// once it is stored.
		c.l.svc.EnsureUser(p, announce)
		c.countSocket(p)
	} else {
		announce(nil)
	}
}

// expire acts on a token's expiry: the socket leaves every room and its
// events are refused until a fresh token arrives. It stays connected.
func (c *conn) expire(at time.Time) {
	c.mu.Lock()
	if c.closed || c.expired || !c.principal.ExpiresAt.Equal(at) {
		c.mu.Unlock()
		return
	}
	c.expired = true
	rooms := make([]string, 0, len(c.rooms))
	for r := range c.rooms {
		rooms = append(rooms, r)
	}
	p, operator := c.principal, c.operator
	c.mu.Unlock()

	for _, r := range rooms {
		c.s.Leave(socket.Room(r))
	}
	if operator {
		c.l.presence.Leave(p.Tenant, p.ID)
	}
	c.l.emitTo(c.s, "unauthenticated", map[string]any{"code": switchboard.ETOKENEXPIRED, "message": "the access token expired; authenticate again"})
}

// join adds the socket to rooms and remembers them for re-authentication.
func (c *conn) join(rooms ...string) {
	c.mu.Lock()
	if c.rooms == nil {
		c.rooms = map[string]bool{}
	}
	for _, r := range rooms {
		c.rooms[r] = true
	}
	c.mu.Unlock()
	for _, r := range rooms {
		c.s.Join(socket.Room(r))
	}
}

func (c *conn) leave(rooms ...string) {
	c.mu.Lock()
	for _, r := range rooms {
		delete(c.rooms, r)
	}
	c.mu.Unlock()
	for _, r := range rooms {
		c.s.Leave(socket.Room(r))
	}
}

// countSocket reports the authenticated socket to the shared presence,
// once (it is uncounted by close).
func (c *conn) countSocket(p switchboard.Principal) {
	if c.l.opts.Sockets == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed && !c.counted {
		c.counted = true
		c.l.opts.Sockets.Connect(p.Tenant, p.ID)
	}
}

// close releases the socket's timers and presence on disconnect.
func (c *conn) close() {
	c.mu.Lock()
	if c.counted {
		c.counted = false
		c.l.opts.Sockets.Disconnect(c.principal.Tenant, c.principal.ID)
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
	p, operator := c.principal, c.operator && !c.expired
	c.operator = false
	c.mu.Unlock()
	if operator {
		c.l.presence.Leave(p.Tenant, p.ID)
	}
}

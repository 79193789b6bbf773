package tickets

import (
	"context"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/sockets"
)

// conn is one livechat socket: the identity and lifetime both protocols
// share (sockets.Conn), and what only livechat has: the acting user, the
// rooms the client asked for and the operator subscription. Socket.IO
// runs a socket's event handlers one at a time, but the expiry timer and
// the Committer's callbacks run elsewhere, so these fields are under mu.
type conn struct {
	sockets.Conn
	l *Livechat
	s *socket.Socket

	mu       sync.Mutex
	userID   string
	name     string
	rooms    map[string]bool // rooms the client asked for, restored after re-authentication
	operator bool            // subscribed as an operator (counts for presence)
}

func newConn(l *Livechat, s *socket.Socket) *conn {
	// rooms is made on first use: most sockets never join a room of their
	// own, and an idle connection should cost little.
	c := &conn{l: l, s: s}
	c.Start(&l.sockets, c)
	return c
}

// caller is the identity commands from this socket run as.
func (c *conn) caller() Caller {
	p := c.Principal()
	c.mu.Lock()
	defer c.mu.Unlock()
	return Caller{Principal: p, UserID: c.userID, Name: c.name, Socket: string(c.s.Id())}
}

// active reports whether events may run: authenticated and not expired.
func (c *conn) active() bool { return c.Active() }

// GraceOver closes a socket that sent no good token in time.
func (c *conn) GraceOver() { c.s.Disconnect(true) }

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
	if err := c.HoldSlot(p); err != nil {
		fail(err)
		fanout.Refuse(c.s)
		return
	}
	auth, err := c.Authenticate(p)
	if err != nil {
		fail(err)
		return
	}
	var rooms []socket.Room
	c.mu.Lock()
	if auth.First {
		c.userID, c.name = p.ID, p.DisplayName
		if p.Role == switchboard.RoleProgram {
			c.userID = "" // until it subscribes for one of its end users
		}
	}
	if auth.Restored {
		for r := range c.rooms {
			rooms = append(rooms, socket.Room(r))
		}
	}
	rejoinOperator := auth.Restored && c.operator
	c.mu.Unlock()

	if len(rooms) > 0 {
		c.s.Join(rooms...)
	}
	if rejoinOperator && c.l.presence.Join(p.Tenant, p.ID) {
		c.l.svc.RouteQueue(p.Tenant) // back online: routing may give it tickets
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
	if auth.First {
		// Known from now on (an operator may be assigned tickets): say so
		// once it is stored.
		c.l.svc.EnsureUser(p, announce)
		c.CountPresence()
	} else {
		announce(nil)
	}
}

// TokenExpired acts on a token's expiry: the socket leaves every room
// and its events are refused (sockets.Conn.Active) until a fresh token
// arrives. It stays connected.
func (c *conn) TokenExpired(p switchboard.Principal) {
	c.mu.Lock()
	rooms := make([]string, 0, len(c.rooms))
	for r := range c.rooms {
		rooms = append(rooms, r)
	}
	operator := c.operator
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

// close releases the socket's timers, slot and presence on disconnect,
// and its operator presence unless the token's expiry took it already.
func (c *conn) close() {
	p, expired := c.Close()
	c.mu.Lock()
	operator := c.operator && !expired
	c.operator = false
	c.mu.Unlock()
	if operator {
		c.l.presence.Leave(p.Tenant, p.ID)
	}
}

package chat

import (
	"context"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/sockets"
)

// conn is one chat-protocol socket: the identity and lifetime both
// protocols share (sockets.Conn), and its binding. It is ready once
// clientReady succeeded: until then only clientReady runs.
type conn struct {
	sockets.Conn
	cs *ChatServer
	s  *socket.Socket
}

func newConn(cs *ChatServer, s *socket.Socket) *conn {
	c := &conn{cs: cs, s: s}
	c.Start(&cs.sockets, c)
	return c
}

func (c *conn) caller() Caller {
	return switchboard.CallerOf(c.Principal(), string(c.s.Id()))
}

// isReady reports whether clientReady succeeded (and the token has not
// expired, which closes the socket).
func (c *conn) isReady() bool { return c.Active() }

// GraceOver closes a socket that sent no good clientReady in time.
func (c *conn) GraceOver() { c.s.Disconnect(true) }

// TokenExpired closes the socket: it lives as long as its token, and the
// client connects again with a fresh one.
func (c *conn) TokenExpired(switchboard.Principal) { c.s.Disconnect(true) }

// authError is the AUTHENTICATION_ERROR of a failed handshake.
func authError(format string, args ...any) error {
	return switchboard.Errorf(EAUTHENTICATION, format, args...)
}

// clientReady verifies the token and makes the socket its principal's:
// it joins the user's room and counts for its presence. A second
// clientReady on the same socket is CONNECTION_ALREADY_OPEN; any other
// failure is AUTHENTICATION_ERROR (INVALID_REQUEST for a malformed body)
// and closes the socket.
func (c *conn) clientReady(a []any) (payload any, closeAfter bool, err error) {
	if c.isReady() {
		return nil, false, switchboard.Errorf(EALREADYOPEN, "this socket already sent clientReady")
	}
	p, err := payloadOf(a)
	if err != nil {
		return nil, true, err
	}
	lim := c.cs.opts.Limits
	token, err := p.str("tokenId", false, 64<<10)
	if err != nil {
		return nil, true, err
	}
	if token == "" {
		return nil, true, authError("tokenId (an access token) is required")
	}
	username, err := p.str("username", false, lim.MaxName)
	if err != nil {
		return nil, true, err
	}
	clientID, err := p.str("clientId", false, lim.MaxName)
	if err != nil {
		return nil, true, err
	}
	isApp, _ := p["isApp"].(bool)
	if v, ok := p["isApp"]; ok && v != nil {
		if _, isBool := v.(bool); !isBool {
			return nil, true, invalid("isApp must be true or false")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	principal, err := c.cs.verifier.Verify(ctx, token)
	if err != nil {
		return nil, true, authError("%s", switchboard.ErrorMessage(err))
	}
	switch {
	case isApp && principal.Role != switchboard.RoleProgram:
		return nil, true, authError("isApp is set but the token is not a program's")
	case username != "" && !principal.Names(username):
		return nil, true, authError("username %q is not the token's subject", username)
	case clientID != "" && clientID != principal.Tenant:
		return nil, true, authError("clientId %q is not the token's tenant", clientID)
	}
	if err := c.countConnection(principal); err != nil {
		return nil, true, err
	}
	if err := c.cs.svc.EnsureUser(ctx, principal); err != nil {
		return nil, true, err
	}
	if _, err := c.Authenticate(principal); err != nil {
		return nil, false, authError("%s", switchboard.ErrorMessage(err))
	}
	c.CountPresence()
	c.s.Join(socket.Room(switchboard.ChatUserRoom(principal.Tenant, principal.ID)))
	me, err := c.cs.svc.Me(ctx, c.caller())
	return me, false, err
}

// checkIdentity refuses a payload naming another clientId or username
// than the socket's.
func (c *conn) checkIdentity(p body) error {
	caller := c.caller()
	lim := c.cs.opts.Limits
	clientID, err := p.str("clientId", false, lim.MaxName)
	if err != nil {
		return err
	}
	username, err := p.str("username", false, lim.MaxName)
	if err != nil {
		return err
	}
	if clientID != "" && clientID != caller.Tenant() {
		return authError("clientId %q is not this socket's", clientID)
	}
	if username != "" && !caller.Principal.Names(username) {
		return authError("username %q is not this socket's", username)
	}
	return nil
}

// close releases the socket's timers, slot and presence on disconnect.
func (c *conn) close() { c.Close() }

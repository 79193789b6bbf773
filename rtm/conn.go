package rtm

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/sockets"
)

// conn is one RTM socket: the identity and lifetime every binding's
// sockets share (sockets.Conn) and its WebSocket. Its reader runs its
// commands one at a time; its writer alone writes data frames and pings.
type conn struct {
	sockets.Conn
	s     *Server
	ws    *websocket.Conn
	id    string   // as Caller.Socket: an event's ExceptSocket names it
	rooms []string // the rooms it is in, once authenticated (under s.mu)

	out      chan []byte
	unsent   atomic.Int32 // frames queued and not yet written
	done     chan struct{}
	closing  sync.Once
	ponged   atomic.Bool
	userOnce atomic.Value // string: the user id, once authenticated
}

// sendQueue is how many frames a socket may have waiting: a client that
// reads slower than its events come is closed, not buffered for.
const sendQueue = 256

// writeWait bounds one write to the socket.
const writeWait = 10 * time.Second

func newConn(s *Server, ws *websocket.Conn) *conn {
	c := &conn{s: s, ws: ws, id: "rtm:" + chat.NewID(), out: make(chan []byte, sendQueue), done: make(chan struct{})}
	c.ponged.Store(true)
	c.Start(&s.sockets, c)
	return c
}

func (c *conn) userID() string {
	id, _ := c.userOnce.Load().(string)
	return id
}

func (c *conn) caller() switchboard.Caller {
	return switchboard.CallerOf(c.Principal(), c.id)
}

// GraceOver closes a socket that sent no good ws_auth in time.
func (c *conn) GraceOver() {
	go c.closeWith(websocket.ClosePolicyViolation, "ws_auth must come first")
}

// TokenExpired closes the socket: it lives as long as the access token
// its socket token stood for; the client connects again.
func (c *conn) TokenExpired(switchboard.Principal) {
	go c.closeWith(websocket.ClosePolicyViolation, switchboard.ETOKENEXPIRED+": the access token expired")
}

// send queues one frame; a socket whose queue is full is closed.
func (c *conn) send(f frame) {
	b, err := json.Marshal(f)
	if err != nil {
		c.s.log.Error("rtm frame", "event", f.Event, "err", err)
		return
	}
	c.unsent.Add(1)
	select {
	case c.out <- b:
	case <-c.done:
		c.unsent.Add(-1)
	default:
		c.unsent.Add(-1)
		go c.closeWith(websocket.ClosePolicyViolation, "too slow: events were not read")
	}
}

// closeWith sends a close frame with code and reason, then closes the
// connection (which ends the reader). Only the first call does anything.
func (c *conn) closeWith(code int, reason string) {
	c.closing.Do(func() {
		if len(reason) > 120 { // a close frame's reason has 123 bytes
			reason = reason[:120]
		}
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		_ = c.ws.Close()
	})
}

// readLoop reads and runs the client's commands until the connection
// ends, then gives back what the socket held.
func (c *conn) readLoop() {
	c.s.add(c)
	defer func() {
		c.closeWith(websocket.CloseNormalClosure, "")
		c.s.remove(c)
		c.Close()
		close(c.done)
	}()
	c.ws.SetReadLimit(c.s.opts.MaxFrameBytes)
	c.ws.SetPongHandler(func(string) error {
		c.ponged.Store(true)
		return nil
	})
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(websocket.CloseMessageTooBig, "frame too large")
			}
			return
		}
		if kind != websocket.TextMessage {
			c.closeWith(websocket.CloseUnsupportedData, "frames are JSON text")
			return
		}
		if code, reason := c.run(data); code != 0 {
			c.drain(time.Second)
			c.closeWith(code, reason)
			return
		}
	}
}

// drain waits up to wait for the writer to have written the queued
// frames (an error frame that tells why the socket is about to close).
func (c *conn) drain(wait time.Duration) {
	for deadline := time.Now().Add(wait); c.unsent.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

// writeLoop writes queued frames and pings every PingInterval; a socket
// whose pong to the previous ping has not come is closed.
func (c *conn) writeLoop() {
	ping := time.NewTicker(c.s.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			err := c.ws.WriteMessage(websocket.TextMessage, b)
			c.unsent.Add(-1)
			if err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-ping.C:
			if !c.ponged.Swap(false) {
				c.closeWith(websocket.ClosePolicyViolation, "no pong to the last ping")
				return
			}
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		}
	}
}

// authenticate takes the socket token of ws_auth and makes the socket
// its principal's: it joins the user's room, counts for presence and
// hears user.online about itself (the handshake's last frame).
func (c *conn) authenticate(ctx context.Context, token string) error {
	p, err := c.s.tokens.Take(ctx, token)
	if err != nil {
		return err
	}
	if err := c.HoldSlot(p); err != nil {
		return err
	}
	if err := c.s.svc.EnsureUser(ctx, p); err != nil {
		return err
	}
	if _, err := c.Authenticate(p); err != nil {
		return err
	}
	c.userOnce.Store(p.ID)
	c.CountPresence()
	rooms := []string{switchboard.ChatUserRoom(p.Tenant, p.ID)}
	if p.IsOperator() {
		rooms = append(rooms, switchboard.OperatorRoom(p.Tenant, p.ID)) // alerts are an operator's
	}
	c.s.join(c, rooms...)
	me, err := c.s.svc.Me(ctx, c.caller())
	if err != nil {
		return err
	}
	c.send(newFrame("user.online", map[string]any{"user": userOf(me)}))
	return nil
}

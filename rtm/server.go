// Package rtm is the third binding of Switchboard's services: the AirSend
// realtime messages over a plain WebSocket (docs/rtm.md), for clients
// that cannot or will not run a Socket.IO library. It has no business
// rule of its own: its commands call the chat service the chat protocol
// calls, and what it sends are the committed chat-protocol events,
// translated (frames.go). Messages are posted over REST, as in the
// source.
package rtm

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
	"github.com/switchboard-chat/switchboard/internal/sockets"
	"github.com/switchboard-chat/switchboard/metrics"
)

// Options configures the binding. Zero values work.
type Options struct {
	// Options.AuthGrace bounds the wait for ws_auth; TypingInterval
	// throttles ws_ephemeral_typing.
	fanout.Options
	// Limiter, when set, bounds each principal's sockets and commands
	// (shared with the Socket.IO bindings).
	Limiter *limiter.Limiter
	// MaxFrameBytes bounds a client frame (default 64 KiB: a command is
	// a few ids).
	MaxFrameBytes int64
	// PingInterval is the time between pings (default 25 s, the source's);
	// a socket whose pong has not come by the next ping is closed.
	PingInterval time.Duration
}

func (o Options) withDefaults() Options {
	o.Options = o.Options.WithDefaults()
	if o.MaxFrameBytes <= 0 {
		o.MaxFrameBytes = 64 << 10
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	return o
}

// Server serves the RTM endpoint: it upgrades requests to WebSocket
// connections, runs their commands and sends them the events of their
// users' rooms.
type Server struct {
	svc      *chat.Service
	tokens   *Tokens
	opts     Options
	sockets  sockets.Settings
	log      *slog.Logger
	upgrader websocket.Upgrader
	metrics  *metrics.Protocol

	mu sync.RWMutex
	// rooms are the rooms RTM sockets are in: their user's chat-protocol
	// room, and an operator's livechat room (its alerts).
	rooms map[string]map[*conn]struct{}
	all   map[*conn]struct{}
}

// ProtocolRTM names the binding in metrics.
const ProtocolRTM = "rtm"

// NewServer returns the binding; serve it at Path.
func NewServer(svc *chat.Service, tokens *Tokens, opts Options) *Server {
	opts = opts.withDefaults()
	m := opts.Metrics.Protocol(ProtocolRTM, commandNames())
	s := &Server{svc: svc, tokens: tokens, opts: opts, log: opts.Logger, metrics: m,
		rooms: map[string]map[*conn]struct{}{}, all: map[*conn]struct{}{},
		sockets: sockets.Settings{AuthGrace: opts.AuthGrace, TypingInterval: opts.TypingInterval,
			Limiter: opts.Limiter, Presence: svc.Presence(), Metrics: m}}
	// Bearer tokens, not cookies, authenticate (as the Socket.IO
	// bindings, whose CORS origin is "*"): any page may connect.
	s.upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096,
		CheckOrigin: func(*http.Request) bool { return true }}
	return s
}

// Serve upgrades the request from the client address ip and runs the
// connection until it ends. An address over its connection limit (the
// one the Socket.IO bindings count against) is refused before the
// upgrade.
func (s *Server) Serve(w http.ResponseWriter, r *http.Request, ip string) {
	if lim := s.opts.Limiter; lim != nil {
		release, err := lim.ConnectIP(ip)
		if err != nil {
			_ = switchboard.WriteHTTPError(w, err)
			return
		}
		defer release()
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the request
	}
	c := newConn(s, ws)
	go c.writeLoop()
	c.readLoop()
}

// Publish sends the chat protocol's committed events, translated, to the
// RTM sockets of their rooms, in order. It runs on the Committer's
// publishing goroutine: it only queues frames.
func (s *Server) Publish(events []switchboard.Event) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.all) == 0 {
		return
	}
	for _, ev := range events {
		if ev.Protocol == switchboard.ProtocolLivechat && ev.Name == alertEvent {
			for _, c := range s.audience(ev) {
				for _, f := range alertFrames(ev) {
					c.send(f)
					s.metrics.EventOut(f.Event)
				}
			}
			continue
		}
		if ev.Protocol != switchboard.ProtocolChat {
			continue
		}
		if ev.Name == switchboard.EventDisconnect {
			s.disconnect(ev.To)
			continue
		}
		for _, c := range s.audience(ev) {
			for _, f := range framesOf(ev, c.userID()) {
				c.send(f)
				s.metrics.EventOut(f.Event)
			}
		}
	}
}

// Hears says whether ev (its protocol, name and rooms; its arguments are
// not read) is one Publish would send to an RTM socket of this server. A
// cluster's bus reads an event committed on another node back from its
// packet, for Publish, only when it is.
func (s *Server) Hears(ev switchboard.Event) bool {
	if ev.Protocol != switchboard.ProtocolChat && (ev.Protocol != switchboard.ProtocolLivechat || ev.Name != alertEvent) {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range ev.To {
		if len(s.rooms[r]) > 0 {
			return true
		}
	}
	return false
}

// audience is the sockets of ev's rooms, each once, but the one it came
// from. Callers hold mu.
func (s *Server) audience(ev switchboard.Event) []*conn {
	var out []*conn
	var seen map[*conn]bool
	for _, r := range ev.To {
		for c := range s.rooms[r] {
			if c.id == ev.ExceptSocket {
				continue
			}
			if len(ev.To) > 1 {
				if seen == nil {
					seen = map[*conn]bool{}
				}
				if seen[c] {
					continue
				}
				seen[c] = true
			}
			out = append(out, c)
		}
	}
	return out
}

// disconnect closes the sockets of rooms (switchboard.EventDisconnect).
// Callers hold mu.
func (s *Server) disconnect(rooms []string) {
	for _, r := range rooms {
		for c := range s.rooms[r] {
			go c.closeWith(websocket.ClosePolicyViolation, "signed out")
		}
	}
}

func (s *Server) join(c *conn, rooms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, room := range rooms {
		if s.rooms[room] == nil {
			s.rooms[room] = map[*conn]struct{}{}
		}
		s.rooms[room][c] = struct{}{}
	}
	c.rooms = append(c.rooms, rooms...)
}

func (s *Server) add(c *conn) {
	s.mu.Lock()
	s.all[c] = struct{}{}
	s.mu.Unlock()
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.all, c)
	for _, room := range c.rooms {
		if set := s.rooms[room]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(s.rooms, room)
			}
		}
	}
}

// CloseAll closes every RTM socket (shutdown): clients reconnect to the
// next server.
func (s *Server) CloseAll() {
	s.mu.RLock()
	conns := make([]*conn, 0, len(s.all))
	for c := range s.all {
		conns = append(conns, c)
	}
	s.mu.RUnlock()
	for _, c := range conns {
		c.closeWith(websocket.CloseGoingAway, "server shutting down")
	}
}

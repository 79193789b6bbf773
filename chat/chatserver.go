package chat

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
	"github.com/switchboard-chat/switchboard/internal/sockets"
	"github.com/switchboard-chat/switchboard/metrics"
)

// ProtocolVersion is what serverReady reports as the chat server's
// version.
const ProtocolVersion = "switchboard-chat/1"

// TokenVerifier turns an access token into a principal.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (switchboard.Principal, error)
}

// ChatServerOptions configures the chat protocol binding. Zero values
// work.
type ChatServerOptions struct {
	// Options.AuthGrace bounds the wait for a successful clientReady;
	// Options.TypingInterval throttles TYPING (STOPPED_TYPING always goes).
	fanout.Options
	Limits Limits
	// Limiter, when set, rate-limits each principal's events and bounds
	// its sockets (shared with the livechat binding).
	Limiter *limiter.Limiter
}

// ChatServer binds the chat protocol (spec/chat.md) to a Socket.IO
// namespace: it decodes each event, hands it to the Service, answers with
// the event's response event and fans the Service's events out to rooms.
type ChatServer struct {
	svc      *Service
	verifier TokenVerifier
	opts     ChatServerOptions
	sockets  sockets.Settings // every socket's, from opts
	log      *slog.Logger
	nsp      socket.Namespace
	metrics  *metrics.Protocol
}

// NewChatServer returns the binding; Attach it to a server.
func NewChatServer(svc *Service, verifier TokenVerifier, opts ChatServerOptions) *ChatServer {
	opts.Options = opts.Options.WithDefaults()
	opts.Limits = opts.Limits.WithDefaults()
	m := opts.Metrics.Protocol(switchboard.ProtocolChat, slices.Collect(maps.Keys(chatEvents)))
	return &ChatServer{svc: svc, verifier: verifier, opts: opts, log: opts.Logger, metrics: m,
		sockets: sockets.Settings{AuthGrace: opts.AuthGrace, TypingInterval: opts.TypingInterval,
			Limiter: opts.Limiter, Presence: svc.Presence(), Metrics: m}}
}

// Attach serves the protocol on io's default namespace.
func (cs *ChatServer) Attach(io *socket.Server) {
	cs.nsp = fanout.OnConnection(io, cs.accept)
}

// Delivery is where this binding's events go on this node: its namespace
// and its metrics, for a cluster's bus to deliver to (internal/cluster).
func (cs *ChatServer) Delivery() (socket.Namespace, *metrics.Protocol) { return cs.nsp, cs.metrics }

// Publish delivers the chat protocol's events to their rooms, in order;
// events of other protocols are not its to send.
func (cs *ChatServer) Publish(events []switchboard.Event) {
	fanout.Publish(cs.nsp, switchboard.ProtocolChat, events, cs.metrics)
}

// emitTo sends one event to one socket from any goroutine.
func (cs *ChatServer) emitTo(s *socket.Socket, name string, args ...any) {
	fanout.EmitTo(cs.nsp, s, name, args...)
	cs.metrics.EventOut(name)
}

// accept sets up a new socket: serverReady, the grace timer and the one
// dispatcher for every event.
func (cs *ChatServer) accept(s *socket.Socket) {
	c := newConn(cs, s)
	// One catch-all listener, run in the socket's queue after this handler
	// (see tickets.Livechat.accept).
	s.OnAny(func(a ...any) {
		name, _ := a[0].(string)
		c.dispatch(name, a[1:])
	})
	s.On("disconnect", func(...any) { c.close() })
	// The chat protocol authenticates by event, never from the handshake:
	// release it and the request (third_party/socket.io/PATCHES.md).
	s.ReleaseHandshake()
	_ = s.Emit("serverReady", Envelope(map[string]any{"version": ProtocolVersion}))
	cs.metrics.EventOut("serverReady")
}

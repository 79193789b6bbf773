package tickets

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
	"github.com/switchboard-chat/switchboard/internal/sockets"
	"github.com/switchboard-chat/switchboard/metrics"
	"github.com/switchboard-chat/switchboard/operators"
)

// TokenVerifier turns an access token into a principal.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (switchboard.Principal, error)
}

// LivechatOptions configures the livechat protocol binding. Zero values
// work.
type LivechatOptions struct {
	fanout.Options
	Limits Limits
	// Sockets, when set, hears of every authenticated socket and its end:
	// the presence both protocols share.
	Sockets SocketPresence
	// Publisher, when set, delivers the events this binding makes itself
	// (typing), which may be for both protocols (default: this binding's
	// Publish, which sends only livechat events).
	Publisher switchboard.Publisher
	// Limiter, when set, rate-limits each principal's events and bounds
	// its sockets (shared with the chat protocol's binding).
	Limiter *limiter.Limiter
}

// SocketPresence counts users' live sockets (chat.Presence).
type SocketPresence = sockets.Presence

// Livechat binds the livechat protocol (spec/livechat.md) to a Socket.IO
// namespace: it decodes each event, hands it to the Service, acks with the
// outcome, and fans the Service's events out to rooms.
type Livechat struct {
	svc      *Service
	verifier TokenVerifier
	presence *operators.Presence
	opts     LivechatOptions
	sockets  sockets.Settings // every socket's, from opts
	log      *slog.Logger
	nsp      socket.Namespace
	metrics  *metrics.Protocol
}

// NewLivechat returns the binding; Attach it to a server.
func NewLivechat(svc *Service, verifier TokenVerifier, presence *operators.Presence, opts LivechatOptions) *Livechat {
	opts.Options = opts.Options.WithDefaults()
	opts.Limits = opts.Limits.WithDefaults()
	if presence == nil {
		presence = &operators.Presence{}
	}
	// The livechat protocol is the unnamed one in events (ProtocolLivechat
	// is ""): its series are labelled livechat.
	m := opts.Metrics.Protocol("livechat", slices.Collect(maps.Keys(handlers)))
	return &Livechat{svc: svc, verifier: verifier, presence: presence, opts: opts, log: opts.Logger, metrics: m,
		sockets: sockets.Settings{AuthGrace: opts.AuthGrace, TypingInterval: opts.TypingInterval,
			Limiter: opts.Limiter, Presence: opts.Sockets, Metrics: m}}
}

// Attach serves the protocol on io's default namespace.
func (l *Livechat) Attach(io *socket.Server) {
	l.nsp = fanout.OnConnection(io, l.accept)
}

// Delivery is where this binding's events go on this node: its namespace
// and its metrics, for a cluster's bus to deliver to (internal/cluster).
func (l *Livechat) Delivery() (socket.Namespace, *metrics.Protocol) { return l.nsp, l.metrics }

// Publish delivers events to their rooms, in order. It is the Committer's
// publisher for this protocol.
func (l *Livechat) Publish(events []switchboard.Event) {
	fanout.Publish(l.nsp, switchboard.ProtocolLivechat, events, l.metrics)
}

// publish delivers events the binding makes itself.
func (l *Livechat) publish(events []switchboard.Event) {
	if l.opts.Publisher != nil {
		l.opts.Publisher.Publish(events)
		return
	}
	l.Publish(events)
}

// emitTo sends one event to one socket from any goroutine (a socket's own
// emit modifiers are not safe across goroutines; a room broadcast is).
func (l *Livechat) emitTo(s *socket.Socket, name string, args ...any) {
	fanout.EmitTo(l.nsp, s, name, args...)
	l.metrics.EventOut(name)
}

// accept sets up a new socket: the grace timer, handshake auth and the
// one dispatcher for every event.
func (l *Livechat) accept(s *socket.Socket) {
	c := newConn(l, s)
	// One catch-all listener for every event, known or not. The library
	// hands each packet to the socket's task queue, where this handler
	// runs too, so an event sent the instant the client sees CONNECT waits
	// for it (servers/socket Client.ondecoded). One listener rather than
	// one per event name: less memory per connection (item 13 of
	// docs/performance-journal.md).
	s.OnAny(func(a ...any) { c.dispatch(a) })
	s.On("disconnect", func(...any) { c.close() })
	token := handshakeToken(s)
	// Nothing reads the handshake or the request after this: release them
	// (the request, its headers and query, the auth with its token) rather
	// than keep them for the socket's life (third_party/socket.io/PATCHES.md).
	s.ReleaseHandshake()
	if token != "" {
		c.authenticate(token, nil)
	}
}

func handshakeToken(s *socket.Socket) string {
	auth := s.Handshake().Auth
	for _, k := range []string{"accessToken", "token"} {
		if t, ok := auth[k].(string); ok && t != "" {
			return t
		}
	}
	return ""
}

// reply returns the function that answers one event: through its ack when
// the client gave one, else only to the log (there is nowhere to report).
// The time from arrival to ack goes to the metrics.
func (l *Livechat) reply(event string, ack socket.Ack) func(error) {
	arrived := time.Now()
	return func(err error) {
		code := switchboard.ErrorCode(err)
		if code == switchboard.EINTERNAL {
			l.log.Error("event failed", "event", event, "err", err)
		}
		if ack == nil {
			if err != nil {
				l.log.Debug("event refused (no ack to report it)", "event", event, "code", code, "err", err)
			}
			return
		}
		if err == nil {
			ack([]any{nil}, nil)
		} else {
			ack([]any{map[string]any{"code": code, "message": switchboard.ErrorMessage(err)}}, nil)
		}
		l.metrics.Acked(arrived)
	}
}

// principalWire is the authenticated event's principal object.
func principalWire(p switchboard.Principal) map[string]any {
	w := map[string]any{
		"userId":    p.ID,
		"displayNm": p.DisplayName,
		"roles":     []any{string(p.Role)},
		"expiresAt": p.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if p.ProgramID != "" {
		w["programId"] = p.ProgramID
	}
	return w
}

func errorWire(err error) map[string]any {
	return map[string]any{"code": switchboard.ErrorCode(err), "message": switchboard.ErrorMessage(err)}
}

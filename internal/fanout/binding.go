package fanout

import (
	"log/slog"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard/metrics"
)

// Options are the settings both protocol bindings share.
type Options struct {
	// AuthGrace is how long a socket may stay unauthenticated (default 10s).
	AuthGrace time.Duration
	// TypingInterval is the least time between two relayed typing notices
	// of one socket in one conversation (default 1s).
	TypingInterval time.Duration
	Logger         *slog.Logger
	// Metrics, when set, counts each binding's sockets, events and acks
	// (its Protocol share).
	Metrics *metrics.Metrics
}

// WithDefaults fills in what o leaves unset.
func (o Options) WithDefaults() Options {
	if o.AuthGrace <= 0 {
		o.AuthGrace = 10 * time.Second
	}
	if o.TypingInterval <= 0 {
		o.TypingInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Throttle lets one notice per key through per interval: a socket's typing
// notices, one key per conversation.
type Throttle struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

// NewThrottle returns a Throttle letting one notice per key through every
// interval.
func NewThrottle(every time.Duration) *Throttle {
	return &Throttle{every: every} // its map is made by the first notice
}

// Allow reports whether a notice for key may go now, and records it if so.
func (t *Throttle) Allow(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if last, ok := t.last[key]; ok && now.Sub(last) < t.every {
		return false
	}
	if len(t.last) > 1000 { // a client typing into very many conversations
		clear(t.last)
	}
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	t.last[key] = now
	return true
}

// CutOff disconnects a socket cut off for abuse and closes its transport
// once what was sent to it (the refusal, the DISCONNECT) is written: the
// DISCONNECT tells a well-behaved client not to reconnect at once, and
// closing at once spares decoding what an abuser had queued meanwhile.
func CutOff(s *socket.Socket) {
	conn := s.Conn()
	s.Disconnect(false)
	conn.Close(false)
}

// Refuse disconnects a socket refused at authentication. Its transport is
// closed a little later, for a client that ignores the DISCONNECT: during
// the handshake the CONNECT, the refusal and the DISCONNECT may not be
// queued yet when this returns.
func Refuse(s *socket.Socket) {
	conn := s.Conn()
	s.Disconnect(false)
	time.AfterFunc(time.Second, func() { conn.Close(false) })
}

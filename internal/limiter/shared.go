package limiter

import (
	"time"

	"golang.org/x/time/rate"
)

// In a cluster a principal's sockets may be on several nodes, each with
// its own buckets. Asking Redis at every event would put a round trip on
// the message path (a few hundred microseconds, more than the rest of a
// message's server CPU); instead each node keeps deciding alone from its
// local buckets, counts what they gave (TrackUsage), and every fraction
// of a second hands its counts to the cluster (TakeUsage) and is charged
// what the principal's sockets took on the other nodes (Charge), which
// the local buckets owe from then on. A principal spread over k nodes
// gets at most k bursts and one sync interval's rate more than on one
// node, and the same sustained rate.

// Usage is what one bucket key's buckets gave: events and messages.
type Usage struct{ Events, Messages int64 }

// TrackUsage makes the limiter count what its buckets give, per key, for
// TakeUsage. Call it before the first event.
func (l *Limiter) TrackUsage() {
	l.mu.Lock()
	l.usage = map[string]Usage{}
	l.mu.Unlock()
}

// TakeUsage returns what the buckets gave since the last call, per bucket
// key, and starts counting afresh.
func (l *Limiter) TakeUsage() map[string]Usage {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.usage
	if len(u) == 0 {
		return nil
	}
	l.usage = map[string]Usage{}
	return u
}

// Charge takes from key's buckets, if this node holds them, what the
// principal's sockets took on other nodes. The buckets may go into debt
// (up to a burst): the next events here wait until it is paid back.
func (l *Limiter) Charge(key string, u Usage) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return // idle here: nothing to decide for it
	}
	owe(b.events, now, u.Events)
	owe(b.messages, now, u.Messages)
}

// owe takes n tokens from b at now, below zero if need be, but not
// much more than one burst below.
func owe(b *rate.Limiter, now time.Time, n int64) {
	if b.Limit() == rate.Inf {
		return
	}
	burst := int64(b.Burst())
	for n > 0 && b.TokensAt(now) > -float64(burst) {
		k := min(n, burst)
		b.ReserveN(now, int(k)) // kept: the tokens are spent
		n -= k
	}
}

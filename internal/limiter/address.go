package limiter

import (
	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/metrics"
)

// AdmitAddress takes a token for one costly unauthenticated request (a new
// visitor) from the bucket of the client address ip, or returns a
// RATE_LIMITED error. The bucket lives beside the principals' and is
// swept with them once full again.
func (l *Limiter) AdmitAddress(ip string) error {
	o := l.opts
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	key := "address\x00" + ip
	b := l.buckets[key]
	if b == nil {
		b = &bucket{messages: newBucket(-1, 1, 1), events: newBucket(o.AddressRate, o.AddressBurst, 1)}
		l.buckets[key] = b
	}
	if !hasToken(b.events, now) {
		o.Metrics.RateLimited(metrics.ProtocolREST, metrics.KindAddress)
		return switchboard.Errorf(switchboard.ERATELIMITED,
			"too many new visitors from this address: at most %g per second (%d at once); try again shortly",
			o.AddressRate, o.AddressBurst)
	}
	b.events.AllowN(now, 1)
	return nil
}

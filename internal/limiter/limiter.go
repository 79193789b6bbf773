// Package limiter keeps one client from taking what others need: token
// buckets per principal for messages and for all events, shared by a
// principal's sockets on both protocols; the refusals after which a
// socket is cut off; connections per client address and per principal;
// concurrent REST requests per principal. It decides nothing about who
// may do what; the services do.
package limiter

import (
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/metrics"
)

// Options configures a Limiter. Zero values take the defaults.
type Options struct {
	// MessageRate and MessageBurst bound the messages (livechat
	// updateMessage, chat sendMsg and editMsg) of one principal, per
	// second and at once. A negative rate is no limit.
	MessageRate  float64
	MessageBurst int
	// EventRate and EventBurst bound every event of one principal,
	// messages included.
	EventRate  float64
	EventBurst int
	// ProgramScale multiplies the rates and bursts of a program, whose end
	// users all count against it.
	ProgramScale float64
	// PerEndUser also limits each end user of a program by its scoped id,
	// at the rates of a user, so that one of them cannot use up the
	// program's bucket alone.
	PerEndUser bool
	// AbuseRefusals refusals of one socket within AbuseWindow cut the
	// socket off, and the principal's new sockets are refused for
	// AbuseWindow after (an abuser that reconnects at once gets nowhere);
	// AbuseWindow is also the least time between two userChatRateLimited
	// events of one principal.
	AbuseRefusals int
	AbuseWindow   time.Duration
	// MaxConnsPerIP and MaxConnsPerPrincipal bound the Socket.IO
	// connections of one client address and of one principal, across
	// both protocols; MaxRequests the concurrent REST requests of one
	// principal. Negative: no limit.
	MaxConnsPerIP        int
	MaxConnsPerPrincipal int
	MaxRequests          int
	// AddressRate and AddressBurst bound what one client address may ask
	// for without a token when each request costs the server a lasting
	// row (a new visitor), per second and at once (AdmitAddress).
	// Negative: no limit.
	AddressRate  float64
	AddressBurst int
	// Publisher receives the stream events userChatRateLimited and
	// userDisconnected (switchboard.ProtocolStream).
	Publisher switchboard.Publisher
	Logger    *slog.Logger
	// Metrics, when set, counts the refusals of connections per address
	// and of REST requests (the bindings count their own).
	Metrics *metrics.Metrics
}

// Defaults: a chat's pace, with room for a burst of pasted lines.
const (
	DefaultMessageRate          = 10
	DefaultMessageBurst         = 30
	DefaultEventRate            = 50
	DefaultEventBurst           = 100
	DefaultProgramScale         = 10
	DefaultAbuseRefusals        = 50
	DefaultAbuseWindow          = 10 * time.Second
	DefaultMaxConnsPerIP        = 64
	DefaultMaxConnsPerPrincipal = 32
	DefaultMaxRequests          = 8
	// A new visitor every five seconds per address, twenty at once: an
	// office behind one address opens chats; a script minting visitors
	// does not get far.
	DefaultAddressRate  = 0.2
	DefaultAddressBurst = 20
)

// WithDefaults fills in what o leaves unset.
func (o Options) WithDefaults() Options {
	setF := func(p *float64, def float64) {
		if *p == 0 {
			*p = def
		}
	}
	setI := func(p *int, def int) {
		if *p == 0 {
			*p = def
		}
	}
	setF(&o.MessageRate, DefaultMessageRate)
	setI(&o.MessageBurst, DefaultMessageBurst)
	setF(&o.EventRate, DefaultEventRate)
	setI(&o.EventBurst, DefaultEventBurst)
	setF(&o.ProgramScale, DefaultProgramScale)
	setI(&o.AbuseRefusals, DefaultAbuseRefusals)
	setI(&o.MaxConnsPerIP, DefaultMaxConnsPerIP)
	setI(&o.MaxConnsPerPrincipal, DefaultMaxConnsPerPrincipal)
	setI(&o.MaxRequests, DefaultMaxRequests)
	setF(&o.AddressRate, DefaultAddressRate)
	setI(&o.AddressBurst, DefaultAddressBurst)
	if o.AbuseWindow <= 0 {
		o.AbuseWindow = DefaultAbuseWindow
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Limiter holds the buckets, connection counts and request counts of
// every principal. It is safe for concurrent use; one serves both
// protocols and REST.
type Limiter struct {
	opts Options
	now  func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
	// usage, when tracked (a cluster's: shared.go), is what the buckets
	// gave since it was last taken, per key.
	usage map[string]Usage

	conns    counter // Socket.IO connections per client address and per principal
	requests counter // REST requests in flight per principal
}

// bucket is one principal's pair of token buckets. It is dropped once
// both are full again: a fresh one is the same.
type bucket struct {
	messages, events *rate.Limiter
	cutOff           time.Time // when a socket of the principal was last cut off
	reported         time.Time // the last userChatRateLimited
}

// New returns a Limiter.
func New(opts Options) *Limiter {
	opts = opts.WithDefaults()
	return &Limiter{opts: opts, now: time.Now, buckets: map[string]*bucket{},
		conns: counter{n: map[string]int{}}, requests: counter{n: map[string]int{}}}
}

// Options returns the settings in force.
func (l *Limiter) Options() Options { return l.opts }

// Kind is what an event costs.
type Kind int

const (
	// Event costs a token of the event bucket.
	Event Kind = iota
	// Message costs a token of both buckets.
	Message
)

// Who is the principal an event runs as, and the end user a program acts
// for (its scoped id), if any.
type Who struct {
	Principal switchboard.Principal
	EndUser   string
}

// keys are the buckets an event of w counts against: the principal's,
// and for a program's end user (with PerEndUser) the end user's too. They
// are written into ks, so that an event allocates no slice for them.
func (l *Limiter) keys(w Who, ks *[2]bucketKey) []bucketKey {
	p := w.Principal
	ks[0] = bucketKey{PrincipalKey(p), 1}
	if p.Role != switchboard.RoleProgram {
		return ks[:1]
	}
	ks[0].scale = l.opts.ProgramScale
	if !l.opts.PerEndUser || w.EndUser == "" {
		return ks[:1]
	}
	ks[1] = bucketKey{"user\x00" + p.Tenant + "\x00" + w.EndUser, 1}
	return ks[:2]
}

type bucketKey struct {
	key   string
	scale float64
}

// PrincipalKey names a principal across protocols: its tenant, role and
// id, with a separator that no claim carries.
func PrincipalKey(p switchboard.Principal) string {
	return string(p.Role) + "\x00" + p.Tenant + "\x00" + p.ID
}

// allow takes a token for an event of kind from each of w's buckets, or
// none: a refused event costs nothing, so an end user over its own limit
// does not use up its program's bucket. It reports the bucket that
// refused (empty when allowed) and whether the principal should be
// reported now (at most once per AbuseWindow).
func (l *Limiter) allow(w Who, kind Kind) (refused string, report bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var ks [2]bucketKey
	keys := l.keys(w, &ks)
	var buckets [2]*bucket
	// Every bucket is checked before any is charged: under mu nothing
	// else takes from them between the two passes.
	for i, k := range keys {
		b := l.bucket(k)
		buckets[i] = b
		switch {
		case !hasToken(b.events, now):
			refused = "events"
		case kind == Message && !hasToken(b.messages, now):
			refused = "messages"
		default:
			continue
		}
		report = now.Sub(b.reported) >= l.opts.AbuseWindow
		if report {
			b.reported = now
		}
		return refused, report
	}
	for _, b := range buckets[:len(keys)] {
		b.events.AllowN(now, 1)
		if kind == Message {
			b.messages.AllowN(now, 1)
		}
	}
	if l.usage != nil {
		for _, k := range keys {
			u := l.usage[k.key]
			u.Events++
			if kind == Message {
				u.Messages++
			}
			l.usage[k.key] = u
		}
	}
	return "", false
}

// hasToken reports whether b can give a token now.
func hasToken(b *rate.Limiter, now time.Time) bool {
	return b.Limit() == rate.Inf || b.TokensAt(now) >= 1
}

func (l *Limiter) bucket(k bucketKey) *bucket {
	b := l.buckets[k.key]
	if b == nil {
		o := l.opts
		b = &bucket{
			messages: newBucket(o.MessageRate, o.MessageBurst, k.scale),
			events:   newBucket(o.EventRate, o.EventBurst, k.scale)}
		l.buckets[k.key] = b
	}
	return b
}

// markCutOff records that a socket of w's principal was cut off now.
func (l *Limiter) markCutOff(w Who) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var ks [2]bucketKey
	l.bucket(l.keys(w, &ks)[0]).cutOff = now
}

// coolingDown reports how much longer p's new sockets are refused after
// one of its sockets was cut off (0: they are not).
func (l *Limiter) coolingDown(p switchboard.Principal) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[PrincipalKey(p)]
	if b == nil || b.cutOff.IsZero() {
		return 0
	}
	return max(0, l.opts.AbuseWindow-now.Sub(b.cutOff))
}

// newBucket is a token bucket of perSecond tokens a second, burst at
// once, both times scale; a negative rate is no limit.
func newBucket(perSecond float64, burst int, scale float64) *rate.Limiter {
	if perSecond < 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Limit(perSecond*scale), max(1, int(float64(burst)*scale)))
}

// sweep drops the buckets that are full again, at most once per
// sweepEvery: memory follows the principals active lately, not every
// principal ever seen. Caller holds mu.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if full(b.messages, now) && full(b.events, now) && now.Sub(b.reported) >= l.opts.AbuseWindow &&
			now.Sub(b.cutOff) >= l.opts.AbuseWindow {
			delete(l.buckets, k)
		}
	}
}

const sweepEvery = 30 * time.Second

// full reports whether b has every token back (an unlimited bucket always
// has).
func full(b *rate.Limiter, now time.Time) bool {
	return b.Limit() == rate.Inf || b.TokensAt(now) >= float64(b.Burst())
}

// Buckets is how many principals' buckets are held.
func (l *Limiter) Buckets() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Unknown is the event label of the client events a protocol does not
// know: a client cannot make a series per name it invents.
const Unknown = "unknown"

// maxEventsOut bounds the server event names counted one by one; the
// server names them, so this is a guard, not a limit met in practice.
const maxEventsOut = 200

// Rate-limited kinds: what was refused.
const (
	KindEvent      = "event"
	KindMessage    = "message"
	KindConnection = "connection"
	// KindRequest: a REST request over the principal's requests in
	// flight (protocol rest).
	KindRequest = "request"
	// KindAddress: a socket over the connections of one address
	// (protocol socket.io, both servers), or a new visitor over the
	// visitors of one address (protocol rest).
	KindAddress = "address"
)

// Protocols of the refusals that no binding counts.
const (
	ProtocolREST     = "rest"
	ProtocolSocketIO = "socket.io"
)

// RateLimited counts one refusal outside the bindings' events (the
// limiter's connection and request guards): rare, so its labels are
// resolved each time.
func (m *Metrics) RateLimited(protocol, kind string) {
	if m != nil {
		m.rateLimited.WithLabelValues(protocol, kind).Inc()
	}
}

// Protocol is one protocol binding's share of the metrics, its label
// children resolved once. Its methods are safe from any goroutine.
type Protocol struct {
	connections prometheus.Gauge
	in          map[string]prometheus.Counter // read-only after Protocol
	unknown     prometheus.Counter
	ack         prometheus.Observer
	limited     map[string]prometheus.Counter // read-only after Protocol

	outVec *prometheus.CounterVec
	name   string
	outMu  sync.Mutex                                    // serializes adding to out
	out    atomic.Pointer[map[string]prometheus.Counter] // copied on write
}

// Protocol returns the metrics of the binding of protocol (livechat,
// chat), whose client events are events: each gets its own series, any
// other name counts as Unknown.
func (m *Metrics) Protocol(protocol string, events []string) *Protocol {
	if m == nil {
		return nil
	}
	p := &Protocol{connections: m.connections.WithLabelValues(protocol),
		in: make(map[string]prometheus.Counter, len(events)), unknown: m.eventsIn.WithLabelValues(protocol, Unknown),
		ack: m.ack.WithLabelValues(protocol), limited: map[string]prometheus.Counter{},
		outVec: m.eventsOut, name: protocol}
	for _, e := range events {
		p.in[e] = m.eventsIn.WithLabelValues(protocol, e)
	}
	for _, k := range []string{KindEvent, KindMessage, KindConnection} {
		p.limited[k] = m.rateLimited.WithLabelValues(protocol, k)
	}
	p.out.Store(&map[string]prometheus.Counter{})
	return p
}

// Connected counts a socket that connected; Disconnected, one that left.
func (p *Protocol) Connected() {
	if p != nil {
		p.connections.Inc()
	}
}

// Disconnected: see Connected.
func (p *Protocol) Disconnected() {
	if p != nil {
		p.connections.Dec()
	}
}

// EventIn counts one client event.
func (p *Protocol) EventIn(name string) {
	if p == nil {
		return
	}
	if c, ok := p.in[name]; ok {
		c.Inc()
		return
	}
	p.unknown.Inc()
}

// EventOut counts one server event, whatever its audience.
func (p *Protocol) EventOut(name string) {
	if p == nil {
		return
	}
	if c, ok := (*p.out.Load())[name]; ok {
		c.Inc()
		return
	}
	p.addOut(name).Inc()
}

// addOut resolves the child of a server event name seen for the first
// time, past maxEventsOut names the one of "other".
func (p *Protocol) addOut(name string) prometheus.Counter {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	old := *p.out.Load()
	if c, ok := old[name]; ok {
		return c
	}
	label := name
	if len(old) >= maxEventsOut {
		label = "other"
	}
	c := p.outVec.WithLabelValues(p.name, label)
	next := make(map[string]prometheus.Counter, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	if label == name {
		next[name] = c
		p.out.Store(&next)
	}
	return c
}

// Acked records the time from an event's arrival (since) to its answer.
func (p *Protocol) Acked(since time.Time) {
	if p != nil {
		p.ack.Observe(time.Since(since).Seconds())
	}
}

// RateLimited counts one refusal of kind (KindEvent, KindMessage,
// KindConnection).
func (p *Protocol) RateLimited(kind string) {
	if p == nil {
		return
	}
	if c, ok := p.limited[kind]; ok {
		c.Inc()
	}
}

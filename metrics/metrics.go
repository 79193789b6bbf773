// Package metrics holds what Switchboard reports to Prometheus: one
// registry of its own (not the process-wide default, so that two servers
// in one process, as in tests, do not mix their counts) with the Go
// runtime's and the process's collectors beside Switchboard's series.
// docs/operations.md lists every series.
//
// A nil *Metrics or *Protocol counts nothing: packages take one as an
// option and need not check whether metrics are on. The hot paths (an
// event in, an event out, an ack) use label children resolved in advance,
// so counting allocates nothing.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every Switchboard series.
const namespace = "switchboard"

// Metrics is one server's collectors and the registry they are in.
type Metrics struct {
	reg         *prometheus.Registry
	connections *prometheus.GaugeVec
	eventsIn    *prometheus.CounterVec
	eventsOut   *prometheus.CounterVec
	ack         *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	commitOps   prometheus.Histogram
	commitTime  prometheus.Histogram
	deliveries  *prometheus.CounterVec
	delivered   prometheus.Counter
	failed      prometheus.Counter
	parked      prometheus.Gauge
}

// New makes the collectors and registers them, with the Go and process
// collectors, in a registry of their own.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "connections",
			Help: "Open Socket.IO connections, by protocol."}, []string{"protocol"}),
		eventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "events_in_total",
			Help: "Client events received, by protocol and event name (names the protocol does not know count as unknown)."},
			[]string{"protocol", "event"}),
		eventsOut: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "events_out_total",
			Help: "Server events emitted (once per event, whatever its audience), by protocol and event name."},
			[]string{"protocol", "event"}),
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "ack_seconds",
			Help:    "Time from receiving a client event to sending its answer, by protocol.",
			Buckets: latencyBuckets}, []string{"protocol"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "rate_limited_total",
			Help: "Client events and connections refused RATE_LIMITED, by protocol and kind (event, message, connection)."},
			[]string{"protocol", "kind"}),
		commitOps: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "commit_batch_ops",
			Help:    "Commands per group commit (one transaction, one sync).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "commit_seconds",
			Help:    "Time to run and commit one batch of commands.",
			Buckets: latencyBuckets}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "webhook_deliveries_total",
			Help: "Webhook delivery attempts, by result (ok: a 2xx answer; failed: anything else)."}, []string{"result"}),
		parked: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "webhook_parked_endpoints",
			Help: "Webhook endpoints parked after repeated failures (no deliveries until re-enabled)."}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.connections, m.eventsIn, m.eventsOut, m.ack, m.rateLimited, m.commitOps, m.commitTime,
		m.deliveries, m.parked)
	// Both results show from the start, so that a rate of failures is
	// zero rather than absent before the first one.
	m.delivered, m.failed = m.deliveries.WithLabelValues("ok"), m.deliveries.WithLabelValues("failed")
	return m
}

// latencyBuckets span a fast SQLite commit (well under a millisecond) to
// a stalled disk.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Handler serves the registry in Prometheus' text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveCommit records one batch of the write path: its commands and
// how long it took to run and commit them (database.CommitterOptions.Observe).
func (m *Metrics) ObserveCommit(ops int, took time.Duration) {
	if m == nil {
		return
	}
	m.commitOps.Observe(float64(ops))
	m.commitTime.Observe(took.Seconds())
}

// WebhookDelivered counts one webhook delivery attempt: ok is a 2xx
// answer, anything else (an error, a timeout, another status) failed.
func (m *Metrics) WebhookDelivered(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.delivered.Inc()
	} else {
		m.failed.Inc()
	}
}

// SetParked sets how many webhook endpoints are parked now.
func (m *Metrics) SetParked(n int) {
	if m == nil {
		return
	}
	m.parked.Set(float64(n))
}

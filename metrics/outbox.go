package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// OutboxLag is what the outbox has not yet published: its rows and the
// time the oldest of them was written (zero when there is none).
type OutboxLag struct {
	Pending int64
	Oldest  time.Time
}

// WatchOutbox reports the outbox's lag, read with lag at each scrape:
// two gauges, pending rows and the age of the oldest. Call it once, when
// the server has an event stream; a failing read reports neither.
func (m *Metrics) WatchOutbox(lag func() (OutboxLag, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(outboxCollector{lag: lag})
}

var (
	outboxPending = prometheus.NewDesc(namespace+"_outbox_pending",
		"Domain events written to the outbox and not yet published to the sink.", nil, nil)
	outboxAge = prometheus.NewDesc(namespace+"_outbox_oldest_age_seconds",
		"Age of the oldest unpublished outbox event (0 when none is pending).", nil, nil)
)

// outboxCollector reads the lag once per scrape for both gauges.
type outboxCollector struct{ lag func() (OutboxLag, error) }

func (outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPending
	ch <- outboxAge
}

func (o outboxCollector) Collect(ch chan<- prometheus.Metric) {
	lag, err := o.lag()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxPending, err)
		return
	}
	age := 0.0
	if !lag.Oldest.IsZero() {
		age = time.Since(lag.Oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(outboxPending, prometheus.GaugeValue, float64(lag.Pending))
	ch <- prometheus.MustNewConstMetric(outboxAge, prometheus.GaugeValue, age)
}

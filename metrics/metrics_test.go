package metrics

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Counting an event in or out, an ack or a commit allocates nothing: it
// is on every message's path.
func TestCountingDoesNotAllocate(t *testing.T) {
	m := New()
	p := m.Protocol("livechat", []string{"updateMessage"})
	p.EventOut("messageUpdated") // first sight resolves the child
	start := time.Now()
	allocs := testing.AllocsPerRun(1000, func() {
		p.EventIn("updateMessage")
		p.EventIn("made-up")
		p.EventOut("messageUpdated")
		p.Acked(start)
		p.RateLimited(KindMessage)
		m.ObserveCommit(3, time.Millisecond)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per message, want 0", allocs)
	}
}

// A client's invented event names all count as unknown, and server event
// names past the guard as other: no one can grow the series without end.
func TestEventNamesAreBounded(t *testing.T) {
	m := New()
	p := m.Protocol("chat", []string{"sendMsg"})
	for i := range 1000 {
		p.EventIn(fmt.Sprintf("invented-%d", i))
		p.EventOut(fmt.Sprintf("out-%d", i))
	}
	p.EventIn("sendMsg")
	in, out := gather(t, m, "switchboard_events_in_total"), gather(t, m, "switchboard_events_out_total")
	if len(in) != 2 || in["unknown"] != 1000 || in["sendMsg"] != 1 {
		t.Errorf("events in %v, want sendMsg 1 and unknown 1000", in)
	}
	if len(out) != maxEventsOut+1 || out["other"] != 1000-maxEventsOut {
		t.Errorf("%d series of events out (other: %v), want %d and other %d", len(out), out["other"], maxEventsOut, 1000-maxEventsOut)
	}
}

// Nil metrics count nothing and do not panic: packages take them as an
// option.
func TestNilCountsNothing(t *testing.T) {
	var m *Metrics
	p := m.Protocol("livechat", nil)
	p.Connected()
	p.Disconnected()
	p.EventIn("x")
	p.EventOut("x")
	p.Acked(time.Now())
	p.RateLimited(KindEvent)
	m.ObserveCommit(1, time.Second)
	m.WebhookDelivered(true)
	m.SetParked(2)
	m.WatchOutbox(func() (OutboxLag, error) { return OutboxLag{}, nil })
}

// The webhook API the delivery code calls shows in the exposition.
func TestWebhookSeries(t *testing.T) {
	m := New()
	m.WebhookDelivered(true)
	m.WebhookDelivered(false)
	m.WebhookDelivered(false)
	m.SetParked(3)
	m.WatchOutbox(func() (OutboxLag, error) { return OutboxLag{Pending: 4, Oldest: time.Now().Add(-time.Minute)}, nil })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`switchboard_webhook_deliveries_total{result="ok"} 1`,
		`switchboard_webhook_deliveries_total{result="failed"} 2`, "switchboard_webhook_parked_endpoints 3",
		"switchboard_outbox_pending 4", "switchboard_outbox_oldest_age_seconds 6"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}

// gather is the family name's counters by their event label.
func gather(t *testing.T, m *Metrics, name string) map[string]float64 {
	t.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			out[label(s, "event")] = s.GetCounter().GetValue()
		}
	}
	return out
}

func label(s *dto.Metric, name string) string {
	for _, l := range s.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func BenchmarkEventPath(b *testing.B) {
	m := New()
	p := m.Protocol("livechat", []string{"updateMessage"})
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		p.EventIn("updateMessage")
		p.EventOut("messageUpdated")
		p.Acked(start)
	}
}

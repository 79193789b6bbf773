package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchboard-chat/switchboard/internal/testnats"
)

// scrape reads n's /metrics as Prometheus does.
func scrape(t *testing.T, n *node) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(n.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("GET /metrics: %d %s", res.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

// sample is the metric of family name whose labels include labels, or
// nil.
func sample(families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		for k, v := range labels {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is a counter's or gauge's value, or a histogram's count; -1 when
// the series is missing.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := sample(families, name, labels)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// TestMetrics runs a small ticket flow on both protocols against a
// server with an event stream and tight message limits, and checks that
// /metrics reports every series of docs/operations.md with the values
// the flow implies.
func TestMetrics(t *testing.T) {
	url := testnats.URL(t)
	stream := strings.ToUpper(testnats.Unique("SBMETRICS_"))
	t.Cleanup(func() { deleteStream(t, url, stream) })
	cfg := testConfig(t, t.TempDir(), testEnv(map[string]string{"SWITCHBOARD_EVENTS_SINK": url,
		"SWITCHBOARD_EVENTS_NAMESPACE": testnats.Unique("sbmetrics-"), "SWITCHBOARD_EVENTS_STREAM": stream}))
	cfg.Limits.MaxConnsPerIP, cfg.Limits.MaxConnsPerPrincipal = -1, -1
	cfg.Limits.MessageBurst, cfg.Limits.MessageRate, cfg.Limits.AbuseRefusals = 2, 1, 1000
	n := runNode(t, cfg)

	op, opEv := livechatAs(t, n, n.token(t, "operator-1"))
	user, _ := livechatAs(t, n, n.token(t, "user-1"))
	chatAs(t, n, n.token(t, "user-2"))
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1"})
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketNm": "Printer"})
	opEv.next(t, "ticketCreated")
	mustAck(t, op, "acceptTicket", "t-1", map[string]any{}, "user-1")
	mustAck(t, user, "updateMessage", "t-1", "m-1", map[string]any{"content": "one", "type": 1}, "operator-1")
	// A flood: two messages at once are allowed, one a second after.
	limited := false
	for i := 2; i < 20 && !limited; i++ {
		code := errCode(emitAck(t, user, "updateMessage", "t-1", fmt.Sprintf("m-%d", i), map[string]any{"content": "more", "type": 1}, "operator-1"))
		if limited = code == "RATE_LIMITED"; code != "" && !limited {
			t.Fatalf("message %d: %s", i, code)
		}
	}
	if !limited {
		t.Fatal("no message of the flood was refused RATE_LIMITED")
	}
	if code := errCode(emitAck(t, user, "noSuchEvent-"+testnats.Unique(""))); code == "" {
		t.Fatal("an unknown event was accepted")
	}

	m := scrape(t, n)
	lc := map[string]string{"protocol": "livechat"}
	in := func(event string) map[string]string { return map[string]string{"protocol": "livechat", "event": event} }
	for _, c := range []struct {
		what      string
		got, want float64 // got ≥ want
	}{
		{"livechat connections", value(m, "switchboard_connections", lc), 2},
		{"chat connections", value(m, "switchboard_connections", map[string]string{"protocol": "chat"}), 1},
		{"createTicket in", value(m, "switchboard_events_in_total", in("createTicket")), 1},
		{"updateMessage in", value(m, "switchboard_events_in_total", in("updateMessage")), 3},
		{"unknown events in", value(m, "switchboard_events_in_total", in("unknown")), 1},
		{"clientReady in (chat)", value(m, "switchboard_events_in_total", map[string]string{"protocol": "chat", "event": "clientReady"}), 1},
		{"authenticated out", value(m, "switchboard_events_out_total", in("authenticated")), 2},
		{"ticketCreated out", value(m, "switchboard_events_out_total", in("ticketCreated")), 1},
		{"messageUpdated out", value(m, "switchboard_events_out_total", in("messageUpdated")), 1},
		{"serverReady out (chat)", value(m, "switchboard_events_out_total", map[string]string{"protocol": "chat", "event": "serverReady"}), 1},
		{"commit batches", value(m, "switchboard_commit_batch_ops", nil), 1},
		{"commit latencies", value(m, "switchboard_commit_seconds", nil), 1},
		{"livechat acks", value(m, "switchboard_ack_seconds", lc), 8},
		{"chat acks", value(m, "switchboard_ack_seconds", map[string]string{"protocol": "chat"}), 1},
		{"messages rate-limited", value(m, "switchboard_rate_limited_total", map[string]string{"protocol": "livechat", "kind": "message"}), 1},
		{"outbox pending", value(m, "switchboard_outbox_pending", nil), 0},
		{"outbox oldest age", value(m, "switchboard_outbox_oldest_age_seconds", nil), 0},
		{"webhook deliveries ok", value(m, "switchboard_webhook_deliveries_total", map[string]string{"result": "ok"}), 0},
		{"webhook deliveries failed", value(m, "switchboard_webhook_deliveries_total", map[string]string{"result": "failed"}), 0},
		{"webhook parked endpoints", value(m, "switchboard_webhook_parked_endpoints", nil), 0},
		{"Go goroutines", value(m, "go_goroutines", nil), 1},
	} {
		if c.got < c.want {
			t.Errorf("%s: %v, want at least %v (-1: missing)", c.what, c.got, c.want)
		}
	}
	if got := value(m, "switchboard_events_in_total", in("createTicket")); got != 1 {
		t.Errorf("createTicket counted %v times, want 1", got)
	}
	if h := sample(m, "switchboard_commit_batch_ops", nil).GetHistogram(); h.GetSampleSum() < float64(h.GetSampleCount()) {
		t.Errorf("commit batches: %d carrying %v ops, want at least one op each", h.GetSampleCount(), h.GetSampleSum())
	}
	if f := m["process_resident_memory_bytes"]; f == nil {
		t.Error("no process collector series")
	}

	// Every socket that leaves is counted out.
	op.Disconnect()
	user.Disconnect()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got := value(scrape(t, n), "switchboard_connections", lc)
		if got == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("livechat connections %v after every livechat socket left, want 0", got)
		}
	}
}

// deleteStream removes a test's JetStream stream (it runs after the
// node's cleanup, which stops the relay).
func deleteStream(t *testing.T, url, stream string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Log(err)
		return
	}
	defer nc.Close()
	if js, err := jetstream.New(nc); err == nil {
		_ = js.DeleteStream(context.Background(), stream)
	}
}

// Without an event stream there is no outbox to report.
func TestMetricsWithoutStream(t *testing.T) {
	n := startNode(t, t.TempDir())
	m := scrape(t, n)
	if m["switchboard_outbox_pending"] != nil {
		t.Error("outbox lag reported without an event stream")
	}
	if m["switchboard_commit_seconds"] == nil || m["switchboard_connections"] == nil {
		t.Errorf("series missing: %v", keys(m))
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines may log to at
// once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func keys(m map[string]*dto.MetricFamily) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// With SWITCHBOARD_LOG_FORMAT=json every log line is a JSON object with
// slog's time, level and msg; any other format than text or json is
// refused at start.
func TestLogFormatJSON(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), testEnv(map[string]string{"SWITCHBOARD_LOG_FORMAT": "json", "SWITCHBOARD_LOG_LEVEL": "debug"}))
	var buf syncBuffer
	a, err := New(cfg, NewLogger(&buf, cfg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	if res, err := http.Get("http://" + a.Addr() + "/healthz"); err == nil {
		res.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("nothing logged")
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %v\n%s", err, line)
		}
		if rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
			t.Fatalf("a log line without time, level or msg: %s", line)
		}
	}

	for _, format := range []string{"JSON", "logfmt", " "} {
		if _, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_LOG_FORMAT": format}), io.Discard); err == nil ||
			!strings.Contains(err.Error(), "SWITCHBOARD_LOG_FORMAT") {
			t.Errorf("SWITCHBOARD_LOG_FORMAT=%q: %v, want it refused", format, err)
		}
	}
	if cfg, err := Load("switchboard", nil, testEnv(nil), io.Discard); err != nil || cfg.LogFormat != LogText {
		t.Errorf("default log format %q (%v), want text", cfg.LogFormat, err)
	}
}

// Refused connections count as rate-limited: over a principal's sockets
// on its protocol, over an address's sockets on socket.io (before any
// protocol sees the socket, which never counts as connected).
func TestMetricsCountConnectionRefusals(t *testing.T) {
	n := startLimitedNode(t, func(l *Limits) { l.MaxConnsPerIP, l.MaxConnsPerPrincipal = 2, 1 })
	token := n.token(t, "user-1")
	livechatAs(t, n, token)
	second, ev := sockConnect(t, n, "", map[string]any{"accessToken": token})
	if a := awaitEvent(t, ev, "unauthenticated"); errCode(a[0]) != "RATE_LIMITED" {
		t.Fatalf("a second socket of user-1: unauthenticated %v, want RATE_LIMITED", a)
	}
	awaitDisconnect(t, second)
	chatAs(t, n, "")
	if err := connectError(t, n); !strings.Contains(err, "too many connections") {
		t.Fatalf("a third connection from 127.0.0.1: %q, want refused", err)
	}
	m := scrape(t, n)
	if got := value(m, "switchboard_rate_limited_total", map[string]string{"protocol": "livechat", "kind": "connection"}); got != 1 {
		t.Errorf("livechat connections refused: %v, want 1", got)
	}
	if got := value(m, "switchboard_rate_limited_total", map[string]string{"protocol": "socket.io", "kind": "address"}); got != 1 {
		t.Errorf("connections refused per address: %v, want 1", got)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		lc := value(scrape(t, n), "switchboard_connections", map[string]string{"protocol": "livechat"})
		if lc == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("livechat connections %v, want 1 (the refused ones closed or never opened)", lc)
		}
	}
}

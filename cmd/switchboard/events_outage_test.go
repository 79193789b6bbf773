package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// The outage test's load and timeline. The issue asks for a 60 s outage;
// the suite stops NATS for 10 s unless SWITCHBOARD_LONG_TESTS is set, so
// that it stays fast. The figures of both are in docs/events.md.
const (
	outageRate        = 500 // livechat messages a second, over all sessions
	outageSessions    = 10
	outageWarmup      = time.Second // not in the baseline: the first connections' and statements' costs
	outageBefore      = 10 * time.Second
	outageAfter       = 5 * time.Second
	outageShort       = 10 * time.Second
	outageLong        = 60 * time.Second
	outageAckFloor    = 50 * time.Millisecond // the p99 bound never goes below this
	outageWindow      = 5 * time.Second       // the p99 is compared window by window
	outageDrainBudget = 90 * time.Second      // the relay's pause grows to 30 s while the sink fails
)

func outageDuration() time.Duration {
	if os.Getenv("SWITCHBOARD_LONG_TESTS") != "" {
		return outageLong
	}
	return outageShort
}

// TestEventsSinkOutage, on SQLite and on PostgreSQL: the server binary with its events sink on a NATS
// server (nats-server -js, in a process of the test's own) takes 500
// livechat messages a second over 10 sessions (tickets of two users); NATS is stopped for
// outageDuration and started again on the same store. Every acked
// message's personalChatSent, and each session's ticket events, must
// then be in the stream exactly once (by Nats-Msg-Id), per session in
// commit order, on <namespace>.<eventName>, in the envelope of
// docs/events.md; and the acks' p99 during the outage at most twice the
// p99 with the sink up (or outageAckFloor, whichever is larger: on a
// loaded 2-core machine a p99 of a few milliseconds doubles by chance),
// compared as the median of the p99s of outageWindow windows, since the
// machine's other work makes single windows jump either way. The whole
// phases' p99s are logged.
func TestEventsSinkOutage(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			var database []string // SQLite: the server's default, a file in its directory
			if dialect == "postgres" {
				database = []string{"SWITCHBOARD_DATABASE=" + testdb.PostgresURL(t)}
			}
			eventsSinkOutage(t, database...)
		})
	}
}

func eventsSinkOutage(t *testing.T, database ...string) {
	ns := newNATSProcess(t)
	const namespace, stream = "sboutage", "SBOUTAGE"
	srv := startFloodServer(t, append([]string{"SWITCHBOARD_EVENTS_SINK=" + ns.url(), "SWITCHBOARD_EVENTS_NAMESPACE=" + namespace,
		"SWITCHBOARD_EVENTS_STREAM=" + stream, "SWITCHBOARD_RATE_MESSAGES=-1", "SWITCHBOARD_RATE_EVENTS=-1",
		"SWITCHBOARD_MAX_CONNS_PER_IP=-1", "SWITCHBOARD_MAX_CONNS_PER_PRINCIPAL=-1"}, database...)...)

	operators := []*floodSocket{srv.dial(t, "operator-1"), srv.dial(t, "operator-2")}
	load := &outageLoad{}
	for i := range outageSessions {
		// The development issuer has two users: each has several
		// tickets, each on a socket of its own.
		who := fmt.Sprintf("user-%d", i%2+1)
		op := operators[i%len(operators)]
		ticket := srv.openTicket(t, who, op)
		load.sessions = append(load.sessions, srv.outageSession(t, who, ticket, fmt.Sprintf("operator-%d", i%len(operators)+1)))
	}

	outage := outageDuration()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); load.run(stop) }()
	warm := time.Now().Add(outageWarmup)
	time.Sleep(outageWarmup + outageBefore)
	stopped := time.Now()
	ns.stop(t)
	time.Sleep(outage / 2)
	if r, err := http.Get(srv.base + "/readyz"); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("readyz while the sink is down: %v %v", r, err)
	} else {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		t.Logf("readyz while the sink is down:\n%s", body)
	}
	time.Sleep(outage - time.Since(stopped))
	restarted := time.Now()
	ns.start(t)
	time.Sleep(outageAfter)
	close(stop)
	<-done
	load.waitAcks(15 * time.Second)

	before, during, after, acked, failed, missing := load.phases(warm, stopped, restarted)
	t.Logf("%d msgs/s over %d sessions; NATS stopped for %v; ack p99 %v before (%d acks), %v during the outage (%d), %v after it (%d); "+
		"%d acked, %d failed, %d without an ack", outageRate, outageSessions, outage, p99(before), len(before), p99(during), len(during),
		p99(after), len(after), acked, failed, missing)
	up, down := load.windows(warm, stopped, restarted)
	t.Logf("ack p99 per %v of sending: sink up %v, sink down %v", outageWindow, up, down)
	if failed+missing > 0 {
		t.Errorf("%d messages failed and %d got no ack", failed, missing)
	}
	// The machine's other work makes a window's p99 jump now and then,
	// with the sink up as well as down: the typical window (the median)
	// of each is compared.
	if bound := max(2*median(up), outageAckFloor); median(down) > bound {
		t.Errorf("ack p99 of the typical %v while the sink was down %v, want at most %v (twice the %v with the sink up, at least %v)",
			outageWindow, median(down), bound, median(up), outageAckFloor)
	}

	drained := srv.waitDrained(t, outageDrainBudget)
	t.Logf("outbox drained %v after NATS came back", drained.Sub(restarted).Round(100*time.Millisecond))
	checkOutageStream(t, ns.url(), namespace, stream, load)
}

// natsProcess is a nats-server with JetStream on a port and store of its
// own, stopped and started by the test.
type natsProcess struct {
	bin, port, dir string
	cmd            *exec.Cmd
}

func newNATSProcess(t *testing.T) *natsProcess {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nats-server is not installed (Debian: apt-get install nats-server): %v", err)
		}
		t.Skipf("nats-server is not installed (set CI to make this fail): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	ns := &natsProcess{bin: bin, port: port, dir: t.TempDir()}
	ns.start(t)
	t.Cleanup(func() {
		if ns.cmd != nil {
			_ = ns.cmd.Process.Kill()
			_ = ns.cmd.Wait()
		}
	})
	return ns
}

func (ns *natsProcess) url() string { return "nats://127.0.0.1:" + ns.port }

func (ns *natsProcess) start(t *testing.T) {
	t.Helper()
	ns.cmd = exec.Command(ns.bin, "-js", "-a", "127.0.0.1", "-p", ns.port, "-sd", ns.dir)
	if err := ns.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+ns.port, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nats-server did not answer in 20 s")
		}
	}
}

// stop shuts the server down as an operator would (SIGTERM) and waits
// for it to exit.
func (ns *natsProcess) stop(t *testing.T) {
	t.Helper()
	_ = ns.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan struct{})
	go func() { _ = ns.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = ns.cmd.Process.Kill()
		<-exited
	}
	ns.cmd = nil
}

// outageSession is one user's raw websocket on its ticket: messages are
// written with an ack id and their acks timed, without waiting for them.
type outageSession struct {
	who, ticket, recipient string
	ws                     *websocket.Conn
	wmu                    sync.Mutex // writes: the sender's and the reader's pongs

	mu    sync.Mutex
	sent  map[int]time.Time // ack id → when it was written
	acks  []outageAck
	order []int // the ack ids written, in order
	gone  chan struct{}
}

type outageAck struct {
	id     int
	sentAt time.Time
	took   time.Duration
	ok     bool
}

func (srv *floodServer) outageSession(t *testing.T, who, ticket, recipient string) *outageSession {
	t.Helper()
	f := &flooder{srv: srv, token: srv.token(t, who)}
	ws, err := f.dial()
	if err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	s := &outageSession{who: who, ticket: ticket, recipient: recipient, ws: ws, sent: map[int]time.Time{}, gone: make(chan struct{})}
	t.Cleanup(func() { ws.Close(); <-s.gone })
	go s.read()
	return s
}

func (s *outageSession) messageID(n int) string { return fmt.Sprintf("%s-m%d", s.ticket, n) }

func (s *outageSession) send(n int) error {
	s.mu.Lock()
	s.sent[n] = time.Now()
	s.order = append(s.order, n)
	s.mu.Unlock()
	frame := fmt.Sprintf(`42%d["updateMessage",%q,%q,{"type":1,"content":"message %d"},%q]`, n, s.ticket, s.messageID(n), n, s.recipient)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.ws.WriteMessage(websocket.TextMessage, []byte(frame))
}

// read times the acks (43<id>[null], or an error) until the connection
// ends, and answers the engine's pings.
func (s *outageSession) read() {
	defer close(s.gone)
	for {
		_, msg, err := s.ws.ReadMessage()
		if err != nil {
			return
		}
		at := time.Now()
		if string(msg) == "2" {
			s.wmu.Lock()
			_ = s.ws.WriteMessage(websocket.TextMessage, []byte("3"))
			s.wmu.Unlock()
			continue
		}
		rest, ok := strings.CutPrefix(string(msg), "43")
		if !ok {
			continue
		}
		i := strings.IndexByte(rest, '[')
		n, err := strconv.Atoi(rest[:max(i, 0)])
		if i < 0 || err != nil {
			continue
		}
		s.mu.Lock()
		if sent, ok := s.sent[n]; ok {
			delete(s.sent, n)
			s.acks = append(s.acks, outageAck{id: n, sentAt: sent, took: at.Sub(sent), ok: rest[i:] == "[null]"})
		}
		s.mu.Unlock()
	}
}

// outageLoad sends outageRate messages a second round-robin over its
// sessions, on a fixed schedule whatever the acks do (an open loop).
type outageLoad struct {
	sessions []*outageSession
}

func (l *outageLoad) run(stop chan struct{}) {
	interval := time.Second / outageRate
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		s := l.sessions[i%len(l.sessions)]
		_ = s.send(i/len(l.sessions) + 1) // a failed write shows as a missing ack
	}
}

func (l *outageLoad) waitAcks(limit time.Duration) {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		pending := 0
		for _, s := range l.sessions {
			s.mu.Lock()
			pending += len(s.sent)
			s.mu.Unlock()
		}
		if pending == 0 {
			return
		}
	}
}

// phases splits the acks' latencies by when their message was sent,
// leaving out the warm-up's.
func (l *outageLoad) phases(warm, stopped, restarted time.Time) (before, during, after []time.Duration, acked, failed, missing int) {
	for _, s := range l.sessions {
		s.mu.Lock()
		missing += len(s.sent)
		for _, a := range s.acks {
			if !a.ok {
				failed++
				continue
			}
			acked++
			switch {
			case a.sentAt.Before(warm):
			case a.sentAt.Before(stopped):
				before = append(before, a.took)
			case a.sentAt.Before(restarted):
				during = append(during, a.took)
			default:
				after = append(after, a.took)
			}
		}
		s.mu.Unlock()
	}
	return
}

// windows is the acks' p99 per outageWindow of sending time, in the
// windows with the sink up (from warm to stopped, and from restarted on)
// and those with it down.
func (l *outageLoad) windows(warm, stopped, restarted time.Time) (up, down []time.Duration) {
	byStart := map[time.Time][]time.Duration{}
	for _, s := range l.sessions {
		s.mu.Lock()
		for _, a := range s.acks {
			var from time.Time
			switch {
			case !a.ok || a.sentAt.Before(warm):
				continue
			case a.sentAt.Before(stopped):
				from = warm
			case a.sentAt.Before(restarted):
				from = stopped
			default:
				from = restarted
			}
			start := from.Add(a.sentAt.Sub(from).Truncate(outageWindow))
			byStart[start] = append(byStart[start], a.took)
		}
		s.mu.Unlock()
	}
	starts := make([]time.Time, 0, len(byStart))
	for start := range byStart {
		starts = append(starts, start)
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	for _, start := range starts {
		if len(byStart[start]) < outageRate { // a stub at a phase's end
			continue
		}
		if !start.Before(stopped) && start.Before(restarted) {
			down = append(down, p99(byStart[start]))
		} else {
			up = append(up, p99(byStart[start]))
		}
	}
	return up, down
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*99/100)].Round(100 * time.Microsecond)
}

// waitDrained waits until readyz says no event is pending.
func (srv *floodServer) waitDrained(t *testing.T, limit time.Duration) time.Time {
	t.Helper()
	var last string
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r, err := http.Get(srv.base + "/readyz")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		last = string(body)
		if strings.Contains(last, "outbox: 0 pending") {
			return time.Now()
		}
	}
	t.Fatalf("events still pending %v after NATS came back:\n%s", limit, last)
	return time.Time{}
}

// envelopeKeys are the envelope's fields (docs/events.md), no more.
var envelopeKeys = []string{"clientId", "id", "name", "namespace", "parentNamespace", "payload", "sessionId", "spanContext",
	"timestamp", "traceId", "userId", "version"}

// checkOutageStream reads the whole stream and checks it against what the
// sessions got acked.
func checkOutageStream(t *testing.T, url, namespace, stream string, load *outageLoad) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}          // Nats-Msg-Id → copies
	events := map[string][]string{}   // session → event names, in stream order
	messages := map[string][]string{} // session → personalChatSent message ids, in stream order
	bad := 0
	for read := uint64(0); read < info.State.Msgs; {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			read++
			name, session, messageID, problem := checkEnvelope(msg, namespace)
			if problem != "" {
				if bad++; bad <= 5 {
					t.Errorf("stream message %s: %s", msg.Subject(), problem)
				}
				continue
			}
			seen[msg.Headers().Get("Nats-Msg-Id")]++
			if session != "" {
				events[session] = append(events[session], name)
			}
			if name == "personalChatSent" {
				messages[session] = append(messages[session], messageID)
			}
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
		if got == 0 {
			t.Fatalf("read %d of the stream's %d messages", read, info.State.Msgs)
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("event %s is in the stream %d times", id, n)
		}
	}
	total := 0
	for _, s := range load.sessions {
		names := events[s.ticket]
		if len(names) < 2 || names[0] != "ticketCreated" || names[1] != "ticketAccepted" {
			t.Errorf("session %s starts with %v, want ticketCreated, ticketAccepted", s.ticket, names[:min(len(names), 3)])
		}
		s.mu.Lock()
		var want []string
		sort.Slice(s.acks, func(i, j int) bool { return s.acks[i].id < s.acks[j].id })
		for _, a := range s.acks {
			if a.ok {
				want = append(want, s.messageID(a.id))
			}
		}
		s.mu.Unlock()
		// Each socket's events are handled one at a time, so the
		// session's commit order is its send order.
		if got := messages[s.ticket]; !slices.Equal(got, want) {
			t.Errorf("session %s: %d personalChatSent in the stream, %d acked; first difference at %d", s.ticket, len(got), len(want),
				firstDifference(got, want))
		}
		total += len(want)
	}
	t.Logf("stream: %d events, %d distinct ids, %d personalChatSent for %d acked messages", info.State.Msgs, len(seen),
		func() int {
			n := 0
			for _, m := range messages {
				n += len(m)
			}
			return n
		}(), total)
}

func firstDifference(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// checkEnvelope checks one stream message's subject, id header and
// envelope, and returns its event name, session and (for a message) the
// message id.
func checkEnvelope(msg jetstream.Msg, namespace string) (name, session, messageID, problem string) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(msg.Data(), &raw); err != nil {
		return "", "", "", err.Error()
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, envelopeKeys) {
		return "", "", "", fmt.Sprintf("envelope fields %v, want %v", keys, envelopeKeys)
	}
	var env struct {
		ID, Name, Namespace, Timestamp, ClientID, UserID, TraceID, SessionID string
		Version                                                              int
		Payload                                                              map[string]map[string]any
	}
	if err := json.Unmarshal(msg.Data(), &env); err != nil {
		return "", "", "", err.Error()
	}
	if _, err := time.Parse(time.RFC3339, env.Timestamp); err != nil || env.Version != 1 || env.ID == "" || env.TraceID == "" ||
		env.ClientID == "" || env.Namespace != namespace {
		return "", "", "", fmt.Sprintf("envelope %s", msg.Data())
	}
	if msg.Subject() != namespace+"."+env.Name || msg.Headers().Get("Nats-Msg-Id") != env.ID {
		return "", "", "", fmt.Sprintf("subject %s, Nats-Msg-Id %q for %s %s", msg.Subject(), msg.Headers().Get("Nats-Msg-Id"), env.Name, env.ID)
	}
	payload, ok := env.Payload[env.Name]
	if len(env.Payload) != 1 || !ok {
		return "", "", "", fmt.Sprintf("payload %v, want one object under %q", env.Payload, env.Name)
	}
	if env.Name == "personalChatSent" {
		for _, k := range []string{"message_id", "sender_id", "target_id", "payload", "target_type", "target_members"} {
			if _, ok := payload[k]; !ok {
				return "", "", "", fmt.Sprintf("personalChatSent without %s: %v", k, payload)
			}
		}
		messageID, _ = payload["message_id"].(string)
	}
	return env.Name, env.SessionID, messageID, ""
}

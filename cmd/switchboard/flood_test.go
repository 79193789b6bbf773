package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard/internal/testclient"
	"github.com/switchboard-chat/switchboard/oauth"
)

// TestFlood: one user's four sockets send 60 KiB livechat messages
// without waiting for their acks (raw websocket writes, as fast as the
// server reads them) for SWITCHBOARD_FLOOD_SECONDS (15 by default),
// against the server binary (built by the test, without the race
// detector) in a process of its own, with the default limits. Meanwhile
// another user sends a message every 100 ms and waits for each ack. It
// requires: the server's peak RSS (VmHWM of its process) at most 768 MiB;
// the other user's slowest ack at most 1 s, plus twice its slowest in the
// 3 s before the flood (a loaded machine slows every ack, whatever the
// server does); RATE_LIMITED acks for the flooder and its sockets cut
// off; and a healthy server after (readyz, a new connection's message
// acked). Without the limits and the bounded input the server took
// 2.7 GiB and 11 s acks.
func TestFlood(t *testing.T) {
	seconds := 15
	if v := os.Getenv("SWITCHBOARD_FLOOD_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SWITCHBOARD_FLOOD_SECONDS=%q: want a whole number of seconds", v)
		}
		seconds = n
	}
	srv := startFloodServer(t)
	operator1, operator2 := srv.dial(t, "operator-1"), srv.dial(t, "operator-2")
	floodTicket := srv.openTicket(t, "user-1", operator1)
	other := srv.dial(t, "user-2")
	otherTicket := srv.openTicketOn(t, other, operator2)

	// What this machine gives without a flood: the other user's acks
	// before it starts. A shared, loaded machine slows every ack; the
	// flood may add at most 1 s to that.
	baseline, _, _ := srv.pace(t, other, otherTicket, 3*time.Second)
	stop := make(chan struct{})
	f := &flooder{srv: srv, ticket: floodTicket, token: srv.token(t, "user-1")}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); f.run(stop) }()
	}
	started := time.Now()
	slowest, sent, failed := srv.pace(t, other, otherTicket, time.Duration(seconds)*time.Second)
	close(stop)
	wg.Wait()
	lasted := time.Since(started)

	peak, rss := srv.memory()
	t.Logf("flood of %v: server peak RSS %d MiB (now %d MiB); flooder: %d acked, %d RATE_LIMITED, %d other acks (%v), "+
		"cut off %d times, %d connections refused; other user: %d messages, slowest ack %v (%v before the flood), %d failed",
		lasted.Round(time.Millisecond), peak>>20, rss>>20, f.ok.Load(), f.limited.Load(), f.otherAck.Load(), f.other.Load(),
		f.cutOff.Load(), f.refusedConnect.Load(), sent, slowest, baseline, failed)
	if peak > 768<<20 {
		t.Errorf("server peak RSS %d MiB, want at most 768 MiB", peak>>20)
	}
	if budget := time.Second + 2*baseline; slowest > budget {
		t.Errorf("the other user's slowest ack took %v during the flood, want at most 1 s more than twice its slowest before (%v)",
			slowest, baseline)
	}
	if failed > 0 {
		t.Errorf("%d of the other user's messages failed", failed)
	}
	if f.limited.Load() == 0 {
		t.Error("the flooder got no RATE_LIMITED ack")
	}
	if f.cutOff.Load() == 0 {
		t.Error("the flooder's sockets were never cut off")
	}
	if allowed := 30 + int64(10*lasted.Seconds()) + 10; f.ok.Load() > allowed {
		t.Errorf("%d flood messages stored in %v: more than the message rate allows (%d)", f.ok.Load(), lasted.Round(time.Second), allowed)
	}
	srv.healthy(t)
}

// floodServer is the server binary running in a child process.
type floodServer struct {
	cmd  *exec.Cmd
	base string
	data string
	log  *bytes.Buffer
	logm *sync.Mutex
}

// startFloodServer starts the server binary with the default settings, and
// extra (NAME=VALUE) on top.
func startFloodServer(t *testing.T, extra ...string) *floodServer {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// The server is built as it ships: the test binary may carry the race
	// detector, which makes a server several times slower and larger.
	bin := filepath.Join(dir, "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "SWITCHBOARD_ADDR="+addr,
		"SWITCHBOARD_DATABASE="+filepath.Join(dir, "switchboard.db"), "SWITCHBOARD_DATA_DIR="+filepath.Join(dir, "data"),
		"SWITCHBOARD_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, extra...)
	srv := &floodServer{cmd: cmd, base: "http://" + addr, data: filepath.Join(dir, "data"), log: &bytes.Buffer{}, logm: &sync.Mutex{}}
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			srv.logm.Lock()
			if srv.log.Len() < 1<<20 {
				srv.log.WriteString(sc.Text() + "\n")
			}
			srv.logm.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			srv.logm.Lock()
			t.Logf("server log:\n%s", lastLines(srv.log.String(), 40))
			srv.logm.Unlock()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(srv.base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not become ready in 30 s")
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (srv *floodServer) token(t *testing.T, who string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := oauth.DevToken(ctx, srv.base+"/oidc", who, srv.data)
	if err != nil {
		t.Fatalf("token for %s: %v", who, err)
	}
	return tok
}

// memory is the server process's peak and current RSS.
func (srv *floodServer) memory() (peak, now int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			peak = kb << 10
		case "VmRSS:":
			now = kb << 10
		}
	}
	return peak, now
}

// floodSocket is a Go client socket with a channel per event name.
type floodSocket struct {
	s      *client.Socket
	mu     sync.Mutex
	ch     map[string]chan []any
	closed chan struct{}
}

func (fs *floodSocket) of(name string) chan []any {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.ch[name] == nil {
		fs.ch[name] = make(chan []any, 100)
	}
	return fs.ch[name]
}

// connect opens a socket with token in the handshake and waits for
// authenticated; one lost on a loaded machine is dialled again.
func (srv *floodServer) connect(token string) (*floodSocket, error) {
	for attempt := 1; ; attempt++ {
		opts := client.DefaultOptions()
		opts.SetTransports(types.NewSet(client.WebSocket))
		opts.SetForceNew(true)
		opts.SetAutoConnect(false)
		opts.SetReconnection(false)
		opts.SetTimeout(5 * time.Second)
		opts.SetAuth(map[string]any{"accessToken": token})
		s, err := client.Connect(srv.base, opts)
		if err != nil {
			return nil, err
		}
		fs := &floodSocket{s: s, ch: map[string]chan []any{}, closed: make(chan struct{})}
		var once sync.Once
		s.On("disconnect", func(...any) { once.Do(func() { close(fs.closed) }) })
		s.OnAny(func(a ...any) {
			if name, ok := a[0].(string); ok {
				select {
				case fs.of(name) <- a[1:]:
				default: // nobody listens for it
				}
			}
		})
		testclient.Connect(s, 10*time.Second)
		select {
		case <-fs.of("authenticated"):
			return fs, nil
		case <-time.After(5 * time.Second):
			s.Disconnect()
			if attempt == 3 {
				return nil, fmt.Errorf("no authenticated event after 3 connections")
			}
		}
	}
}

func (srv *floodServer) dial(t *testing.T, who string) *floodSocket {
	t.Helper()
	fs, err := srv.connect(srv.token(t, who))
	if err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	t.Cleanup(func() { fs.s.Disconnect() })
	if strings.HasPrefix(who, "operator") {
		floodAck(t, fs, "subscribeOperator")
	} else {
		floodAck(t, fs, "subscribe", map[string]any{"userId": who})
	}
	return fs
}

// floodAck emits with an ack and fails unless it acks null.
func floodAck(t *testing.T, fs *floodSocket, event string, args ...any) {
	t.Helper()
	if err := ackWithin(fs, 10*time.Second, event, args...); err != nil {
		t.Fatal(err)
	}
}

func ackWithin(fs *floodSocket, limit time.Duration, event string, args ...any) error {
	ch := make(chan any, 1)
	fs.s.Emit(event, append(args, func(a []any, _ error) {
		var first any
		if len(a) > 0 {
			first = a[0]
		}
		ch <- first
	})...)
	select {
	case v := <-ch:
		if v != nil {
			return fmt.Errorf("%s: %v", event, v)
		}
		return nil
	case <-time.After(limit):
		return fmt.Errorf("no ack for %s within %v", event, limit)
	}
}

// openTicket opens a ticket of who (a socket of its own) accepted by op.
func (srv *floodServer) openTicket(t *testing.T, who string, op *floodSocket) string {
	return srv.openTicketOn(t, srv.dial(t, who), op)
}

var ticketSeq atomic.Int64

func (srv *floodServer) openTicketOn(t *testing.T, user, op *floodSocket) string {
	t.Helper()
	id := fmt.Sprintf("flood-ticket-%d", ticketSeq.Add(1))
	floodAck(t, user, "createTicket", id, map[string]any{"ticketId": id, "ticketNm": "flood"})
	for deadline := time.After(10 * time.Second); ; {
		select {
		case a := <-op.of("ticketCreated"):
			if tk, _ := a[0].(map[string]any); tk["ticketId"] == id {
				floodAck(t, op, "acceptTicket", id, tk, tk["ownerId"])
				return id
			}
		case <-deadline:
			t.Fatalf("no ticketCreated for %s", id)
		}
	}
}

// pace sends one message of user every 100 ms for d, each waiting for its
// ack, and returns the slowest ack.
func (srv *floodServer) pace(t *testing.T, user *floodSocket, ticket string, d time.Duration) (slowest time.Duration, sent, failed int) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		sent++
		id := fmt.Sprintf("%s-m%d", ticket, sent)
		start := time.Now()
		err := ackWithin(user, 15*time.Second, "updateMessage", ticket, id,
			map[string]any{"content": "still here", "type": 1}, "")
		took := time.Since(start)
		if took > slowest {
			slowest = took
		}
		if took > 500*time.Millisecond {
			t.Logf("other user's message %d acked after %v, %v before the end of the flood", sent, took, time.Until(end).Round(time.Millisecond))
		}
		if err != nil {
			failed++
			t.Logf("other user's message %d: %v", sent, err)
		}
	}
	return slowest, sent, failed
}

// healthy checks that the server still serves: readyz, and a new socket's
// message acked.
func (srv *floodServer) healthy(t *testing.T) {
	t.Helper()
	r, err := http.Get(srv.base + "/readyz")
	if err != nil {
		t.Fatalf("readyz after the flood: %v", err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("readyz after the flood: %d", r.StatusCode)
	}
	op := srv.dial(t, "operator-3")
	fresh := srv.dial(t, "user-2")
	ticket := srv.openTicketOn(t, fresh, op)
	floodAck(t, fresh, "updateMessage", ticket, ticket+"-after", map[string]any{"content": "after", "type": 1}, "")
}

// flooder is one user sending 60 KiB messages from several raw
// websocket connections, writing event after event with an ack id and
// never waiting for an ack: each write blocks only when the server stops
// reading (the TCP window is full). A reader counts the acks. Whenever a
// connection is cut off it connects again.
type flooder struct {
	srv    *floodServer
	ticket string
	token  string
	seq    atomic.Int64

	ok, limited, otherAck, cutOff, refusedConnect atomic.Int64
	other                                         atomic.Value // one of the other acks
}

var floodPad = strings.Repeat("flood ", 60<<10/6)

func (f *flooder) run(stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		ws, err := f.dial()
		if err != nil {
			f.refusedConnect.Add(1)
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		f.flood(ws, stop)
	}
}

// dial opens a connection, connects the namespace with the token and
// waits for authenticated.
func (f *flooder) dial() (*websocket.Conn, error) {
	url := "ws" + strings.TrimPrefix(f.srv.base, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	auth, _ := json.Marshal(map[string]any{"accessToken": f.token})
	if err := ws.WriteMessage(websocket.TextMessage, append([]byte("40"), auth...)); err != nil {
		ws.Close()
		return nil, err
	}
	for {
		_, msg, err := ws.ReadMessage()
		switch {
		case err != nil:
			ws.Close()
			return nil, err
		case bytes.HasPrefix(msg, []byte(`42["authenticated"`)):
			_ = ws.SetReadDeadline(time.Time{})
			return ws, nil
		case bytes.HasPrefix(msg, []byte(`42["unauthenticated"`)), bytes.HasPrefix(msg, []byte("44")):
			ws.Close()
			return nil, fmt.Errorf("refused: %s", msg)
		}
	}
}

// flood writes until stop or until the server cuts the connection off.
func (f *flooder) flood(ws *websocket.Conn, stop chan struct{}) {
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		f.readAcks(ws)
	}()
	go func() {
		select {
		case <-stop:
		case <-gone:
		}
		ws.Close() // unblocks a write the server does not read
	}()
	var buf bytes.Buffer
	for {
		n := f.seq.Add(1)
		buf.Reset()
		fmt.Fprintf(&buf, `42%d["updateMessage",%q,"flood-%d",{"type":1,"content":"%s"},""]`, n, f.ticket, n, floodPad)
		if err := ws.WriteMessage(websocket.TextMessage, buf.Bytes()); err != nil {
			break
		}
	}
	<-gone
	select {
	case <-stop:
	default:
		f.cutOff.Add(1)
	}
}

// readAcks counts the acks of one connection until it ends.
func (f *flooder) readAcks(ws *websocket.Conn) {
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case bytes.Equal(msg, []byte("2")): // the engine's ping
			_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
		case !bytes.HasPrefix(msg, []byte("43")):
		case bytes.HasSuffix(msg, []byte("[null]")):
			f.ok.Add(1)
		case bytes.Contains(msg, []byte(`"RATE_LIMITED"`)):
			f.limited.Add(1)
		default:
			f.otherAck.Add(1)
			f.other.CompareAndSwap(nil, string(msg))
		}
	}
}

package app

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the stock driver: the check reads the file as any SQLite would

	client "github.com/zishang520/socket.io/clients/socket/v3"
)

// crashRounds is how many times TestKill9KeepsAckedMessages kills the
// server; SWITCHBOARD_CRASH_ROUNDS=<n> runs more (or fewer).
const crashRounds = 12

// TestKill9KeepsAckedMessages runs the server binary on one SQLite file,
// round after round: several clients send livechat messages, each waiting
// for its ack before the next, and at a random moment the server is
// killed with SIGKILL. After each kill every message that was
// acknowledged, in any round, must be in the file and PRAGMA
// integrity_check must say ok; then the server starts again on the file
// for the next round. Rounds alternate the durabilities: a kill of the
// server loses nothing in either.
//
// SWITCHBOARD_BIN=<path> uses that binary instead of building one.
func TestKill9KeepsAckedMessages(t *testing.T) {
	rounds := crashRounds
	if s := os.Getenv("SWITCHBOARD_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SWITCHBOARD_CRASH_ROUNDS=%q: want a positive number", s)
		}
		rounds = n
	}
	bin := serverBinary(t)
	dir := t.TempDir()
	acked := map[string]bool{}
	for round := range rounds {
		durability := [...]string{"fsync", "os"}[round%2]
		srv := startBinary(t, bin, dir, durability)
		got := srv.load(t, round)
		srv.kill(t)
		for _, id := range got {
			acked[id] = true
		}
		stored, integrity := readStored(t, dir)
		missing := 0
		for id := range acked {
			if !stored[id] {
				missing++
			}
		}
		t.Logf("round %d (durability %s): %d messages acknowledged before the kill, %d in all, %d stored; WAL %d KiB",
			round+1, durability, len(got), len(acked), len(stored), walSize(dir)>>10)
		if integrity != "ok" {
			t.Fatalf("round %d: integrity_check after the kill: %s\nserver log:\n%s", round+1, integrity, srv.logTail())
		}
		if missing > 0 {
			t.Fatalf("round %d: %d acknowledged messages are not stored after the kill (durability %s)", round+1, missing, durability)
		}
		if len(got) == 0 {
			t.Fatalf("round %d: no message was acknowledged before the kill\nserver log:\n%s", round+1, srv.logTail())
		}
	}
	// The server starts on what the last kill left.
	startBinary(t, bin, dir, "fsync").kill(t)
}

// walSize is the size of the WAL the kill left, 0 if there is none.
func walSize(dir string) int64 {
	fi, err := os.Stat(filepath.Join(dir, "switchboard.db-wal"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// serverBinary builds ./cmd/switchboard once for the test.
func serverBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SWITCHBOARD_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/switchboard")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/switchboard: %v\n%s", err, out)
	}
	return bin
}

// binaryServer is the server binary running as a child process.
type binaryServer struct {
	cmd  *exec.Cmd
	node *node // base and data directory, for the helpers of app_test.go
	mu   sync.Mutex
	log  []string // the last lines of its log
	// dumping keeps every line from the goroutine dump of stacks on.
	dumping bool
	done    chan struct{}
	// socks are the clients' sockets, disconnected after the kill so that
	// they do not try to reconnect to the dead server.
	socks []*client.Socket
}

var listening = regexp.MustCompile(`msg="Switchboard is listening" addr=(\S+)`)

// startBinary starts the binary on dir's database and waits until it is
// ready. Limits that would refuse the test's closed loop are off.
func startBinary(t *testing.T, bin, dir, durability string) *binaryServer {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"SWITCHBOARD_ADDR=127.0.0.1:0",
		"SWITCHBOARD_DATABASE="+filepath.Join(dir, "switchboard.db"),
		"SWITCHBOARD_DATA_DIR="+filepath.Join(dir, "data"),
		"SWITCHBOARD_DURABILITY="+durability,
		"SWITCHBOARD_OIDC_ISSUER=",
		"SWITCHBOARD_RATE_MESSAGES=-1", "SWITCHBOARD_RATE_EVENTS=-1",
		"SWITCHBOARD_MAX_CONNS_PER_IP=-1", "SWITCHBOARD_MAX_CONNS_PER_PRINCIPAL=-1",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &binaryServer{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go s.readLog(stderr, addr)
	t.Cleanup(func() { s.kill(t) })
	select {
	case a := <-addr:
		s.node = &node{base: "http://" + a, data: filepath.Join(dir, "data")}
	case <-s.done:
		t.Fatalf("the server exited before it listened:\n%s", s.logTail())
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not listen within 30 s:\n%s", s.logTail())
	}
	s.waitReady(t)
	return s
}

// readLog keeps the log's last lines and sends the listening address.
func (s *binaryServer) readLog(r io.Reader, addr chan<- string) {
	defer close(s.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := listening.FindStringSubmatch(line); m != nil {
			addr <- m[1]
		}
		s.mu.Lock()
		if s.log = append(s.log, line); len(s.log) > 40 && !s.dumping {
			s.log = s.log[1:]
		}
		s.mu.Unlock()
	}
}

func (s *binaryServer) logTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := ""
	for _, l := range s.log {
		out += l + "\n"
	}
	return out
}

func (s *binaryServer) waitReady(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		res, err := http.Get(s.node.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("the server was not ready within 30 s:\n%s", s.logTail())
}

// stacks ends the server with SIGQUIT, on which the Go runtime writes
// every goroutine's stack to the log, and returns the log's last lines
// and the goroutines of Switchboard's own code: what a server that stopped
// answering was waiting for.
func (s *binaryServer) stacks() string {
	s.mu.Lock()
	s.dumping = true
	s.mu.Unlock()
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out strings.Builder
	for _, goroutine := range strings.Split(strings.Join(s.log, "\n"), "\n\n") {
		if !strings.HasPrefix(goroutine, "goroutine ") || strings.Contains(goroutine, "switchboard-chat/switchboard") {
			out.WriteString(goroutine + "\n\n")
		}
	}
	return "server log and goroutines:\n" + out.String()
}

// kill sends SIGKILL, once, and waits for the process to end.
func (s *binaryServer) kill(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	<-s.done
	for _, sock := range s.socks {
		sock.Disconnect()
	}
}

// crashClients is how many sockets send at once: three for each of the
// two development users, each on a ticket of its own.
const crashClients = 6

// load connects the clients, has each send messages one at a time until
// a random moment, and returns the ids of those acknowledged. The
// clients are still sending when it returns: the kill comes next.
func (s *binaryServer) load(t *testing.T, round int) []string {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Log(s.stacks())
		}
	}()
	tokens := map[string]string{}
	for _, who := range []string{"user-1", "user-2"} {
		tokens[who] = s.node.token(t, who)
	}
	var mu sync.Mutex
	var acked []string
	firstAck := make(chan struct{})
	var once sync.Once
	for c := range crashClients {
		who := []string{"user-1", "user-2"}[c%2]
		sock, _ := dial(t, s.node, tokens[who])
		s.socks = append(s.socks, sock)
		ticket := fmt.Sprintf("crash-%s-%d", who, c)
		ack, ok := emitWithin(sock, 20*time.Second, "createTicket", ticket, map[string]any{"ticketNm": "crash"})
		if !ok {
			t.Fatalf("no ack for createTicket %s within 20 s (connected: %v)", ticket, sock.Connected())
		}
		if len(ack) == 0 || ack[0] != nil {
			t.Fatalf("createTicket %s: %v", ticket, ack)
		}
		go sendUntilDead(sock, ticket, fmt.Sprintf("r%d-c%d", round, c), func(id string) {
			mu.Lock()
			acked = append(acked, id)
			mu.Unlock()
			once.Do(func() { close(firstAck) })
		})
	}
	select {
	case <-firstAck:
	case <-time.After(20 * time.Second):
		t.Fatalf("no message was acknowledged within 20 s")
	}
	time.Sleep(time.Duration(50+rand.IntN(1200)) * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	// Acks that arrive after this are left out: the kill may come before
	// or after their commit.
	return append([]string(nil), acked...)
}

// emitWithin emits event with an ack and waits for the ack's values, ok
// false if none came within d.
func emitWithin(sock *client.Socket, d time.Duration, event string, args ...any) (ack []any, ok bool) {
	answer := make(chan []any, 1)
	err := sock.Emit(event, append(args, func(a []any, err error) {
		if err != nil {
			a = []any{"ack error: " + err.Error()}
		}
		answer <- a
	})...)
	if err != nil {
		return []any{"emit error: " + err.Error()}, true
	}
	select {
	case a := <-answer:
		return a, true
	case <-time.After(d):
		return nil, false
	}
}

// sendUntilDead sends messages on ticket one at a time, each after the
// ack of the one before, and reports each acknowledged id, until an ack
// does not come.
func sendUntilDead(sock *client.Socket, ticket, prefix string, onAck func(string)) {
	for i := 0; ; i++ {
		id := fmt.Sprintf("%s-m%05d", prefix, i)
		ack, ok := emitWithin(sock, 5*time.Second, "updateMessage", ticket, id, map[string]any{"content": id, "type": 1}, "")
		if !ok || len(ack) == 0 || ack[0] != nil {
			return
		}
		onAck(id)
	}
}

// readStored reads a copy of what the killed server left (the database
// and its WAL, as they are after the kill) with the stock SQLite driver:
// the ids of the stored messages, and what integrity_check says. A copy,
// so that the next round's server recovers the WAL itself.
func readStored(t *testing.T, dir string) (map[string]bool, string) {
	t.Helper()
	check := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, "switchboard.db"+suffix))
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(check, "switchboard.db"+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite3", filepath.Join(check, "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var integrity string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "SELECT id FROM messages")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return stored, integrity
}

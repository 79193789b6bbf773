package app

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	client "github.com/zishang520/socket.io/clients/socket/v3"

	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/internal/testredis"
)

// TestClusterCPUPerMessage measures the servers' CPU per message (both
// nodes' processes, Redis's beside) when the user and its operator are
// on one node and when they are on two, and fails if a message across
// nodes costs more than 1.3 times one within a node. It is a
// measurement: it runs only with SWITCHBOARD_CLUSTER_CPU set (the
// messages each of the two pairs of demo accounts sends per round), on an
// otherwise quiet machine.
//
//	SWITCHBOARD_CLUSTER_CPU=2000 go test ./app -run TestClusterCPUPerMessage -v
func TestClusterCPUPerMessage(t *testing.T) {
	spec := os.Getenv("SWITCHBOARD_CLUSTER_CPU")
	if spec == "" {
		t.Skip("a measurement: set SWITCHBOARD_CLUSTER_CPU=MESSAGES to run it")
	}
	msgs, err := strconv.Atoi(spec)
	if err != nil || msgs < 1 {
		t.Fatalf("SWITCHBOARD_CLUSTER_CPU=%q: want the messages per pair", spec)
	}
	const pairs = 2 // user-1 with operator-1, user-2 with operator-2: one socket each
	bin := serverBinary(t)
	dbURL := testdb.PostgresURL(t)
	redisURL, prefix := testredis.Open(t)
	dir := t.TempDir()
	env := []string{"SWITCHBOARD_DATABASE=" + dbURL, "SWITCHBOARD_REDIS_URL=" + redisURL, "SWITCHBOARD_REDIS_PREFIX=" + prefix,
		"SWITCHBOARD_DATA_DIR=" + filepath.Join(dir, "data")}
	a := startClusterBinary(t, bin, append(env, "SWITCHBOARD_OIDC_ISSUER="))
	b := startClusterBinary(t, bin, append(env, "SWITCHBOARD_OIDC_ISSUER="+a.node.base+"/oidc", "SWITCHBOARD_OIDC_ACCEPT_JWT_TYP=true"))
	redisPID := redisProcess(t, redisURL)

	measure := func(name string, round int, userNode, opNode *binaryServer) (server, rds float64) {
		ops := make([]*client.Socket, pairs)
		users := make([]*client.Socket, pairs)
		got := make([]chan struct{}, pairs)
		for i := range pairs {
			opID, userID := fmt.Sprintf("operator-%d", i+1), fmt.Sprintf("user-%d", i+1)
			ops[i], got[i] = messageCounter(t, opNode.node, a.node.token(t, opID))
			users[i], _ = dial(t, userNode.node, a.node.token(t, userID))
			ticket := fmt.Sprintf("%s-%d-%d", name, round, i)
			mustAck(t, ops[i], "subscribeOperator")
			mustAck(t, users[i], "createTicket", ticket, map[string]any{"ticketId": ticket, "ticketNm": "cpu"})
			mustAck(t, ops[i], "acceptTicket", ticket, map[string]any{"ticketId": ticket}, userID)
		}
		time.Sleep(500 * time.Millisecond)
		before := []float64{cpuSeconds(t, a.cmd.Process.Pid), cpuSeconds(t, b.cmd.Process.Pid), cpuSeconds(t, redisPID)}
		var wg sync.WaitGroup
		for i := range pairs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ticket := fmt.Sprintf("%s-%d-%d", name, round, i)
				for k := range msgs {
					ack := make(chan any, 1)
					users[i].Emit("updateMessage", ticket, fmt.Sprintf("%s-%d", ticket, k),
						map[string]any{"content": "hello", "type": 1}, fmt.Sprintf("operator-%d", i+1),
						func(a []any, _ error) { ack <- a[0] })
					<-ack
					<-got[i]
				}
			}()
		}
		wg.Wait()
		after := []float64{cpuSeconds(t, a.cmd.Process.Pid), cpuSeconds(t, b.cmd.Process.Pid), cpuSeconds(t, redisPID)}
		for i := range pairs {
			ops[i].Disconnect()
			users[i].Disconnect()
		}
		n := float64(pairs * msgs)
		return (after[0] - before[0] + after[1] - before[1]) / n * 1e6, (after[2] - before[2]) / n * 1e6
	}
	var same, cross, sameRedis, crossRedis []float64
	for round := range 3 {
		s, sr := measure("same", round, a, a)
		c, cr := measure("cross", round, a, b)
		same, cross = append(same, s), append(cross, c)
		sameRedis, crossRedis = append(sameRedis, sr), append(crossRedis, cr)
		t.Logf("round %d: same node %.0f µs/message (Redis %.0f), across nodes %.0f µs/message (Redis %.0f)", round, s, sr, c, cr)
	}
	ms, mc := median(same), median(cross)
	t.Logf("median server CPU per message: same node %.0f µs, across nodes %.0f µs (%.2f×); Redis %.0f and %.0f µs",
		ms, mc, mc/ms, median(sameRedis), median(crossRedis))
	if mc > 1.3*ms {
		t.Errorf("a message across nodes costs %.2f× one within a node, more than 1.3×", mc/ms)
	}
}

// startClusterBinary starts the server binary with env (over the test
// process's own) and waits until it is ready.
func startClusterBinary(t *testing.T, bin string, env []string) *binaryServer {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append([]string{"SWITCHBOARD_ADDR=127.0.0.1:0",
		"SWITCHBOARD_RATE_MESSAGES=-1", "SWITCHBOARD_RATE_EVENTS=-1",
		"SWITCHBOARD_MAX_CONNS_PER_IP=-1", "SWITCHBOARD_MAX_CONNS_PER_PRINCIPAL=-1"}, env...)...)
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
		var data string
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, "SWITCHBOARD_DATA_DIR="); ok {
				data = v
			}
		}
		s.node = &node{base: "http://" + a, data: data}
	case <-s.done:
		t.Fatalf("the server exited before it listened:\n%s", s.logTail())
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not listen within 30 s:\n%s", s.logTail())
	}
	s.waitReady(t)
	return s
}

// messageCounter connects an operator whose every messageUpdated is
// signalled on the channel returned.
func messageCounter(t *testing.T, n *node, token string) (*client.Socket, chan struct{}) {
	s, ev := dial(t, n, token)
	got := make(chan struct{}, 1<<16)
	go func() {
		for range ev.of("messageUpdated") {
			got <- struct{}{}
		}
	}()
	return s, got
}

// cpuSeconds is the CPU time (user and system) process pid has used.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks (USER_HZ)
}

// redisProcess is the process id of the Redis at url (on this machine).
func redisProcess(t *testing.T, url string) int {
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	info, err := rdb.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ := strconv.Atoi(v)
			return pid
		}
	}
	t.Fatal("Redis did not say its process id")
	return 0
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

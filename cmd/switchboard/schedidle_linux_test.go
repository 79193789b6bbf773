package main

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// schedIdle is SCHED_IDLE, a thread's policy in /proc/<pid>/task/<tid>/stat.
const schedIdle = 5

// TestNoThreadInSchedIdleByDefault runs the server binary (this test
// binary as main) with the default settings and reads every thread's
// scheduling policy: none may be SCHED_IDLE. With
// SWITCHBOARD_IDLE_MONITOR_THREAD=true one is, which shows the check
// sees the setting's effect.
func TestNoThreadInSchedIdleByDefault(t *testing.T) {
	if os.Getenv("SWITCHBOARD_TEST_RUN_MAIN") == "schedidle" {
		os.Args = []string{"switchboard"}
		main()
		return
	}
	if idle := idleThreads(t, startDefaultServer(t, nil)); len(idle) != 0 {
		t.Fatalf("threads %v of the server run in SCHED_IDLE with the default settings", idle)
	}
	on := startDefaultServer(t, []string{"SWITCHBOARD_IDLE_MONITOR_THREAD=true"})
	deadline := time.Now().Add(20 * time.Second)
	for len(idleThreads(t, on)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("with SWITCHBOARD_IDLE_MONITOR_THREAD=true no thread went to SCHED_IDLE: the check sees nothing")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startDefaultServer starts the server with nothing set but its address,
// files and env, and waits for it to be ready.
func startDefaultServer(t *testing.T, env []string) int {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoThreadInSchedIdleByDefault$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "SWITCHBOARD_TEST_RUN_MAIN=schedidle", "SWITCHBOARD_ADDR="+addr,
		"SWITCHBOARD_DATABASE="+filepath.Join(dir, "switchboard.db"), "SWITCHBOARD_DATA_DIR="+filepath.Join(dir, "data"),
		"SWITCHBOARD_LOG_LEVEL=warn"), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get("http://" + addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return cmd.Process.Pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not become ready in 30 s")
		}
	}
}

// idleThreads lists pid's threads whose policy is SCHED_IDLE.
func idleThreads(t *testing.T, pid int) []int {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var idle []int
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name(), "stat"))
		if err != nil {
			continue // the thread exited
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		// Fields after the command's closing parenthesis: state is field
		// 3, policy field 41.
		_, rest, ok := strings.Cut(line, ") ")
		fields := strings.Fields(rest)
		if !ok || len(fields) < 39 {
			t.Fatalf("%s/%s/stat: %q", dir, e.Name(), line)
		}
		if policy, _ := strconv.Atoi(fields[38]); policy == schedIdle {
			tid, _ := strconv.Atoi(e.Name())
			idle = append(idle, tid)
		}
	}
	return idle
}

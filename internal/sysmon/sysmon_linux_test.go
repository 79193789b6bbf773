package sysmon

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary re-runs itself for each test so that every one starts
// with a monitor thread in its usual class.
func TestMain(m *testing.M) {
	if name := os.Getenv("SYSMON_TEST_CHILD"); name != "" {
		children[name]()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var children = map[string]func(){
	"only-the-monitor": onlyTheMonitor,
	"preemptions":      preemptions,
}

func runChild(t testing.TB, name string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SYSMON_TEST_CHILD="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestIdleMovesOnlyTheMonitor: Idle picks the runtime's first thread (the
// monitor, started before any other; found here by its id, which Idle does
// not look at) and moves it alone to SCHED_IDLE.
func TestIdleMovesOnlyTheMonitor(t *testing.T) {
	if out := runChild(t, "only-the-monitor"); out != "ok" {
		t.Fatal(out)
	}
}

func onlyTheMonitor() {
	tid, err := Idle()
	if err != nil {
		fmt.Println("Idle:", err)
		return
	}
	if tid == os.Getpid() {
		fmt.Println("Idle picked the main thread")
		return
	}
	for _, other := range threads() {
		attr, err := unix.SchedGetAttr(other, 0)
		if err != nil {
			continue // exited
		}
		want := uint32(unix.SCHED_NORMAL)
		if other == tid {
			want = unix.SCHED_IDLE
		}
		if attr.Policy != want {
			fmt.Printf("thread %d (monitor %d): policy %d, want %d\n", other, tid, attr.Policy, want)
			return
		}
	}
	if first := firstThread(); tid != first {
		fmt.Printf("Idle picked thread %d, the runtime's first thread is %d\n", tid, first)
		return
	}
	fmt.Println("ok")
}

// BenchmarkPreemptions shows the reason for the package: the process, on
// one core and one P, alternates short bursts of socket calls with sleeps,
// as a server between messages does, 300 ms with the monitor in its usual
// class and 300 ms in SCHED_IDLE. It reports the worker threads'
// involuntary context switches in each (on an otherwise idle machine
// about 3,700 and 1,000; with both cores saturated by other processes the
// second is the larger: they preempt the workers, and the monitor, whose
// P hand-offs spread the work over threads, barely runs).
//
//	go test -run '^$' -bench Preemptions ./internal/sysmon
func BenchmarkPreemptions(b *testing.B) {
	var usual, idle int
	for range b.N {
		out := runChild(b, "preemptions")
		var before, after int
		if _, err := fmt.Sscanf(out, "%d %d", &before, &after); err != nil {
			b.Fatalf("child said %q", out)
		}
		usual, idle = usual+before, idle+after
	}
	b.ReportMetric(float64(usual)/float64(b.N), "usual-class-preemptions/300ms")
	b.ReportMetric(float64(idle)/float64(b.N), "sched-idle-preemptions/300ms")
}

func preemptions() {
	runtime.GOMAXPROCS(1)
	var one unix.CPUSet
	one.Set(0)
	for _, tid := range threads() {
		unix.SchedSetaffinity(tid, &one) // threads made later inherit it
	}
	before := preemptedDuring(300*time.Millisecond, firstThread())
	tid, err := Idle()
	if err != nil {
		fmt.Println("Idle:", err)
		return
	}
	fmt.Println(before, preemptedDuring(300*time.Millisecond, tid))
}

// preemptedDuring runs bursts and sleeps for d and counts the involuntary
// context switches of every thread but skip. Part of them are the worker
// threads' own (the runtime hands the P between them around the socket
// calls); with the monitor in its usual class they were about 3,700 in
// 300 ms, in SCHED_IDLE about 1,000.
func preemptedDuring(d time.Duration, skip int) int {
	count := func() int {
		n := 0
		for _, tid := range threads() {
			if tid != skip {
				n += involuntary(tid)
			}
		}
		return n
	}
	// A burst is a few round trips of a byte between two goroutines over
	// a socket pair, as a message is to the server.
	fds, _ := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	left, right := os.NewFile(uintptr(fds[0]), "left"), os.NewFile(uintptr(fds[1]), "right")
	defer left.Close()
	defer right.Close()
	go func() {
		buf := make([]byte, 1)
		for {
			if _, err := right.Read(buf); err != nil {
				return
			}
			right.Write(buf)
		}
	}()
	start := count()
	buf := make([]byte, 1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 20 {
			left.Write(buf)
			left.Read(buf)
		}
		time.Sleep(300 * time.Microsecond)
	}
	return count() - start
}

func threads() []int {
	entries, _ := os.ReadDir("/proc/self/task")
	var tids []int
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids
}

// firstThread is the lowest thread id after the main thread's: the
// runtime starts its monitor before any other thread.
func firstThread() int {
	first := 0
	for _, tid := range threads() {
		if tid != os.Getpid() && (first == 0 || tid < first) {
			first = tid
		}
	}
	return first
}

func involuntary(tid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/status", tid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "nonvoluntary_ctxt_switches:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

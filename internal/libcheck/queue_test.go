package libcheck

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v3/pkg/queue"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

var queueSink *queue.Queue

// TestQueueMemory: a new task queue is one allocation (every connection
// has two, mostly idle); upstream also made its shutdown channel.
func TestQueueMemory(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { queueSink = queue.New() }); a > 1 {
		t.Fatalf("queue.New = %v allocations, want 1", a)
	}
}

// TestQueueClose: Close waits for the tasks queued before it, returns at
// once on an idle queue, can be called twice, and no task runs after it.
func TestQueueClose(t *testing.T) {
	q := queue.New()
	q.Close() // idle: returns at once
	q.Close()
	q.Enqueue(func() { t.Error("a task ran after Close") })

	q = queue.New()
	var ran atomic.Int32
	release := make(chan struct{})
	q.Enqueue(func() { <-release; ran.Add(1) })
	q.Enqueue(func() { ran.Add(1) })
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	go func() { q.Close() }() // a second waiter
	select {
	case <-closed:
		t.Fatal("Close returned while tasks were pending")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the tasks ran")
	}
	if ran.Load() != 2 {
		t.Fatalf("%d of 2 tasks ran before Close returned", ran.Load())
	}
	q.Enqueue(func() { t.Error("a task ran after Close") })

	// TryClose while running, then Close: still waits for the worker.
	q = queue.New()
	release = make(chan struct{})
	q.Enqueue(func() { <-release })
	q.TryClose()
	closed = make(chan struct{})
	go func() { q.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a task was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
}

// goroutineID is the running goroutine's number, from its stack header.
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	return string(bytes.Fields(b)[1])
}

// TestQueueWorkersAreReused: a queue that wakes up after another one has
// drained runs on the goroutine that drained it (which keeps its grown
// stack), and workers parked for more than a second end. Unpatched, every
// burst of tasks started a goroutine of its own.
func TestQueueWorkersAreReused(t *testing.T) {
	ids := make(chan string, 1)
	a, b := queue.New(), queue.New()
	a.Enqueue(func() { ids <- goroutineID() })
	first := <-ids
	eventually(t, "the first queue to drain", func() bool { return a.Size() == 0 })
	time.Sleep(10 * time.Millisecond) // its worker parks
	b.Enqueue(func() { ids <- goroutineID() })
	if second := <-ids; second != first {
		t.Fatalf("the second queue ran on goroutine %s, the first on %s: no worker was reused", second, first)
	}

	// A burst over many queues at once, then nothing: the workers end.
	before := settledGoroutines()
	var started, done sync.WaitGroup
	release := make(chan struct{})
	for range 200 {
		started.Add(1)
		done.Add(1)
		queue.New().Enqueue(func() { started.Done(); <-release; done.Done() })
	}
	started.Wait() // every queue runs at once, each on a worker
	close(release)
	done.Wait()
	time.Sleep(2500 * time.Millisecond)
	if after := settledGoroutines(); after > before+2 {
		t.Fatalf("%d goroutines 2.5 s after the burst, %d before: idle workers stayed", after, before)
	}
}

// TestBufferReadFromSizedReader: a buffer reads one of the library's own
// buffers (how the engine decodes every received packet) with one
// allocation of that size. Unpatched, ReadFrom reserved 512 bytes and then
// 512 more to find the end.
func TestBufferReadFromSizedReader(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 300)
	var dst *types.Buffer
	allocs := testing.AllocsPerRun(50, func() {
		src := types.NewBuffer(payload[:len(payload):len(payload)])
		dst = types.NewBuffer(nil)
		if _, err := dst.ReadFrom(src); err != nil {
			t.Fatal(err)
		}
	})
	if !bytes.Equal(dst.Bytes(), payload) {
		t.Fatalf("read %q", dst.Bytes())
	}
	if c := cap(dst.Bytes()); c > 320 {
		t.Errorf("a 300-byte read has a %d-byte buffer", c)
	}
	// The source buffer, the destination, and its bytes (and one more
	// under the race detector, whatever the patch).
	want := 3.0
	if raceEnabled() {
		want = 4
	}
	if allocs > want {
		t.Errorf("ReadFrom of a 300-byte buffer: %v allocations in all, want %v", allocs, want)
	}
}

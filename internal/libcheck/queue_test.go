package libcheck

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v3/pkg/queue"
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

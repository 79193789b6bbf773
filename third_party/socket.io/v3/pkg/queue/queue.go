// Package queue provides a sequential, non-blocking, unbounded task execution queue.
// It mimics Node.js's event loop and is deeply inspired by Kubernetes workqueue.
package queue

import (
	"runtime/debug"
	"sync"
	"time"

	"github.com/zishang520/socket.io/v3/pkg/log"
)

var queueLog = log.NewLog("engine:events")

// Queue serializes function execution through at most one worker goroutine.
// The worker is started on demand and exits when the queue becomes idle.
type Queue struct {
	mu           sync.Mutex
	tasks        []func()
	running      bool
	shuttingDown bool
	// done is closed when the worker stops after a shutdown. Switchboard
	// patch: Close makes it when it has a worker to wait for (upstream made
	// it in New: a channel per queue, two queues per idle connection, that
	// almost no queue ever uses).
	done chan struct{}
}

// New creates a new Queue. Its worker starts with the first task.
func New() *Queue {
	return &Queue{}
}

// Enqueue adds a task to the queue for sequential execution.
// It returns immediately and NEVER blocks.
func (q *Queue) Enqueue(task func()) {
	q.TryEnqueue(task)
}

// TryEnqueue is Enqueue that reports whether the task was taken: false
// when the queue is shutting down (or task is nil), and the task will
// never run. Switchboard patch (third_party/socket.io/PATCHES.md 16): a
// caller that holds something for the task gives it back then.
func (q *Queue) TryEnqueue(task func()) bool {
	if task == nil {
		return false
	}

	q.mu.Lock()
	if q.shuttingDown {
		q.mu.Unlock()
		return false
	}

	if !q.running {
		q.running = true
		q.mu.Unlock()
		workers.run(q, task)
		return true
	}

	q.tasks = append(q.tasks, task)
	q.mu.Unlock()
	return true
}

// Size returns the number of pending tasks in the queue.
func (q *Queue) Size() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.tasks)
}

// workers are the goroutines that drain queues. Switchboard patch:
// upstream started a goroutine for every burst of tasks (`go q.loop(task)`),
// and each new goroutine grew its stack again through the socket's event
// chain (runtime.copystack under Queue.loop was about 3% of the CPU of a
// loaded server). A worker that has drained its queue parks for the next
// queue that wakes up, with the stack it has grown. A worker parked for
// longer than workerIdle ends, so a burst leaves no goroutines behind for
// long; at most maxIdleWorkers park at once.
var workers workerPool

const (
	maxIdleWorkers = 1024
	workerIdle     = time.Second
)

type workerPool struct {
	mu      sync.Mutex
	idle    []parked // the most recently parked last
	trimmer sync.Once
}

type parked struct {
	wake  chan work
	since time.Time
}

type work struct {
	q    *Queue
	task func()
}

// run drains q, starting with task, on a parked worker or a new one.
func (p *workerPool) run(q *Queue, task func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = parked{}
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.wake <- work{q, task} // buffered: the worker is parked on it
		return
	}
	p.mu.Unlock()
	p.trimmer.Do(func() { go p.trim() })
	go p.work(q, task)
}

func (p *workerPool) work(q *Queue, task func()) {
	wake := make(chan work, 1)
	for q != nil {
		q.loop(task)
		p.mu.Lock()
		if len(p.idle) >= maxIdleWorkers {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, parked{wake, time.Now()})
		p.mu.Unlock()
		w := <-wake
		q, task = w.q, w.task
	}
}

// trim ends the workers parked for longer than workerIdle: they are the
// first in idle.
func (p *workerPool) trim() {
	for range time.Tick(workerIdle / 2) {
		p.mu.Lock()
		n := 0
		for n < len(p.idle) && time.Since(p.idle[n].since) > workerIdle {
			p.idle[n].wake <- work{} // no queue: the worker ends
			n++
		}
		if n > 0 {
			p.idle = append(p.idle[:0], p.idle[n:]...)
			clear(p.idle[len(p.idle) : len(p.idle)+n])
		}
		p.mu.Unlock()
	}
}

// loop drains the queue and exits as soon as it becomes idle.
func (q *Queue) loop(task func()) {
	for {
		q.execute(task)

		q.mu.Lock()
		if len(q.tasks) == 0 {
			q.tasks = nil
			q.running = false
			if q.shuttingDown && q.done != nil {
				close(q.done)
			}
			q.mu.Unlock()
			return
		}

		task = q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		q.mu.Unlock()
	}
}

// execute runs the task with built-in panic recovery.
func (q *Queue) execute(task func()) {
	defer func() {
		if r := recover(); r != nil {
			queueLog.Errorf("queue task panic recovered: %v\n%s", r, debug.Stack())
		}
	}()
	task()
}

// Close shuts down the Queue gracefully.
// It waits for all previously enqueued tasks to complete before returning.
func (q *Queue) Close() {
	q.mu.Lock()
	q.shuttingDown = true // the worker, if any, still runs what is queued
	if !q.running {
		q.mu.Unlock()
		return
	}
	if q.done == nil {
		q.done = make(chan struct{})
	}
	done := q.done
	q.mu.Unlock()
	<-done
}

// IsShuttingDown reports whether TryClose or Close has been called.
func (q *Queue) IsShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}

// TryClose shuts down the Queue without waiting for completion.
func (q *Queue) TryClose() {
	q.mu.Lock()
	q.shuttingDown = true
	q.mu.Unlock()
}

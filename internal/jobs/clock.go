package jobs

import (
	"sync"
	"time"
)

// Clock is where the runner reads the time and waits for the next slot.
// robfig/cron's own scheduler reads time.Now and its timers directly, so
// the runner drives cron schedules from this interface instead: tests move
// time by hand, production uses the system clock.
type Clock interface {
	Now() time.Time
	// After delivers the time on the channel once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ManualClock is a Clock that moves only when told to, for tests.
type ManualClock struct {
	mu      sync.Mutex
	changed *sync.Cond // signalled when a waiter is added
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewManualClock returns a clock stopped at now.
func NewManualClock(now time.Time) *ManualClock {
	c := &ManualClock{now: now}
	c.changed = sync.NewCond(&c.mu)
	return c
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After fires when the clock has been moved d or more past now.
func (c *ManualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	c.changed.Broadcast()
	return ch
}

// Advance moves the clock forward by d and fires the waiters now due.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.set(c.now.Add(d))
	c.mu.Unlock()
}

// Set moves the clock to t (forward or back) and fires the waiters due.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.set(t)
	c.mu.Unlock()
}

func (c *ManualClock) set(t time.Time) {
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
		} else {
			w.ch <- t
		}
	}
	c.waiters = kept
}

// BlockUntil waits until n or more callers are waiting on After: then a
// runner has computed its next slot, and moving the clock will wake it.
func (c *ManualClock) BlockUntil(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.waiters) < n {
		c.changed.Wait()
	}
}

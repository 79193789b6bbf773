package utils

// Switchboard patch (see third_party/socket.io/PATCHES.md): upstream v3.0.5
// parks one goroutine per pending timer (select on time.Timer.C) and starts
// another on each Refresh of a fired timer. This version runs fn through
// time.AfterFunc, so a pending timer holds no goroutine. The exported API is
// unchanged, and so is what its callers rely on; PATCHES.md lists the corner
// cases where upstream behaved otherwise.

import (
	"sync"
	"time"
)

// Timer is a Node.js-style timeout or interval.
//
// SetTimeout runs fn once, sleep after it was set or last refreshed, unless
// the timer is stopped first. SetInterval runs fn every sleep until stopped.
// Each run of fn is in a goroutine of its own. Stop (ClearTimeout,
// ClearInterval) guarantees that no run of fn starts after it returns; a run
// that had already started is not interrupted. Refresh re-arms the timer for
// a full sleep from now, also after it fired or was stopped.
type Timer struct {
	mu       sync.Mutex
	timer    *time.Timer // the current arming; nil when never armed
	gen      uint64      // the current arming's number; a callback of another arming does nothing
	sleep    time.Duration
	fn       func()
	interval bool
}

func newTimer(fn func(), sleep time.Duration, interval bool) *Timer {
	t := &Timer{sleep: sleep, fn: fn, interval: interval}
	t.mu.Lock()
	t.arm()
	t.mu.Unlock()
	return t
}

// arm schedules the callback sleep from now. t.mu must be held.
func (t *Timer) arm() {
	// A timer stopped before it fired has no callback on its way: move it.
	// Its callback belongs to the current arming (t.gen), which is kept.
	if t.timer != nil && t.timer.Stop() {
		t.timer.Reset(t.sleep)
		return
	}
	// Otherwise the callback of the previous arming may be running or about
	// to run; a new arming number makes it do nothing if it has not yet
	// taken t.mu.
	t.gen++
	gen := t.gen
	t.timer = time.AfterFunc(t.sleep, func() { t.fire(gen) })
}

func (t *Timer) fire(gen uint64) {
	t.mu.Lock()
	if gen != t.gen {
		t.mu.Unlock()
		return
	}
	if t.interval {
		// The timer has fired, so Reset schedules this callback (and arming)
		// again. Each tick runs in its own goroutine (AfterFunc's), so a
		// slow fn may overlap the next tick, as upstream's `go fn()`.
		t.timer.Reset(t.sleep)
	}
	t.mu.Unlock()
	t.fn()
}

// Refresh re-arms the timer: fn runs sleep from now (for an interval, every
// sleep from now), whether or not the timer had fired or been stopped.
func (t *Timer) Refresh() *Timer {
	t.mu.Lock()
	t.arm()
	t.mu.Unlock()
	return t
}

// Unref is kept for API compatibility. Upstream registers a cleanup that
// stops the timer once the Timer is unreachable, but its waiting goroutine
// keeps the Timer reachable for as long as the timer can fire, so the cleanup
// never stops a pending timer. Here too the runtime's timer keeps a pending
// Timer reachable, and an unreachable Timer has nothing left to stop.
func (t *Timer) Unref() {}

// SetTimeout runs fn once, sleep from now (or from the last Refresh).
func SetTimeout(fn func(), sleep time.Duration) *Timer {
	return newTimer(fn, sleep, false)
}

// ClearTimeout stops timer; nil is allowed.
func ClearTimeout(timer *Timer) {
	if timer != nil {
		timer.Stop()
	}
}

// Stop cancels the timer: no run of fn starts after Stop returns (one already
// started is not interrupted). Refresh arms it again.
func (t *Timer) Stop() {
	t.mu.Lock()
	t.gen++ // a callback already on its way does nothing
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
}

// SetInterval runs fn every sleep, each run in its own goroutine, until the
// timer is stopped.
func SetInterval(fn func(), sleep time.Duration) *Timer {
	return newTimer(fn, sleep, true)
}

// ClearInterval stops timer; nil is allowed.
func ClearInterval(timer *Timer) {
	ClearTimeout(timer)
}

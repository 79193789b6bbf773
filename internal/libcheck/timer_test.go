package libcheck

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v3/pkg/utils"
)

// eventually waits up to 5 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestTimeoutFiresOnce(t *testing.T) {
	var n atomic.Int32
	start := time.Now()
	var firedAfter atomic.Int64
	utils.SetTimeout(func() {
		firedAfter.Store(int64(time.Since(start)))
		n.Add(1)
	}, 20*time.Millisecond)
	eventually(t, "the timeout", func() bool { return n.Load() == 1 })
	if d := time.Duration(firedAfter.Load()); d < 20*time.Millisecond {
		t.Fatalf("fired after %v, before its 20ms", d)
	}
	staysAt(t, &n, 1, 100*time.Millisecond)
}

func TestStopPreventsFiring(t *testing.T) {
	var n atomic.Int32
	tm := utils.SetTimeout(func() { n.Add(1) }, 50*time.Millisecond)
	tm.Stop()
	utils.ClearTimeout(tm) // twice is fine
	staysAt(t, &n, 0, 150*time.Millisecond)
}

func TestClearNil(t *testing.T) {
	utils.ClearTimeout(nil)
	utils.ClearInterval(nil)
}

// Refresh moves a pending timer: it fires once, a full sleep after the
// Refresh.
func TestRefreshPostpones(t *testing.T) {
	const sleep = 300 * time.Millisecond
	var n atomic.Int32
	var firedAt atomic.Int64
	tm := utils.SetTimeout(func() {
		firedAt.Store(time.Now().UnixNano())
		n.Add(1)
	}, sleep)
	time.Sleep(sleep / 2)
	refreshed := time.Now()
	if tm.Refresh() != tm {
		t.Fatal("Refresh does not return its timer")
	}
	eventually(t, "the refreshed timeout", func() bool { return n.Load() == 1 })
	if d := time.Unix(0, firedAt.Load()).Sub(refreshed); d < sleep {
		t.Fatalf("fired %v after Refresh, want at least %v", d, sleep)
	}
	staysAt(t, &n, 1, sleep+100*time.Millisecond)
}

// Refresh re-arms a timer that fired (the engine's ping interval) or was
// stopped, as Node's timeout.refresh() does.
func TestRefreshRearms(t *testing.T) {
	var n atomic.Int32
	tm := utils.SetTimeout(func() { n.Add(1) }, 10*time.Millisecond)
	eventually(t, "the first run", func() bool { return n.Load() == 1 })
	tm.Refresh()
	eventually(t, "the run after Refresh", func() bool { return n.Load() == 2 })

	tm.Stop()
	tm.Refresh()
	eventually(t, "the run after Stop and Refresh", func() bool { return n.Load() == 3 })
	staysAt(t, &n, 3, 50*time.Millisecond)
}

func TestIntervalRunsUntilCleared(t *testing.T) {
	var n atomic.Int32
	tm := utils.SetInterval(func() { n.Add(1) }, 5*time.Millisecond)
	tm.Unref()
	eventually(t, "three ticks", func() bool { return n.Load() >= 3 })
	utils.ClearInterval(tm)
	stopped := n.Load()
	time.Sleep(50 * time.Millisecond)
	if got := n.Load(); got > stopped+1 { // one tick may have started before ClearInterval
		t.Fatalf("%d ticks after ClearInterval", got-stopped)
	}
}

// Stop racing with the callback, Refresh and other Stops: after the last
// Stop returns, at most a run that had already started may still land, and
// the race detector sees the timer's state consistently.
func TestConcurrentStopAndRefresh(t *testing.T) {
	var n atomic.Int32
	timers := make([]*utils.Timer, 200)
	for i := range timers {
		timers[i] = utils.SetTimeout(func() { n.Add(1) }, time.Duration(i%5)*time.Microsecond)
	}
	var wg sync.WaitGroup
	for _, tm := range timers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 20 {
				tm.Refresh()
				runtime.Gosched()
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				tm.Stop()
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	for _, tm := range timers {
		tm.Stop()
	}
	stopped := n.Load()
	time.Sleep(50 * time.Millisecond)
	if late := n.Load() - stopped; late > int32(len(timers)) {
		t.Fatalf("%d runs after every timer was stopped", late)
	}
}

// A pending timer holds no goroutine (upstream v3.0.5 parks one per timer).
func TestPendingTimersHoldNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	timers := make([]*utils.Timer, 1000)
	for i := range timers {
		timers[i] = utils.SetTimeout(func() {}, time.Hour)
	}
	during := runtime.NumGoroutine()
	for _, tm := range timers {
		utils.ClearTimeout(tm)
	}
	if during-before > 10 {
		t.Fatalf("1,000 pending timers hold %d goroutines", during-before)
	}
}

// staysAt waits d and requires the count of runs to be want: no late or
// extra run.
func staysAt(t *testing.T, n *atomic.Int32, want int32, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if got := n.Load(); got != want {
		t.Fatalf("fired %d times, want %d", got, want)
	}
}

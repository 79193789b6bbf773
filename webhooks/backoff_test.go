package webhooks

import (
	"testing"
	"time"
)

// TestBackoff: the pause doubles with each failure up to the cap, is
// drawn between half and all of it, and is the same for one attempt
// however often it is asked.
func TestBackoff(t *testing.T) {
	d := NewDispatcher(nil, nil, Options{Backoff: time.Second, MaxBackoff: time.Minute})
	last := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for failures, full := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second,
		7: time.Minute, 40: time.Minute} {
		p := d.backoff(failures, last)
		if p < full/2 || p > full {
			t.Errorf("after %d failures: %s, want %s to %s", failures, p, full/2, full)
		}
		if again := d.backoff(failures, last); again != p {
			t.Errorf("after %d failures: %s, then %s", failures, p, again)
		}
	}
	seen := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		seen[d.backoff(3, last.Add(time.Duration(i)*time.Millisecond))] = true
	}
	if len(seen) < 10 {
		t.Errorf("20 attempts drew %d pauses: no jitter", len(seen))
	}
}

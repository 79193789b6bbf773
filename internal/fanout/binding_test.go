package fanout

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	th := NewThrottle(50 * time.Millisecond)
	if !th.Allow("a") {
		t.Fatal("the first notice was held back")
	}
	if th.Allow("a") {
		t.Fatal("a second notice within the interval went through")
	}
	if !th.Allow("b") {
		t.Fatal("another key was held back")
	}
	time.Sleep(60 * time.Millisecond)
	if !th.Allow("a") {
		t.Fatal("a notice after the interval was held back")
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{}.WithDefaults()
	if o.AuthGrace != 10*time.Second || o.TypingInterval != time.Second || o.Logger == nil {
		t.Fatalf("defaults: %+v", o)
	}
	if got := (Options{AuthGrace: time.Second}).WithDefaults().AuthGrace; got != time.Second {
		t.Fatalf("a set AuthGrace became %v", got)
	}
}

package limiter

import (
	"testing"
	"time"
)

// TestUsageIsTakenAndCharged: a tracking limiter counts what each key's
// buckets gave, once per TakeUsage; what other nodes took is charged to
// the local buckets, into debt, which later events wait out.
func TestUsageIsTakenAndCharged(t *testing.T) {
	l, clk, _ := newTestLimiter(Options{AbuseRefusals: 1000, MessageRate: 1, MessageBurst: 5})
	who := Who{Principal: user1}
	if u := l.TakeUsage(); u != nil {
		t.Fatalf("usage before tracking: %v", u)
	}
	l.TrackUsage()
	admitted(l, who, Message, 2, nil)
	admitted(l, who, Event, 1, nil)
	key := PrincipalKey(user1)
	if u := l.TakeUsage(); u[key] != (Usage{Events: 3, Messages: 2}) || len(u) != 1 {
		t.Fatalf("usage %v", u)
	}
	if u := l.TakeUsage(); u != nil {
		t.Fatalf("usage taken twice: %v", u)
	}
	l.Charge(key, Usage{Events: 5, Messages: 5}) // 3 messages left: 2 of debt
	if n := admitted(l, who, Message, 1, nil); n != 0 {
		t.Fatal("a message given in debt")
	}
	clk.add(2 * time.Second) // the debt paid, nothing more
	if n := admitted(l, who, Message, 1, nil); n != 0 {
		t.Fatal("a message given before the debt was paid back")
	}
	clk.add(time.Second)
	if n := admitted(l, who, Message, 5, nil); n != 1 {
		t.Fatalf("%d messages after paying back, want 1", n)
	}
	l.Charge(PrincipalKey(user2), Usage{Events: 50}) // no bucket here: nothing to charge
	if l.Buckets() != 1 {
		t.Fatalf("%d buckets: a charge made one", l.Buckets())
	}
}

package limiter

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
)

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder keeps what the limiter published.
type recorder struct {
	mu     sync.Mutex
	events []switchboard.Event
}

func (r *recorder) Publish(evs []switchboard.Event) {
	r.mu.Lock()
	r.events = append(r.events, evs...)
	r.mu.Unlock()
}

func (r *recorder) named(name string) []switchboard.UserNotice {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []switchboard.UserNotice
	for _, ev := range r.events {
		if ev.Name == name {
			if ev.Protocol != switchboard.ProtocolStream {
				panic("a limiter event for a socket protocol: " + ev.Protocol)
			}
			out = append(out, ev.Args[0].(switchboard.UserNotice))
		}
	}
	return out
}

func newTestLimiter(opts Options) (*Limiter, *clock, *recorder) {
	rec := &recorder{}
	opts.Publisher = rec
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	l := New(opts)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l.now = c.now
	return l, c, rec
}

var (
	user1 = switchboard.Principal{ID: "user-1", Role: switchboard.RoleUser, Tenant: "t"}
	user2 = switchboard.Principal{ID: "user-2", Role: switchboard.RoleUser, Tenant: "t"}
	prog  = switchboard.Principal{ID: "program-42", Role: switchboard.RoleProgram, ProgramID: "program-42", Tenant: "t"}
)

// admitted counts how many of n events of kind are let through now.
func admitted(l *Limiter, w Who, kind Kind, n int, s *Strikes) int {
	ok := 0
	for range n {
		if _, err := l.Admit(w, kind, s); err == nil {
			ok++
		}
	}
	return ok
}

func TestMessagesBurstThenRate(t *testing.T) {
	l, clk, _ := newTestLimiter(Options{AbuseRefusals: 1000})
	who := Who{Principal: user1}
	if n := admitted(l, who, Message, 100, nil); n != DefaultMessageBurst {
		t.Fatalf("%d of 100 messages at once let through, want the burst %d", n, DefaultMessageBurst)
	}
	_, err := l.Admit(who, Message, nil)
	if switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
		t.Fatalf("over the limit: %v, want RATE_LIMITED", err)
	}
	clk.add(time.Second)
	if n := admitted(l, who, Message, 100, nil); n != DefaultMessageRate {
		t.Fatalf("%d messages a second later, want the rate %d", n, DefaultMessageRate)
	}
	// Another user's bucket is its own.
	if n := admitted(l, Who{Principal: user2}, Message, 5, nil); n != 5 {
		t.Fatalf("user-2 got %d of 5 messages: buckets are shared between users", n)
	}
}

func TestMessagesCountAsEvents(t *testing.T) {
	l, _, _ := newTestLimiter(Options{MessageRate: 1000, MessageBurst: 1000, AbuseRefusals: 1000})
	who := Who{Principal: user1}
	if n := admitted(l, who, Message, 60, nil); n != 60 {
		t.Fatalf("%d of 60 messages", n)
	}
	if n := admitted(l, who, Event, 100, nil); n != DefaultEventBurst-60 {
		t.Fatalf("%d events after 60 messages, want %d: messages must use the event bucket too", n, DefaultEventBurst-60)
	}
}

// A principal's sockets share its buckets: four sockets get one burst
// between them.
func TestSocketsShareTheBucket(t *testing.T) {
	l, _, _ := newTestLimiter(Options{AbuseRefusals: 1000})
	total := 0
	for range 4 {
		var s Strikes
		total += admitted(l, Who{Principal: user1}, Message, 30, &s)
	}
	if total != DefaultMessageBurst {
		t.Fatalf("4 sockets got %d messages through, want one burst (%d)", total, DefaultMessageBurst)
	}
}

func TestProgramsAndTheirEndUsers(t *testing.T) {
	l, _, _ := newTestLimiter(Options{MessageBurst: 5, ProgramScale: 4, PerEndUser: true, AbuseRefusals: 1000})
	a := Who{Principal: prog, EndUser: "program-42/a"}
	b := Who{Principal: prog, EndUser: "program-42/b"}
	if n := admitted(l, a, Message, 50, nil); n != 5 {
		t.Fatalf("end user a got %d messages through, want its own burst 5", n)
	}
	if n := admitted(l, b, Message, 50, nil); n != 5 {
		t.Fatalf("end user b got %d, want 5: end users have buckets of their own", n)
	}
	// The program's own bucket (burst 20) has 10 left for the others.
	got := 0
	for _, u := range []string{"c", "d", "e"} {
		got += admitted(l, Who{Principal: prog, EndUser: "program-42/" + u}, Message, 50, nil)
	}
	if got != 10 {
		t.Fatalf("the program's other end users got %d through, want the 10 left of the program's burst 20", got)
	}
	// Without PerEndUser only the program's bucket counts.
	l2, _, _ := newTestLimiter(Options{MessageBurst: 5, ProgramScale: 4, AbuseRefusals: 1000})
	if n := admitted(l2, a, Message, 50, nil); n != 20 {
		t.Fatalf("end user a got %d without PerEndUser, want the program's burst 20", n)
	}
}

func TestIdleBucketsAreDropped(t *testing.T) {
	l, clk, _ := newTestLimiter(Options{AbuseRefusals: 1000})
	for i := range 100 {
		p := user1
		p.ID = "user-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		admitted(l, Who{Principal: p}, Message, 1, nil)
	}
	if n := l.Buckets(); n != 100 {
		t.Fatalf("%d buckets for 100 users", n)
	}
	clk.add(time.Minute)
	admitted(l, Who{Principal: user1}, Message, 1, nil) // a later event sweeps
	if n := l.Buckets(); n != 1 {
		t.Fatalf("%d buckets a minute later, want only the active one", n)
	}
}

func TestUnlimitedRates(t *testing.T) {
	l, _, _ := newTestLimiter(Options{MessageRate: -1, EventRate: -1})
	if n := admitted(l, Who{Principal: user1}, Message, 10000, nil); n != 10000 {
		t.Fatalf("%d of 10000 with no limit", n)
	}
}

// Refusals publish userChatRateLimited at most once per window; a socket
// refused AbuseRefusals times within the window is cut off, with
// userDisconnected {forced: true}.
func TestSustainedAbuseCutsTheSocketOff(t *testing.T) {
	l, clk, rec := newTestLimiter(Options{MessageBurst: 1, AbuseRefusals: 20, AbuseWindow: 10 * time.Second})
	who := Who{Principal: user1}
	var s Strikes
	admitted(l, who, Message, 1, &s)
	for i := 1; i < 20; i++ {
		if cut, err := l.Admit(who, Message, &s); cut || err == nil {
			t.Fatalf("refusal %d: cut off %v, err %v", i, cut, err)
		}
	}
	if got := rec.named(EventRateLimited); len(got) != 1 {
		t.Fatalf("%d userChatRateLimited events for 19 refusals in one window, want 1", len(got))
	} else if got[0].Code != switchboard.ERATELIMITED || got[0].Forced || got[0].UserID != "user-1" || got[0].Tenant != "t" {
		t.Fatalf("userChatRateLimited %+v", got[0])
	}
	if len(rec.named(EventDisconnected)) != 0 {
		t.Fatal("userDisconnected before the socket was cut off")
	}
	cut, err := l.Admit(who, Message, &s)
	if !cut || switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
		t.Fatalf("the 20th refusal: cut off %v, err %v", cut, err)
	}
	if got := rec.named(EventDisconnected); len(got) != 1 || !got[0].Forced || got[0].Code != switchboard.ERATELIMITED {
		t.Fatalf("userDisconnected events %+v, want one with forced", got)
	}
	// Refusals spread over windows do not add up; a new window reports again.
	var s2 Strikes
	for range 5 {
		clk.add(11 * time.Second)
		l.Admit(who, Message, &s2) // a token came back: allowed
		if cut, _ := l.Admit(who, Message, &s2); cut {
			t.Fatal("a socket refused once per window was cut off")
		}
	}
	if got := rec.named(EventRateLimited); len(got) != 6 {
		t.Fatalf("%d userChatRateLimited events over 6 windows, want 6", len(got))
	}
}

// TestAdmitAddress: an address has its burst of new visitors, then one
// per 1/rate; another address is not touched; the bucket goes once full.
func TestAdmitAddress(t *testing.T) {
	l := New(Options{AddressRate: 0.5, AddressBurst: 3})
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	for i := range 3 {
		if err := l.AdmitAddress("192.0.2.1"); err != nil {
			t.Fatalf("visitor %d refused within the burst: %v", i, err)
		}
	}
	if err := l.AdmitAddress("192.0.2.1"); switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
		t.Fatalf("beyond the burst: %v, want RATE_LIMITED", err)
	}
	if err := l.AdmitAddress("192.0.2.2"); err != nil {
		t.Fatalf("another address refused: %v", err)
	}
	now = now.Add(2 * time.Second) // one token back at 0.5/s
	if err := l.AdmitAddress("192.0.2.1"); err != nil {
		t.Fatalf("after 2s at 0.5/s: %v", err)
	}
	now = now.Add(time.Hour)
	l.AdmitAddress("192.0.2.3")
	if n := l.Buckets(); n != 1 {
		t.Fatalf("%d buckets after an hour, want 1 (the full ones swept)", n)
	}
}

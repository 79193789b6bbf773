package sockets

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// owner records what its Conn tells it.
type owner struct {
	graceOver chan struct{}
	expired   chan switchboard.Principal
}

func newOwner() *owner {
	return &owner{graceOver: make(chan struct{}, 4), expired: make(chan switchboard.Principal, 4)}
}

func (o *owner) GraceOver()                           { o.graceOver <- struct{}{} }
func (o *owner) TokenExpired(p switchboard.Principal) { o.expired <- p }

// presence counts Connect and Disconnect per user.
type presence struct {
	mu sync.Mutex
	n  map[string]int
}

func (p *presence) Connect(tenant, id string) { p.add(tenant+"/"+id, 1) }

func (p *presence) Disconnect(tenant, id string) { p.add(tenant+"/"+id, -1) }

func (p *presence) add(k string, d int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = map[string]int{}
	}
	p.n[k] += d
}

func (p *presence) count(k string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[k]
}

func user(id string, lives time.Duration) switchboard.Principal {
	return switchboard.Principal{ID: id, Tenant: "t", Role: switchboard.RoleUser, ExpiresAt: time.Now().Add(lives)}
}

func start(s *Settings) (*Conn, *owner) {
	c, o := &Conn{}, newOwner()
	c.Start(s, o)
	return c, o
}

func quietLimiter(opts limiter.Options) *limiter.Limiter {
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return limiter.New(opts)
}

func TestGraceEndsAnUnauthenticatedSocket(t *testing.T) {
	c, o := start(&Settings{AuthGrace: 20 * time.Millisecond})
	select {
	case <-o.graceOver:
	case <-time.After(5 * time.Second):
		t.Fatal("the grace never ran out")
	}
	if c.Active() {
		t.Error("an unauthenticated socket is active")
	}
}

func TestAuthenticationEndsTheGrace(t *testing.T) {
	c, o := start(&Settings{AuthGrace: 20 * time.Millisecond})
	a, err := c.Authenticate(user("ann", time.Hour))
	if err != nil || !a.First || a.Restored {
		t.Fatalf("Authenticate = %+v, %v; want a first authentication", a, err)
	}
	select {
	case <-o.graceOver:
		t.Fatal("the grace ran out for an authenticated socket")
	case <-time.After(100 * time.Millisecond):
	}
	if !c.Active() || c.Principal().ID != "ann" {
		t.Errorf("Active = %v, Principal = %q; want active as ann", c.Active(), c.Principal().ID)
	}
}

func TestExpiryRefusesEventsUntilAFreshToken(t *testing.T) {
	c, o := start(&Settings{AuthGrace: time.Hour})
	p := user("ann", 20*time.Millisecond)
	if _, err := c.Authenticate(p); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-o.expired:
		if got.ID != "ann" || !got.ExpiresAt.Equal(p.ExpiresAt) {
			t.Errorf("TokenExpired(%+v), want ann's expiring token", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the token never expired")
	}
	if c.Active() {
		t.Error("a socket whose token expired is active")
	}
	a, err := c.Authenticate(user("ann", time.Hour))
	if err != nil || a.First || !a.Restored {
		t.Fatalf("Authenticate after expiry = %+v, %v; want a restoring one", a, err)
	}
	if !c.Active() {
		t.Error("a fresh token did not make the socket active again")
	}
}

func TestARefreshedTokenOutlivesTheOldOne(t *testing.T) {
	c, o := start(&Settings{AuthGrace: time.Hour})
	if _, err := c.Authenticate(user("ann", 20*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if a, err := c.Authenticate(user("ann", time.Hour)); err != nil || a.First || a.Restored {
		t.Fatalf("refresh = %+v, %v; want neither first nor restoring", a, err)
	}
	select {
	case p := <-o.expired:
		t.Fatalf("the replaced token's expiry ended the socket (%v)", p.ExpiresAt)
	case <-time.After(100 * time.Millisecond):
	}
	if !c.Active() {
		t.Error("a refreshed socket is not active")
	}
}

func TestASocketKeepsOneIdentity(t *testing.T) {
	c, _ := start(&Settings{AuthGrace: time.Hour})
	if _, err := c.Authenticate(user("ann", time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Authenticate(user("bob", time.Hour))
	if switchboard.ErrorCode(err) != switchboard.EFORBIDDEN {
		t.Fatalf("another user's token: %v, want FORBIDDEN", err)
	}
	if c.Principal().ID != "ann" {
		t.Errorf("the socket is now %q", c.Principal().ID)
	}
}

func TestCloseGivesTheSlotBackOnce(t *testing.T) {
	lim := quietLimiter(limiter.Options{MaxConnsPerPrincipal: 1})
	s := &Settings{AuthGrace: time.Hour, Limiter: lim}
	ann := user("ann", time.Hour)
	first, _ := start(s)
	second, _ := start(s)
	third, _ := start(s)
	if err := first.HoldSlot(ann); err != nil {
		t.Fatal(err)
	}
	if err := first.HoldSlot(ann); err != nil {
		t.Fatalf("a socket holding its slot asked again: %v", err)
	}
	if err := second.HoldSlot(ann); switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
		t.Fatalf("a second socket over the limit: %v, want RATE_LIMITED", err)
	}
	first.Close()
	first.Close()
	if err := second.HoldSlot(ann); err != nil {
		t.Fatalf("the closed socket's slot was not given back: %v", err)
	}
	if err := third.HoldSlot(ann); switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
		t.Fatalf("closing twice gave back another socket's slot: %v", err)
	}
	if _, err := first.Authenticate(ann); err != ErrClosed {
		t.Errorf("Authenticate after Close = %v, want ErrClosed", err)
	}
}

func TestPresenceCountsASocketOnce(t *testing.T) {
	pr := &presence{}
	c, _ := start(&Settings{AuthGrace: time.Hour, Presence: pr})
	c.CountPresence()
	if n := pr.count("t/ann"); n != 0 {
		t.Fatalf("an unauthenticated socket counted: %d", n)
	}
	if _, err := c.Authenticate(user("ann", time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.CountPresence()
	c.CountPresence()
	if n := pr.count("t/ann"); n != 1 {
		t.Fatalf("counted %d times, want once", n)
	}
	c.Close()
	c.Close()
	c.CountPresence()
	if n := pr.count("t/ann"); n != 0 {
		t.Fatalf("after Close: %d, want 0", n)
	}
}

func TestStrikesCutASocketOff(t *testing.T) {
	lim := quietLimiter(limiter.Options{EventRate: 0.001, EventBurst: 1, AbuseRefusals: 3, AbuseWindow: time.Hour})
	s := &Settings{AuthGrace: time.Hour, Limiter: lim}
	ann := limiter.Who{Principal: user("ann", time.Hour)}
	abuser, _ := start(s)
	other, _ := start(s)
	if cut, err := abuser.Admit(ann, limiter.Event); cut || err != nil {
		t.Fatalf("the first event: cutOff %v, %v", cut, err)
	}
	for i := 1; i <= 2; i++ {
		cut, err := abuser.Admit(ann, limiter.Event)
		if cut || switchboard.ErrorCode(err) != switchboard.ERATELIMITED {
			t.Fatalf("refusal %d: cutOff %v, %v; want RATE_LIMITED only", i, cut, err)
		}
	}
	// The other socket shares the bucket but not the strikes.
	if cut, err := other.Admit(ann, limiter.Event); cut || err == nil {
		t.Fatalf("another socket's first refusal: cutOff %v, %v", cut, err)
	}
	if cut, err := abuser.Admit(ann, limiter.Event); !cut || err == nil {
		t.Fatalf("the third refusal: cutOff %v, %v; want cut off", cut, err)
	}
}

func TestNoLimiterAdmitsEverything(t *testing.T) {
	c, _ := start(&Settings{AuthGrace: time.Hour})
	for i := 0; i < 1000; i++ {
		if cut, err := c.Admit(limiter.Who{Principal: user("ann", time.Hour)}, limiter.Message); cut || err != nil {
			t.Fatalf("event %d: cutOff %v, %v", i, cut, err)
		}
	}
	if err := c.HoldSlot(user("ann", time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func TestTypingIsThrottledPerConversation(t *testing.T) {
	c, _ := start(&Settings{AuthGrace: time.Hour, TypingInterval: time.Hour})
	if !c.AllowTyping("a") || c.AllowTyping("a") || !c.AllowTyping("b") {
		t.Error("want one typing notice per conversation per interval")
	}
}

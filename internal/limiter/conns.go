package limiter

import (
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard"
)

// counter counts what is held per key (connections, requests in
// flight); a key at zero takes no memory.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

// acquire counts one more for key unless it already has max (max < 0: no
// limit).
func (c *counter) acquire(key string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if max >= 0 && c.n[key] >= max {
		return false
	}
	c.n[key]++
	return true
}

func (c *counter) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] <= 1 {
		delete(c.n, key)
		return
	}
	c.n[key]--
}

func (c *counter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// Release gives back what an acquire took. Calling it again does nothing.
type Release func()

func once(c *counter, key string) Release {
	var o sync.Once
	return func() { o.Do(func() { c.release(key) }) }
}

// ConnectIP counts one more Socket.IO connection from the client address
// ip, across both protocols. Over MaxConnsPerIP it returns a RATE_LIMITED
// error and counts nothing.
func (l *Limiter) ConnectIP(ip string) (Release, error) {
	key := "ip\x00" + ip
	if !l.conns.acquire(key, l.opts.MaxConnsPerIP) {
		l.opts.Logger.Warn("connection refused: too many from one address", "ip", ip, "max", l.opts.MaxConnsPerIP)
		return nil, switchboard.Errorf(switchboard.ERATELIMITED,
			"too many connections from your address (at most %d)", l.opts.MaxConnsPerIP)
	}
	return once(&l.conns, key), nil
}

// ConnectPrincipal counts one more authenticated socket of p, across both
// protocols. Over MaxConnsPerPrincipal, or within AbuseWindow of one of
// p's sockets being cut off, it returns a RATE_LIMITED error and counts
// nothing.
func (l *Limiter) ConnectPrincipal(p switchboard.Principal) (Release, error) {
	if wait := l.coolingDown(p); wait > 0 {
		return nil, switchboard.Errorf(switchboard.ERATELIMITED,
			"a socket of %s was cut off for sending too much; connect again in %s", p.ID, wait.Round(time.Second))
	}
	key := "p\x00" + PrincipalKey(p)
	if !l.conns.acquire(key, l.opts.MaxConnsPerPrincipal) {
		l.opts.Logger.Warn("connection refused: too many of one principal", "user", p.ID, "role", p.Role,
			"tenant", p.Tenant, "max", l.opts.MaxConnsPerPrincipal)
		return nil, switchboard.Errorf(switchboard.ERATELIMITED,
			"too many connections for %s (at most %d); close some", p.ID, l.opts.MaxConnsPerPrincipal)
	}
	return once(&l.conns, key), nil
}

// Connections is how many sockets the client address ip holds.
func (l *Limiter) Connections(ip string) int { return l.conns.count("ip\x00" + ip) }

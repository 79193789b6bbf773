package fanout

import "sync"

// Presence counts live sockets per user (tenant and id) on this node and
// reports the transitions: a user's first socket brings it online, its
// last one takes it offline. Both protocol bindings count with it: the
// chat service's presence (any authenticated socket) and the operators'
// (subscribed operator sockets). The zero value is ready to use.
type Presence struct {
	mu      sync.Mutex
	sockets map[presenceKey]int
}

type presenceKey struct{ tenant, id string }

// Add counts one more socket of the user; it reports whether the user
// just came online.
func (p *Presence) Add(tenant, id string) (cameOnline bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sockets == nil {
		p.sockets = map[presenceKey]int{}
	}
	k := presenceKey{tenant, id}
	p.sockets[k]++
	return p.sockets[k] == 1
}

// Remove counts one socket of the user less; it reports whether the user
// just went offline. Removing from a user with no socket does nothing.
func (p *Presence) Remove(tenant, id string) (wentOffline bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := presenceKey{tenant, id}
	if p.sockets[k] == 0 {
		return false
	}
	p.sockets[k]--
	if p.sockets[k] == 0 {
		delete(p.sockets, k)
		return true
	}
	return false
}

// Online reports whether the user has a counted socket.
func (p *Presence) Online(tenant, id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sockets[presenceKey{tenant, id}] > 0
}

package fanout

import "sync"

// Presence counts live sockets per user (tenant and id) on this node and
// reports the transitions: a user's first socket brings it online, its
// last one takes it offline. Both protocol bindings count with it: the
// chat service's presence (any authenticated socket) and the operators'
// (subscribed operator sockets). The zero value is ready to use.
//
// In a cluster the counts are shared (Share): a user is online while it
// has a socket on any node.
type Presence struct {
	mu      sync.Mutex
	sockets map[presenceKey]int
	shared  Shared
}

// Shared counts sockets across the nodes of a cluster
// (internal/cluster): Add and Remove report the transitions of the
// user's count on all nodes together, each to one node only.
type Shared interface {
	Add(tenant, id string) (cameOnline bool)
	Remove(tenant, id string) (wentOffline bool)
	Online(tenant, id string) bool
}

// Share counts in s from now on instead of in memory. Call it before any
// socket is counted.
func (p *Presence) Share(s Shared) {
	p.mu.Lock()
	p.shared = s
	p.mu.Unlock()
}

// sharedCounts returns the cluster's counts, nil when alone.
func (p *Presence) sharedCounts() Shared {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.shared
}

type presenceKey struct{ tenant, id string }

// Add counts one more socket of the user; it reports whether the user
// just came online.
func (p *Presence) Add(tenant, id string) (cameOnline bool) {
	if s := p.sharedCounts(); s != nil {
		return s.Add(tenant, id)
	}
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
	if s := p.sharedCounts(); s != nil {
		return s.Remove(tenant, id)
	}
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
	if s := p.sharedCounts(); s != nil {
		return s.Online(tenant, id)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sockets[presenceKey{tenant, id}] > 0
}

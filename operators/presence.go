// Package operators knows the operators: who is online to take tickets.
package operators

import "sync"

// Presence counts each operator's subscribed sockets on this node. An
// operator is online while at least one of its authenticated sockets has
// called subscribeOperator and not unsubscribeOperator (or disconnected).
// The zero value is ready to use.
type Presence struct {
	mu      sync.Mutex
	sockets map[string]int // tenant + "\x00" + operator id → subscribed sockets
}

func key(tenant, id string) string { return tenant + "\x00" + id }

// Join counts one more subscribed socket; it reports whether the operator
// just came online.
func (p *Presence) Join(tenant, id string) (cameOnline bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sockets == nil {
		p.sockets = map[string]int{}
	}
	k := key(tenant, id)
	p.sockets[k]++
	return p.sockets[k] == 1
}

// Leave counts one subscribed socket less; it reports whether the operator
// just went offline.
func (p *Presence) Leave(tenant, id string) (wentOffline bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := key(tenant, id)
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

// Online reports whether the operator has a subscribed socket.
func (p *Presence) Online(tenant, id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sockets[key(tenant, id)] > 0
}

// Package operators knows the operators: who is online to take tickets.
package operators

import "github.com/switchboard-chat/switchboard/internal/fanout"

// Presence counts each operator's subscribed sockets. An
// operator is online while at least one of its authenticated sockets has
// called subscribeOperator and not unsubscribeOperator (or disconnected).
// The zero value is ready to use. In a cluster the counts are shared
// (Share): routing, the roster and "nobody online" see every node's.
type Presence struct{ sockets fanout.Presence }

// Join counts one more subscribed socket; it reports whether the operator
// just came online.
func (p *Presence) Join(tenant, id string) (cameOnline bool) { return p.sockets.Add(tenant, id) }

// Leave counts one subscribed socket less; it reports whether the operator
// just went offline.
func (p *Presence) Leave(tenant, id string) (wentOffline bool) { return p.sockets.Remove(tenant, id) }

// Online reports whether the operator has a subscribed socket.
func (p *Presence) Online(tenant, id string) bool { return p.sockets.Online(tenant, id) }

// Share counts the subscribed sockets of every node of a cluster in s
// (internal/cluster) from now on; call it before any socket subscribes.
func (p *Presence) Share(s fanout.Shared) { p.sockets.Share(s) }

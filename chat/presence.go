package chat

import (
	"sync"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
)

// Presence counts the live, authenticated sockets of each user on this
// node, under either protocol: a user is online while it has at least one.
// Both protocol bindings report their sockets to the one Presence, so a
// user is online (and its status applies) the same way whichever protocol
// it speaks.
//
// Alone, a node counts in memory. In a cluster the counts are shared
// (Share, internal/cluster): a user is online while it has a socket on
// any node, and each coming and going is heard on one node only, the one
// whose count made it (or, for the sockets of a node that died, the node
// that noticed: Gone).
type Presence struct {
	sockets fanout.Presence
	mu      sync.Mutex // guards onChange
	// onChange, when set, hears each user coming online and going
	// offline, outside the lock, in the order the changes happened for
	// that user.
	onChange func(tenant, userID string, online bool)
	order    sync.Mutex // serializes counting with its onChange call
}

// NewPresence returns an empty registry; onChange (may be nil) hears
// every user coming online or going offline.
func NewPresence(onChange func(tenant, userID string, online bool)) *Presence {
	return &Presence{onChange: onChange}
}

// OnChange sets the function that hears users coming online and going
// offline. Set it before sockets connect.
func (p *Presence) OnChange(f func(tenant, userID string, online bool)) {
	p.mu.Lock()
	p.onChange = f
	p.mu.Unlock()
}

func (p *Presence) changed() func(tenant, userID string, online bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.onChange
}

// Connect counts one more live socket of the user.
func (p *Presence) Connect(tenant, userID string) {
	p.order.Lock()
	defer p.order.Unlock()
	if p.sockets.Add(tenant, userID) {
		if f := p.changed(); f != nil {
			f(tenant, userID, true)
		}
	}
}

// Disconnect counts one live socket of the user less.
func (p *Presence) Disconnect(tenant, userID string) {
	p.order.Lock()
	defer p.order.Unlock()
	if p.sockets.Remove(tenant, userID) {
		if f := p.changed(); f != nil {
			f(tenant, userID, false)
		}
	}
}

// Share counts in s, the cluster's counts, from now on; call it before
// any socket connects.
func (p *Presence) Share(s fanout.Shared) { p.sockets.Share(s) }

// Gone hears that a user went offline because the node of its last
// sockets died (its heartbeats stopped): the node that noticed announces
// it, once for the cluster.
func (p *Presence) Gone(tenant, userID string) {
	p.order.Lock()
	defer p.order.Unlock()
	if f := p.changed(); f != nil {
		f(tenant, userID, false)
	}
}

// Online reports whether the user has a live socket (on any node of a
// cluster).
func (p *Presence) Online(tenant, userID string) bool { return p.sockets.Online(tenant, userID) }

// presenceChanged records when a user came online or went offline and
// tells the users who share a session with it. An INVISIBLE user's
// comings and goings are nobody's news.
func (s *Service) presenceChanged(tenant, userID string, online bool) {
	now := s.millis()
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		if err := SetLastSeen(tx, tenant, userID, now); err != nil {
			return nil, err
		}
		var evs []switchboard.Event
		if s.committer.Streaming() {
			evs = append(evs, connectionEvent(tenant, userID, online))
		}
		// The audience first: most users share no session with anyone,
		// and then their row is not needed.
		rooms, err := sharerRooms(tx, tenant, userID)
		if err != nil || len(rooms) == 0 {
			return evs, err
		}
		u, found, err := FindUser(tx, tenant, userID)
		if err != nil || !found || u.Status == Invisible {
			return evs, err
		}
		return append(evs, presenceEvents(u, online, rooms)...), nil
	}, nil)
}

// presenceEvents announce u coming online (with its details) or going
// offline to rooms, those of the users sharing a session with it.
func presenceEvents(u User, online bool, rooms []string) []switchboard.Event {
	if online {
		return []switchboard.Event{push("userOnline", userDetails(u, true, ""), "", "", rooms...)}
	}
	return []switchboard.Event{push("userDisconnected", map[string]any{"clientId": u.Tenant, "username": u.ID},
		"", "", rooms...)}
}

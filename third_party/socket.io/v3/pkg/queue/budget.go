package queue

import "sync"

// Budget bounds what is held at once, such as the bytes a connection has
// received and not yet handled. Switchboard patch (third_party/socket.io/
// PATCHES.md 16). Acquire waits while the budget is spent, so the reader
// that calls it stops reading and the kernel's TCP window pushes back on
// the sender. The zero value has no limit; it is small enough to embed in
// every connection.
type Budget struct {
	mu     sync.Mutex
	used   int64
	limit  int64
	closed bool
	wake   chan struct{} // made by the first waiter, closed by Release or Close
}

// SetLimit sets the most that may be held at once (<= 0: no limit).
func (b *Budget) SetLimit(limit int64) {
	b.mu.Lock()
	b.limit = limit
	b.mu.Unlock()
}

// Acquire takes n, first waiting while anything is held and n more would
// exceed the limit: one item always fits, however large, so nothing waits
// forever. After Close it never waits.
func (b *Budget) Acquire(n int64) {
	b.mu.Lock()
	for !b.closed && b.limit > 0 && b.used > 0 && b.used+n > b.limit {
		if b.wake == nil {
			b.wake = make(chan struct{})
		}
		wake := b.wake
		b.mu.Unlock()
		<-wake
		b.mu.Lock()
	}
	b.used += n
	b.mu.Unlock()
}

// Release gives back n and wakes the waiters.
func (b *Budget) Release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.wakeLocked()
	b.mu.Unlock()
}

// Close stops every wait, now and later: the connection is ending.
func (b *Budget) Close() {
	b.mu.Lock()
	b.closed = true
	b.wakeLocked()
	b.mu.Unlock()
}

func (b *Budget) wakeLocked() {
	if b.wake != nil {
		close(b.wake)
		b.wake = nil
	}
}

// Used is what is held now.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

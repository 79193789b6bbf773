package cluster

import (
	"sync"
	"time"
)

// sequencer hands batches to deliver in the order of the database's
// clock, whichever node they come from and in whatever order they
// arrive. Two nodes committing at nearly the same time publish in either
// order; the clock numbered their commits, and the later one is held
// here until the earlier one arrives.
//
// A number may never arrive: its node died between its commit and its
// publication, or Redis dropped the message (a subscriber too slow, a
// lost connection). After wait the sequencer goes on without it; a batch
// that arrives after that is delivered at once, out of order (counted in
// late), rather than lost: the client's catch-up on reconnect (since)
// is what restores a complete, ordered history.
type sequencer struct {
	wait    time.Duration
	deliver func(*batch)

	mu    sync.Mutex // held while delivering, so deliveries do not overlap
	start uint64     // the first number committed after this node began
	next  uint64     // the number to deliver next
	held  map[uint64]*batch
	timer *time.Timer // running while batches are held
	armed uint64      // counts the timers set: a stale one does nothing
	late  uint64
	gaps  uint64
}

// newSequencer starts at next, the first number not yet committed.
func newSequencer(next uint64, wait time.Duration, deliver func(*batch)) *sequencer {
	return &sequencer{start: next, next: next, wait: wait, deliver: deliver, held: map[uint64]*batch{}}
}

// add delivers b now if it is next (or not numbered, or behind), and then
// the held batches that follow it; otherwise it holds b.
func (s *sequencer) add(b *batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case b.seq == 0:
		s.deliver(b)
	case b.seq < s.next:
		if b.seq >= s.start {
			s.late++
		}
		s.deliver(b)
	case b.seq == s.next:
		s.deliver(b)
		s.next++
		s.drain()
	default:
		s.held[b.seq] = b
		if s.timer == nil {
			s.arm()
		}
	}
}

// drain delivers the held batches that are next, in order.
func (s *sequencer) drain() {
	for {
		b, ok := s.held[s.next]
		if !ok {
			break
		}
		delete(s.held, s.next)
		s.deliver(b)
		s.next++
	}
	// Stop the wait for the gap now filled; a later gap gets a wait of its
	// own.
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if len(s.held) > 0 {
		s.arm()
	}
}

// arm starts the wait for the number missing before the held batches.
func (s *sequencer) arm() {
	s.armed++
	armed := s.armed
	s.timer = time.AfterFunc(s.wait, func() { s.skip(armed) })
}

// skip gives up on the missing numbers before the first held batch, if
// the timer that calls it is still the current one.
func (s *sequencer) skip(armed uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if armed != s.armed || s.timer == nil {
		return
	}
	s.timer = nil
	if len(s.held) == 0 {
		return
	}
	first := uint64(0)
	for seq := range s.held {
		if first == 0 || seq < first {
			first = seq
		}
	}
	s.gaps += first - s.next
	s.next = first
	s.drain()
}

// stats reports the numbers skipped and the batches delivered late.
func (s *sequencer) stats() (gaps, late uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gaps, s.late
}

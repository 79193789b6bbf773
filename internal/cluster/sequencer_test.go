package cluster

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a sequencer's deliveries.
type recorder struct {
	mu   sync.Mutex
	seqs []uint64
}

func (r *recorder) deliver(b *batch) {
	r.mu.Lock()
	r.seqs = append(r.seqs, b.seq)
	r.mu.Unlock()
}

func (r *recorder) got() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seqs)
}

// TestSequencerDeliversInClockOrder: batches that arrive out of order (two
// nodes that committed 11 then 12 and published 12 first) are delivered
// in clock order; unnumbered ones at once.
func TestSequencerDeliversInClockOrder(t *testing.T) {
	var r recorder
	s := newSequencer(10, time.Hour, r.deliver)
	for _, seq := range []uint64{12, 0, 11, 10, 14, 13} {
		s.add(&batch{seq: seq})
	}
	if got, want := r.got(), []uint64{0, 10, 11, 12, 13, 14}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	if gaps, late := s.stats(); gaps != 0 || late != 0 {
		t.Fatalf("gaps %d late %d", gaps, late)
	}
}

// TestSequencerSkipsANumberThatNeverComes: a node that died between its
// commit and its publication leaves a gap; after the wait the others go
// on, and the batch, if it comes after all, is delivered, counted late.
// Batches committed before the node started pass at once.
func TestSequencerSkipsANumberThatNeverComes(t *testing.T) {
	var r recorder
	s := newSequencer(5, 50*time.Millisecond, r.deliver)
	s.add(&batch{seq: 3}) // committed before this node began
	s.add(&batch{seq: 6})
	s.add(&batch{seq: 7})
	if got := r.got(); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("delivered %v before the wait", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(r.got()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := r.got(); !slices.Equal(got, []uint64{3, 6, 7}) {
		t.Fatalf("delivered %v after the wait", got)
	}
	s.add(&batch{seq: 5})
	s.add(&batch{seq: 8})
	if got := r.got(); !slices.Equal(got, []uint64{3, 6, 7, 5, 8}) {
		t.Fatalf("delivered %v", got)
	}
	if gaps, late := s.stats(); gaps != 1 || late != 1 {
		t.Fatalf("gaps %d late %d, want 1 and 1", gaps, late)
	}
}

// TestSequencerWaitsAfreshForEachGap: a gap filled stops its wait; a
// later gap is waited for the whole time again.
func TestSequencerWaitsAfreshForEachGap(t *testing.T) {
	var r recorder
	s := newSequencer(1, 200*time.Millisecond, r.deliver)
	s.add(&batch{seq: 2})
	time.Sleep(150 * time.Millisecond)
	s.add(&batch{seq: 1}) // fills the first gap
	s.add(&batch{seq: 4}) // a new one: 3 is missing
	time.Sleep(100 * time.Millisecond)
	if got := r.got(); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("delivered %v: the second gap was not waited for afresh", got)
	}
	s.add(&batch{seq: 3})
	if got := r.got(); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Fatalf("delivered %v", got)
	}
}

package cluster

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/testredis"
)

// startBus starts a bus of node on Redis under prefix, whose deliveries
// r records in place of its sockets.
func startBus(t *testing.T, url, prefix, node string, r *recorder) *Bus {
	t.Helper()
	rdb, err := Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	b := NewBus(rdb, func() (uint64, error) { return 0, nil }, Options{Prefix: prefix, NodeID: node,
		GapWait: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	b.order.mu.Lock()
	b.order.deliver = r.deliver
	b.order.mu.Unlock()
	return b
}

// TestBusDeliversInCommitOrderWhateverThePublishingOrder: node X
// committed second and publishes first, node Y committed first and
// publishes a little later; every node, X included, delivers Y's Op
// first.
func TestBusDeliversInCommitOrderWhateverThePublishingOrder(t *testing.T) {
	url, prefix := testredis.Open(t)
	var onX, onY, onZ recorder
	x := startBus(t, url, prefix, "x", &onX)
	y := startBus(t, url, prefix, "y", &onY)
	startBus(t, url, prefix, "z", &onZ)
	ev := func(seq uint64) []switchboard.Event {
		return []switchboard.Event{{Name: "messageUpdated", To: []string{"user:t:u"}, Seq: seq}}
	}
	x.Publish(ev(2))
	time.Sleep(300 * time.Millisecond)
	if got := onZ.got(); len(got) != 0 {
		t.Fatalf("delivered %v before the first commit arrived", got)
	}
	y.Publish(ev(1))
	want := []uint64{1, 2}
	for _, r := range []*recorder{&onX, &onY, &onZ} {
		deadline := time.Now().Add(3 * time.Second) // within GapWait: no skipping
		for len(r.got()) < len(want) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := r.got(); !slices.Equal(got, want) {
			t.Fatalf("delivered %v, want %v", got, want)
		}
	}
}

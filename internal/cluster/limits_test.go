package cluster

import (
	"testing"

	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// TestNewUseChargesEachUseOnce: the others' use, read second by second,
// is charged once, whether read again in the same second, in the next,
// or after a pause; a first reading charges the last two seconds.
func TestNewUseChargesEachUseOnce(t *testing.T) {
	u := func(e, m int64) limiter.Usage { return limiter.Usage{Events: e, Messages: m} }
	for _, c := range []struct {
		name      string
		last, now seenUsage
		want      limiter.Usage
	}{
		{"first", seenUsage{}, seenUsage{100, u(3, 1), u(2, 2)}, u(5, 3)},
		{"same second", seenUsage{100, u(3, 1), u(2, 2)}, seenUsage{100, u(7, 1), u(2, 2)}, u(4, 0)},
		{"late into the second before", seenUsage{100, u(3, 1), u(2, 2)}, seenUsage{100, u(3, 1), u(4, 2)}, u(2, 0)},
		{"next second", seenUsage{100, u(3, 1), u(2, 2)}, seenUsage{101, u(1, 1), u(5, 1)}, u(3, 1)},
		{"after a pause", seenUsage{97, u(3, 1), u(2, 2)}, seenUsage{101, u(1, 1), u(5, 1)}, u(6, 2)},
	} {
		if got := newUse(c.last, c.now); got != c.want {
			t.Errorf("%s: charged %v, want %v", c.name, got, c.want)
		}
	}
}

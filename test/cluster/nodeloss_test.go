package cluster

import (
	"testing"
	"time"
)

// TestClusterNodeLoss runs three nodes behind nginx with users and
// operators spread over them and a steady load of messages, then, one
// after another: kills a node (SIGKILL) and restarts it, drains one
// (SIGTERM) and restarts it, and restarts every node in turn (a rolling
// deploy). Each time every client must be back, through nginx, on the
// nodes that remain; at the end every acked message must be stored once,
// in order, and have reached its operator in order, live or by the
// catch-up after a reconnect.
func TestClusterNodeLoss(t *testing.T) {
	c := startCluster(t, 3)
	l := startLoad(t, c, 12, 100*time.Millisecond)
	time.Sleep(2 * time.Second) // messages across nodes

	before, killed := l.reconnects(), time.Now()
	c.kill9(c.nodes[1])
	t.Logf("kill -9 %s: every client back in %v", c.nodes[1].name, l.allBack(t, killed, before, 20*time.Second).Round(time.Millisecond))
	c.start(c.nodes[1])
	time.Sleep(time.Second)

	before, drained := l.reconnects(), time.Now()
	c.drain(c.nodes[2], 15*time.Second)
	t.Logf("drain of %s: every client back in %v", c.nodes[2].name, l.allBack(t, drained, before, 20*time.Second).Round(time.Millisecond))
	c.start(c.nodes[2])
	time.Sleep(time.Second)

	rolling := time.Now()
	for _, nd := range c.nodes {
		before := l.reconnects()
		c.drain(nd, 15*time.Second)
		c.start(nd)
		l.allBack(t, rolling, before, 20*time.Second)
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("rolling restart of %d nodes in %v", len(c.nodes), time.Since(rolling).Round(time.Millisecond))
	l.finish(t)
}

// Package cluster joins the nodes of one Switchboard deployment through
// Redis: it delivers each node's committed events to the sockets of every
// node (Bus), in the order of their commits, and keeps who is online,
// across nodes, in Redis with heartbeats (Presence). A node without Redis
// uses none of it: its fan-out and presence stay in memory.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a node's place in the cluster.
type Options struct {
	// Prefix starts every key and channel of the deployment (default
	// "switchboard:"): deployments (and tests) sharing a Redis each use
	// their own.
	Prefix string
	// NodeID names this node (default: random).
	NodeID string
	// GapWait is how long delivery waits for an event missing in the
	// order of commits, the one of a node that died between its commit and
	// its publication, before it goes on without it (default 2s).
	GapWait time.Duration
	// PresenceTimeout is how long a node may go without a heartbeat
	// before the others take its sockets' presence away (default 15s);
	// it beats every third of it.
	PresenceTimeout time.Duration
	Logger          *slog.Logger
}

// WithDefaults fills in what o leaves unset.
func (o Options) WithDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = "switchboard:"
	}
	if o.NodeID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.NodeID = hex.EncodeToString(b[:])
	}
	if o.GapWait <= 0 {
		o.GapWait = 2 * time.Second
	}
	if o.PresenceTimeout <= 0 {
		o.PresenceTimeout = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Connect opens the Redis client of url (redis://host:port/db, rediss://
// for TLS) and checks that Redis answers.
func Connect(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("SWITCHBOARD_REDIS_URL: %w", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	return c, nil
}

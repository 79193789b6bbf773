package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/cluster"
	"github.com/switchboard-chat/switchboard/internal/limiter"
	"github.com/switchboard-chat/switchboard/operators"
	"github.com/switchboard-chat/switchboard/tickets"
)

// ClusterSettings join this node to others through Redis (package
// internal/cluster): fan-out across nodes in commit order, presence
// shared with heartbeats. Without a Redis URL the node is alone and
// keeps everything in memory.
type ClusterSettings struct {
	RedisURL string
	// Prefix starts every Redis key and channel of the deployment.
	Prefix string
	// PresenceTimeout is how long a node may miss heartbeats before the
	// others take its sockets offline.
	PresenceTimeout time.Duration
	// GapWait is how long delivery waits for an event missing in commit
	// order (its node died between commit and publication).
	GapWait time.Duration
	// NodeID names this node in the cluster (default: random).
	NodeID string
}

// On says the node is one of a cluster.
func (c ClusterSettings) On() bool { return c.RedisURL != "" }

// load binds the settings with Load's helpers.
func (c *ClusterSettings) load(str func(*string, setting, string), dur func(*time.Duration, setting, time.Duration)) {
	str(&c.RedisURL, setting{"redis-url", "SWITCHBOARD_REDIS_URL", "Redis URL (redis://host:6379/0) joining this node to the others of the deployment: events and presence cross nodes through it; requires PostgreSQL; empty = one node, all in memory"}, "")
	str(&c.Prefix, setting{"redis-prefix", "SWITCHBOARD_REDIS_PREFIX", "prefix of every Redis key and channel of this deployment"}, "switchboard:")
	dur(&c.PresenceTimeout, setting{"presence-timeout", "SWITCHBOARD_PRESENCE_TIMEOUT", "how long a node may miss heartbeats before the others take its sockets' users offline (it beats every third of it)"}, 15*time.Second)
	dur(&c.GapWait, setting{"cluster-gap-wait", "SWITCHBOARD_CLUSTER_GAP_WAIT", "how long delivery waits for an event missing in commit order before it goes on without it"}, 2*time.Second)
	str(&c.NodeID, setting{"node-id", "SWITCHBOARD_NODE_ID", "this node's name in the cluster; empty = random"}, "")
}

// check refuses a cluster on SQLite: the nodes share one database, and
// SQLite is a file of one machine with one writer.
func (c ClusterSettings) check(databaseURL string) error {
	if !c.On() {
		return nil
	}
	if !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return fmt.Errorf("SWITCHBOARD_REDIS_URL is set, so this node is one of several, which share one database: " +
			"SWITCHBOARD_DATABASE must be a postgres:// URL, not a SQLite file; unset SWITCHBOARD_REDIS_URL to run a single node on SQLite")
	}
	if _, err := redis.ParseURL(c.RedisURL); err != nil {
		return fmt.Errorf("SWITCHBOARD_REDIS_URL: %w", err)
	}
	if c.PresenceTimeout != 0 && c.PresenceTimeout < 3*time.Second { // 0: the default
		return fmt.Errorf("SWITCHBOARD_PRESENCE_TIMEOUT must be at least 3s, not %s", c.PresenceTimeout)
	}
	return nil
}

// options are the cluster package's.
func (c ClusterSettings) options(a *App) cluster.Options {
	return cluster.Options{Prefix: c.Prefix, NodeID: c.NodeID, GapWait: c.GapWait,
		PresenceTimeout: c.PresenceTimeout, Logger: a.log}
}

// joinCluster connects to Redis and makes the bus and the membership
// when the node is one of a cluster (it leaves them nil when it is alone).
func (a *App) joinCluster() error {
	if !a.cfg.Cluster.On() {
		return nil
	}
	rdb, err := cluster.Connect(context.Background(), a.cfg.Cluster.RedisURL)
	if err != nil {
		return err
	}
	a.redis = rdb
	opts := a.cfg.Cluster.options(a).WithDefaults()
	a.cfg.Cluster.NodeID = opts.NodeID // one name for every part of the node
	a.bus = cluster.NewBus(rdb, a.db.Clock, opts)
	a.members = cluster.NewMembership(rdb, opts)
	return nil
}

// shareCounts makes both presences count across the nodes: users' sockets
// (either protocol), whose departure with a dead node is announced as
// their own would be, and operators' subscriptions (routing, the roster).
func (a *App) shareCounts(users *chat.Presence, subscribed *operators.Presence) {
	if a.members == nil {
		return
	}
	users.Share(a.members.Counter("users", users.Gone))
	subscribed.Share(a.members.Counter("operators", nil))
}

// shareLimits makes the rate limits count every node's events of a
// principal (cluster.Limits).
func (a *App) shareLimits(lim *limiter.Limiter) {
	if a.redis != nil {
		a.limits = cluster.NewLimits(a.redis, lim, a.cfg.Cluster.options(a))
	}
}

// startCluster registers the node and starts delivering the others'
// events, once both bindings are served.
func (a *App) startCluster(livechat *tickets.Livechat, chatServer *chat.ChatServer) error {
	if a.bus == nil {
		return nil
	}
	nsp, m := livechat.Delivery()
	a.bus.Serve(switchboard.ProtocolLivechat, nsp, m)
	nsp, m = chatServer.Delivery()
	a.bus.Serve(switchboard.ProtocolChat, nsp, m)
	if err := a.members.Start(context.Background()); err != nil {
		return fmt.Errorf("cluster: register the node: %w", err)
	}
	a.limits.Start()
	return a.bus.Start(context.Background())
}

// closeCluster stops the heartbeats and the bus and closes Redis, after
// the last commits' events.
func (a *App) closeCluster() {
	if a.members != nil {
		a.members.Close()
	}
	if a.limits != nil {
		a.limits.Close()
	}
	if a.bus != nil {
		a.bus.Close()
	}
	if a.redis != nil {
		a.redis.Close()
	}
}

package cluster

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Membership keeps this node's sockets counted in Redis, beside every
// other node's, while the node lives, and takes away the counts of a node
// that died.
//
// Keys (after the prefix):
//
//	nodes                   sorted set: node → its last heartbeat (Redis's clock, ms)
//	presence:<kind>:<user>  hash: node → that node's live sockets of the user
//	node:<id>:<kind>        set: the users the node counts sockets of
//
// <kind> is what is counted ("users": authenticated sockets, either
// protocol; "operators": subscribed operator sockets); <user> is the
// tenant and the id, joined by NUL. A user is online while its hash has a
// field. Each change is one Lua script, so the transitions (first socket
// on any node, last socket gone) are seen by exactly one node.
//
// Each node beats every third of PresenceTimeout and, at each beat, reaps
// the nodes whose last beat is older than the timeout: in one script it
// removes them from nodes, deletes their fields and their sets, and
// returns the users left without a field, whom the reaping node announces
// offline (Counter's gone). The script runs once per dead node however
// many nodes try, so the announcement is made once. A node that finds
// itself reaped (a pause longer than the timeout) counts its live sockets
// again; their users, announced offline meanwhile, are not announced
// again until their next change.
type Membership struct {
	rdb      *redis.Client
	opts     Options
	nodes    string
	counters map[string]*Counter
	stop     chan struct{}
	done     chan struct{}
	closing  sync.Once
	mu       sync.Mutex // guards alive
	alive    bool       // registered in nodes by a beat
}

// NewMembership returns this node's membership; make its Counters, then
// Start it.
func NewMembership(rdb *redis.Client, opts Options) *Membership {
	opts = opts.WithDefaults()
	return &Membership{rdb: rdb, opts: opts, nodes: opts.Prefix + "nodes", counters: map[string]*Counter{}}
}

// Counter returns the counts of kind. gone, when set, hears each user of
// kind that went offline because the node of its last sockets died.
func (m *Membership) Counter(kind string, gone func(tenant, id string)) *Counter {
	c := &Counter{m: m, kind: kind, gone: gone, local: map[string]int{},
		nodeSet: m.opts.Prefix + "node:" + m.opts.NodeID + ":" + kind}
	m.counters[kind] = c
	return c
}

// Start registers the node with a first beat and beats until Close.
func (m *Membership) Start(ctx context.Context) error {
	if err := m.beat(ctx); err != nil {
		return err
	}
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go m.run()
	return nil
}

// Close stops the beats. The node's counts stay until its sockets
// disconnect (a graceful stop) or the other nodes reap them.
func (m *Membership) Close() {
	if m.stop == nil {
		return
	}
	m.closing.Do(func() {
		close(m.stop)
		<-m.done
	})
}

func (m *Membership) run() {
	defer close(m.done)
	tick := time.NewTicker(m.opts.PresenceTimeout / 3)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), m.opts.PresenceTimeout/3)
		if err := m.beat(ctx); err != nil {
			m.opts.Logger.Error("cluster: heartbeat failed", "err", err)
		}
		if err := m.reap(ctx); err != nil {
			m.opts.Logger.Error("cluster: reaping dead nodes failed", "err", err)
		}
		cancel()
	}
}

var beatScript = redis.NewScript(`
local t = redis.call('TIME')
return redis.call('ZADD', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[1])`)

// beat records that the node lives. When the beat registers it anew
// after it was reaped, its live sockets are counted again.
func (m *Membership) beat(ctx context.Context) error {
	added, err := beatScript.Run(ctx, m.rdb, []string{m.nodes}, m.opts.NodeID).Int()
	if err != nil {
		return err
	}
	m.mu.Lock()
	reaped := added == 1 && m.alive
	m.alive = true
	m.mu.Unlock()
	if reaped {
		m.opts.Logger.Warn("cluster: this node missed its heartbeats and was taken for dead; counting its sockets again")
		for _, c := range m.counters {
			c.recount(ctx)
		}
	}
	return nil
}

var reapScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local out = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))) do
  redis.call('ZREM', KEYS[1], node)
  for i = 3, #ARGV do
    local set = ARGV[2] .. 'node:' .. node .. ':' .. ARGV[i]
    for _, user in ipairs(redis.call('SMEMBERS', set)) do
      local key = ARGV[2] .. 'presence:' .. ARGV[i] .. ':' .. user
      redis.call('HDEL', key, node)
      if redis.call('EXISTS', key) == 0 then
        table.insert(out, ARGV[i])
        table.insert(out, user)
      end
    end
    redis.call('DEL', set)
  end
end
return out`)

// reap takes away the counts of the nodes whose beats stopped and
// announces the users that leaves offline.
func (m *Membership) reap(ctx context.Context) error {
	args := []any{m.opts.PresenceTimeout.Milliseconds(), m.opts.Prefix}
	for kind := range m.counters {
		args = append(args, kind)
	}
	gone, err := reapScript.Run(ctx, m.rdb, []string{m.nodes}, args...).StringSlice()
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(gone); i += 2 {
		c := m.counters[gone[i]]
		tenant, id, _ := strings.Cut(gone[i+1], "\x00")
		if c != nil && c.gone != nil {
			c.gone(tenant, id)
		}
	}
	return nil
}

// Counter is one kind's counts across the nodes (fanout.Shared).
type Counter struct {
	m       *Membership
	kind    string
	gone    func(tenant, id string)
	nodeSet string
	mu      sync.Mutex
	local   map[string]int // this node's counts, to count them again after a reap
}

func (c *Counter) key(user string) string { return c.m.opts.Prefix + "presence:" + c.kind + ":" + user }

func member(tenant, id string) string { return tenant + "\x00" + id }

var addScript = redis.NewScript(`
redis.call('HINCRBY', KEYS[1], ARGV[1], tonumber(ARGV[3]))
redis.call('SADD', KEYS[2], ARGV[2])
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
return total`)

var removeScript = redis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n > 0 then return 1 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
if n < 0 then return 1 end
return redis.call('HLEN', KEYS[1])`)

// timeout bounds one change's round trip to Redis.
const timeout = 5 * time.Second

// Add counts one more socket of the user on this node; it reports
// whether the user just came online in the cluster.
func (c *Counter) Add(tenant, id string) bool {
	u := member(tenant, id)
	c.mu.Lock()
	c.local[u]++
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	total, err := addScript.Run(ctx, c.m.rdb, []string{c.key(u), c.nodeSet}, c.m.opts.NodeID, u, 1).Int()
	if err != nil {
		c.m.opts.Logger.Error("cluster: counting a socket failed", "kind", c.kind, "err", err)
		return false
	}
	return total == 1
}

// Remove counts one socket of the user less on this node; it reports
// whether that was the user's last socket in the cluster.
func (c *Counter) Remove(tenant, id string) bool {
	u := member(tenant, id)
	c.mu.Lock()
	if c.local[u] == 0 {
		c.mu.Unlock()
		return false
	}
	if c.local[u]--; c.local[u] == 0 {
		delete(c.local, u)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	left, err := removeScript.Run(ctx, c.m.rdb, []string{c.key(u), c.nodeSet}, c.m.opts.NodeID, u).Int()
	if err != nil {
		c.m.opts.Logger.Error("cluster: uncounting a socket failed", "kind", c.kind, "err", err)
		return false
	}
	return left == 0
}

// Online reports whether the user has a counted socket on any node.
func (c *Counter) Online(tenant, id string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	n, err := c.m.rdb.Exists(ctx, c.key(member(tenant, id))).Result()
	if err != nil {
		c.m.opts.Logger.Error("cluster: reading presence failed", "kind", c.kind, "err", err)
		return c.localOnline(member(tenant, id))
	}
	return n > 0
}

func (c *Counter) localOnline(u string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local[u] > 0
}

// recount counts this node's live sockets again after the node was
// reaped; users that come back online are not announced again here (the
// reaping node announced them offline; their next change is announced).
func (c *Counter) recount(ctx context.Context) {
	c.mu.Lock()
	local := make(map[string]int, len(c.local))
	for u, n := range c.local {
		local[u] = n
	}
	c.mu.Unlock()
	for u, n := range local {
		if err := addScript.Run(ctx, c.m.rdb, []string{c.key(u), c.nodeSet}, c.m.opts.NodeID, u, n).Err(); err != nil {
			c.m.opts.Logger.Error("cluster: counting sockets again failed", "kind", c.kind, "err", err)
			return
		}
	}
}

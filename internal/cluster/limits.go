package cluster

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// Limits shares the limiter's buckets across the nodes without a round
// trip on the message path (internal/limiter/shared.go says why): every
// SyncEvery it adds what this node's buckets gave, per principal, to the
// principal's hash of the current second in Redis
// (<prefix>limit:<key>:<second>: node → events and messages, kept a few
// seconds), reads what the other nodes gave in this second and the one
// before, and charges the local buckets with what it had not charged yet.
// A node that meets a principal for the first time is charged the
// others' last two seconds: their recent use, which the buckets would
// not have refilled yet. Only the principals active on this node in the
// interval are synced: one pipelined round trip per interval, whatever
// the traffic.
type Limits struct {
	rdb  *redis.Client
	opts Options
	lim  *limiter.Limiter
	seen map[string]seenUsage // what was charged of the others' use, per key
	stop chan struct{}
	done chan struct{}
}

// seenUsage is the others' use of one key read in window second: in it
// (cur) and in the second before (prev).
type seenUsage struct {
	second    int64
	cur, prev limiter.Usage
}

// SyncEvery is how often a node shares its limiter's usage.
const SyncEvery = 250 * time.Millisecond

// NewLimits shares lim's buckets; it starts counting their usage now.
func NewLimits(rdb *redis.Client, lim *limiter.Limiter, opts Options) *Limits {
	lim.TrackUsage()
	return &Limits{rdb: rdb, opts: opts.WithDefaults(), lim: lim, seen: map[string]seenUsage{}}
}

// Start syncs every SyncEvery until Close.
func (l *Limits) Start() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		tick := time.NewTicker(SyncEvery)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				if err := l.sync(ctx, time.Now()); err != nil {
					l.opts.Logger.Warn("cluster: sharing rate limits failed", "err", err)
				}
				cancel()
			}
		}
	}()
}

// Close stops syncing.
func (l *Limits) Close() {
	if l.stop != nil {
		close(l.stop)
		<-l.done
		l.stop = nil
	}
}

// usageScript adds this node's use to the current second's hash and
// returns the others' use in it and in the second before.
var usageScript = redis.NewScript(`
local own = ARGV[1] .. ':'
redis.call('HINCRBY', KEYS[1], own .. 'e', ARGV[2])
redis.call('HINCRBY', KEYS[1], own .. 'm', ARGV[3])
redis.call('PEXPIRE', KEYS[1], 5000)
local out = {}
for k = 1, 2 do
  local e, m = 0, 0
  local all = redis.call('HGETALL', KEYS[k])
  for i = 1, #all, 2 do
    local f = all[i]
    if string.sub(f, 1, #own) ~= own then
      if string.sub(f, -2) == ':e' then e = e + tonumber(all[i + 1]) else m = m + tonumber(all[i + 1]) end
    end
  end
  table.insert(out, e)
  table.insert(out, m)
end
return out`)

// sync shares one interval's usage and charges the others'.
func (l *Limits) sync(ctx context.Context, now time.Time) error {
	second := now.Unix()
	for k, s := range l.seen {
		if s.second < second-1 {
			delete(l.seen, k)
		}
	}
	usage := l.lim.TakeUsage()
	if len(usage) == 0 {
		return nil
	}
	keys := make([]string, 0, len(usage))
	pipe := l.rdb.Pipeline()
	var cmds []*redis.Cmd
	for k, u := range usage {
		keys = append(keys, k)
		base := l.opts.Prefix + "limit:" + k + ":"
		cmds = append(cmds, usageScript.Eval(ctx, pipe,
			[]string{base + strconv.FormatInt(second, 10), base + strconv.FormatInt(second-1, 10)},
			l.opts.NodeID, u.Events, u.Messages))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	for i, cmd := range cmds {
		v, err := cmd.Int64Slice()
		if err != nil || len(v) != 4 {
			continue
		}
		now := seenUsage{second: second, cur: limiter.Usage{Events: v[0], Messages: v[1]},
			prev: limiter.Usage{Events: v[2], Messages: v[3]}}
		l.lim.Charge(keys[i], newUse(l.seen[keys[i]], now))
		l.seen[keys[i]] = now
	}
	return nil
}

// newUse is the others' use read in now that was not charged when last
// was read (the zero seenUsage: never).
func newUse(last, now seenUsage) limiter.Usage {
	var charged limiter.Usage // of now's two seconds
	switch last.second {
	case now.second:
		charged = add(last.cur, last.prev)
	case now.second - 1:
		charged = last.cur
	}
	u := add(now.cur, now.prev)
	return limiter.Usage{Events: max(0, u.Events-charged.Events), Messages: max(0, u.Messages-charged.Messages)}
}

func add(a, b limiter.Usage) limiter.Usage {
	return limiter.Usage{Events: a.Events + b.Events, Messages: a.Messages + b.Messages}
}

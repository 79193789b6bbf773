package cluster

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/metrics"
)

// Bus delivers committed events to the sockets of every node. It takes
// the place of both bindings' Publish: each event is encoded once, here,
// as its Socket.IO packet; the packets of one Op go to the other nodes in
// one Redis message (pub/sub on one channel) and to this node's sockets
// directly, and every node, this one included, delivers the Ops in the
// order of the database's clock (sequencer).
type Bus struct {
	rdb     *redis.Client
	opts    Options
	channel string
	clock   func() (uint64, error)
	targets [2]target // by protocol: livechat, chat
	order   *sequencer

	out    chan []byte  // messages for the other nodes, in order
	closed sync.RWMutex // held to queue on out; taken to close it
	done   bool
	pubsub *redis.PubSub
	wg     sync.WaitGroup
	stop   context.CancelFunc
}

// target is one protocol's namespace on this node.
type target struct {
	nsp     socket.Namespace
	metrics *metrics.Protocol
}

// NewBus returns a bus on rdb; clock reads the database's clock (the last
// number handed out). Serve both protocols, then Start it.
func NewBus(rdb *redis.Client, clock func() (uint64, error), opts Options) *Bus {
	opts = opts.WithDefaults()
	return &Bus{rdb: rdb, opts: opts, channel: opts.Prefix + "events", clock: clock, out: make(chan []byte, 8192)}
}

// Serve delivers protocol's events to nsp, counting them in m.
func (b *Bus) Serve(protocol string, nsp socket.Namespace, m *metrics.Protocol) {
	b.targets[protocolIndex(protocol)] = target{nsp: nsp, metrics: m}
}

func protocolIndex(protocol string) int {
	if protocol == switchboard.ProtocolChat {
		return 1
	}
	return 0
}

// Start subscribes to the other nodes' events and then reads the clock:
// every Op committed after that number reaches this node, in order.
func (b *Bus) Start(ctx context.Context) error {
	b.pubsub = b.rdb.Subscribe(ctx, b.channel)
	if _, err := b.pubsub.Receive(ctx); err != nil { // the subscription's confirmation
		b.pubsub.Close()
		return fmt.Errorf("cluster: subscribe: %w", err)
	}
	last, err := b.clock()
	if err != nil {
		b.pubsub.Close()
		return fmt.Errorf("cluster: read the clock: %w", err)
	}
	b.order = newSequencer(last+1, b.opts.GapWait, b.deliver)
	run, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.wg.Add(2)
	go b.receive(b.pubsub.Channel(redis.WithChannelSize(8192)))
	go b.send(run)
	return nil
}

// Close stops the bus once the messages queued for the other nodes are
// sent (or Redis fails them).
func (b *Bus) Close() {
	if b.stop == nil {
		return
	}
	b.closed.Lock()
	if b.done {
		b.closed.Unlock()
		return
	}
	b.done = true
	close(b.out)
	b.closed.Unlock()
	b.pubsub.Close() // ends receive
	b.wg.Wait()
	b.stop()
}

// Publish delivers events, one Op's (numbered alike) or an uncommitted
// notice's, to their rooms on every node. It is the Committer's
// publisher for both protocols in a cluster. Events of other protocols
// and events with no audience are skipped.
func (b *Bus) Publish(events []switchboard.Event) {
	var msg batch
	msg.node = b.opts.NodeID
	for _, ev := range events {
		if len(ev.To) == 0 || (ev.Protocol != switchboard.ProtocolLivechat && ev.Protocol != switchboard.ProtocolChat) {
			if ev.Seq != 0 {
				msg.seq = ev.Seq // numbered all the same: others wait for it
			}
			continue
		}
		msg.seq = ev.Seq
		t := b.targets[protocolIndex(ev.Protocol)]
		if t.nsp == nil {
			continue // not served yet: no socket anywhere could have joined
		}
		e := entry{name: ev.Name, rooms: ev.To, except: ev.ExceptSocket}
		if ev.Protocol == switchboard.ProtocolChat {
			e.flags |= flagChat
		}
		if ev.Name == switchboard.EventDisconnect {
			e.flags |= flagDisconnect
		} else {
			e.encoded = fanout.Encode(t.nsp, ev.Name, ev.Args)
			t.metrics.EventOut(ev.Name)
		}
		msg.entries = append(msg.entries, e)
	}
	if len(msg.entries) == 0 && msg.seq == 0 {
		return
	}
	// A numbered Op goes out even without an entry for sockets, so that
	// no node waits for its number.
	if b.order == nil { // not started: there is no other node to tell
		b.deliver(&msg)
		return
	}
	b.closed.RLock()
	if !b.done {
		select {
		case b.out <- appendBatch(nil, &msg):
		default:
			// Redis is down or slower than the commits: the other nodes
			// go without this message (their sequencers skip it after
			// GapWait) rather than this node stop committing.
			b.opts.Logger.Error("cluster: the queue to Redis is full; an Op's events reach this node's sockets only",
				"seq", msg.seq)
		}
	}
	b.closed.RUnlock()
	b.order.add(&msg)
}

// deliver writes one batch's packets to this node's sockets.
func (b *Bus) deliver(msg *batch) {
	for _, e := range msg.entries {
		t := b.targets[0]
		if e.flags&flagChat != 0 {
			t = b.targets[1]
		}
		if t.nsp == nil {
			continue
		}
		if e.flags&flagDisconnect != 0 {
			fanout.Disconnect(t.nsp, e.rooms)
			continue
		}
		fanout.Deliver(t.nsp, e.rooms, e.except, e.encoded)
	}
}

// send publishes the queued messages, in order, several per round trip
// when they queue up.
func (b *Bus) send(ctx context.Context) {
	defer b.wg.Done()
	for m := range b.out {
		pipe := b.rdb.Pipeline()
		pipe.Publish(ctx, b.channel, m)
	more:
		for pipe.Len() < 128 {
			select {
			case m, ok := <-b.out:
				if !ok {
					break more
				}
				pipe.Publish(ctx, b.channel, m)
			default:
				break more
			}
		}
		if _, err := pipe.Exec(ctx); err != nil {
			// The other nodes' sequencers go on without these after
			// GapWait; their clients catch up when they reconnect.
			b.opts.Logger.Error("cluster: publish failed", "messages", pipe.Len(), "err", err)
		}
	}
}

// receive hands the other nodes' messages to the sequencer.
func (b *Bus) receive(ch <-chan *redis.Message) {
	defer b.wg.Done()
	for m := range ch {
		if node(m.Payload) == b.opts.NodeID {
			continue // delivered here when it was published
		}
		msg, err := readBatch(m.Payload)
		if err != nil {
			b.opts.Logger.Error("cluster: unreadable message", "err", err)
			continue
		}
		b.order.add(msg)
	}
}

// Stats reports the numbers the bus gave up waiting for and the Ops
// delivered after that, out of order.
func (b *Bus) Stats() (gaps, late uint64) { return b.order.stats() }

// Node is this node's name in the cluster.
func (b *Bus) Node() string { return b.opts.NodeID }

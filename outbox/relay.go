package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Committer is the write path the relay marks rows and holds its lease
// through (database.Committer).
type Committer interface {
	Run(ctx context.Context, op database.Op) error
}

// Relay publishes the outbox to a Sink: the pending rows in seq (commit)
// order, a batch at a time, each batch marked published once the sink
// has accepted it. What the sink did not accept stays pending and is
// published again, after a pause that grows while the sink keeps failing:
// at least once, in commit order. A restarted relay starts from the rows
// still pending.
//
// Of several nodes only the one holding the lease (table outbox_relay)
// publishes; it renews the lease on every pass, and another node takes it
// over once it has expired.
type Relay struct {
	db        *database.DB
	committer Committer
	sink      Sink
	opts      RelayOptions
	wake      chan struct{}

	mu     sync.Mutex
	status Status
	// lease is the relay's role among the nodes; only its own passes
	// touch it.
	lease database.Lease

	stop    context.CancelFunc
	done    chan struct{}
	stopped sync.Once
}

// RelayOptions configures a Relay. Zero values work.
type RelayOptions struct {
	// Batch is the most rows published at once (default 256).
	Batch int
	// Poll is how often the relay looks for rows it was not told of
	// (written on another node) (default 1 s).
	Poll time.Duration
	// Lease is how long a node's lease lasts without renewal (default 30 s).
	Lease time.Duration
	// Timeout bounds one publication to the sink (default 10 s).
	Timeout time.Duration
	// MaxBackoff caps the pause after failures (default 30 s).
	MaxBackoff time.Duration
	// Linger is how long a woken relay waits before its pass (default
	// 10 ms; negative: not at all), so that the commits of that moment
	// go in one batch: under load one pass (a query, a publication and a
	// commit marking the rows) every 10 ms rather than one a commit.
	Linger time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Status is what /readyz says about the relay.
type Status struct {
	Sink string
	// Err is the last publication's error; nil after a success.
	Err error
	// Leader says this node holds the lease (publishes).
	Leader bool
	// Published counts the rows this node published.
	Published int64
}

// NewRelay returns a relay from db's outbox to sink; Start starts it.
func NewRelay(db *database.DB, committer Committer, sink Sink, opts RelayOptions) *Relay {
	if opts.Batch <= 0 {
		opts.Batch = 256
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Linger == 0 {
		opts.Linger = 10 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Relay{db: db, committer: committer, sink: sink, opts: opts,
		lease: database.Lease{Table: "outbox_relay", Name: "relay", Holder: newID(), TTL: opts.Lease},
		wake:  make(chan struct{}, 1), status: Status{Sink: sink.String()}}
}

// Publish wakes the relay when events include stream events: it is one
// of the Committer's publishers, called after their commit.
func (r *Relay) Publish(evs []switchboard.Event) {
	for _, ev := range evs {
		if ev.Protocol == switchboard.ProtocolStream {
			r.Wake()
			return
		}
	}
}

// Wake makes the relay look for pending rows now.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Status reports the sink and the last publication.
func (r *Relay) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// Start runs the relay until Stop.
func (r *Relay) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop, r.done = cancel, make(chan struct{})
	go r.loop(ctx)
}

// Stop ends the relay (a publication under way is cut short: its rows
// stay pending) and closes the sink.
func (r *Relay) Stop() {
	r.stopped.Do(func() {
		if r.stop != nil {
			r.stop()
			<-r.done
		}
		if err := r.sink.Close(); err != nil {
			r.opts.Logger.Warn("closing the events sink", "sink", r.sink.String(), "err", err)
		}
	})
}

func (r *Relay) loop(ctx context.Context) {
	defer close(r.done)
	backoff := time.Duration(0)
	for {
		n, err := r.Pass(ctx)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		switch {
		case err != nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), r.opts.MaxBackoff)
			wait = backoff
			r.opts.Logger.Warn("events sink: publishing failed; retrying", "sink", r.sink.String(),
				"retry_in", wait, "err", err)
		case n == r.opts.Batch:
			backoff = 0
			continue // more are waiting
		default:
			backoff = 0
			wait = r.opts.Poll
		}
		if err != nil {
			// A failure waits its whole pause: waking would hammer the sink.
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			if r.opts.Linger > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(r.opts.Linger):
				}
			}
		case <-time.After(wait):
		}
	}
}

// Pass publishes one batch of pending rows if this node holds (or can
// take) the lease, and reports how many rows it published.
func (r *Relay) Pass(ctx context.Context) (int, error) {
	leader, err := r.claim(ctx)
	r.setLeader(leader)
	if err != nil || !leader {
		return 0, err
	}
	records, err := r.pending(ctx)
	if err != nil || len(records) == 0 {
		return 0, err
	}
	pubCtx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	n, pubErr := r.sink.Publish(pubCtx, records)
	cancel()
	if n > 0 {
		if err := r.markPublished(ctx, records[:n]); err != nil {
			return 0, err // published again later: consumers de-duplicate
		}
	}
	r.mu.Lock()
	r.status.Err = pubErr
	r.status.Published += int64(n)
	r.mu.Unlock()
	return n, pubErr
}

func (r *Relay) setLeader(leader bool) {
	r.mu.Lock()
	r.status.Leader = leader
	r.mu.Unlock()
}

// claim takes or renews the lease (database.Lease); it fails to while
// another node holds an unexpired one.
func (r *Relay) claim(ctx context.Context) (bool, error) {
	return r.lease.Claim(ctx, r.committer, r.opts.Now())
}

// pending reads the oldest rows not yet published, in commit order.
func (r *Relay) pending(ctx context.Context) ([]Record, error) {
	rows, err := database.Query(r.db.WithContext(ctx), `SELECT seq, id, namespace, name, session_id, msg_key, envelope
		FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?`, r.opts.Batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var rec Record
		var env string
		if err := rows.Scan(&rec.Seq, &rec.ID, &rec.Namespace, &rec.Name, &rec.SessionID, &rec.Key, &env); err != nil {
			return nil, err
		}
		rec.Envelope = []byte(env)
		out = append(out, rec)
	}
	return out, rows.Err()
}

// markPublished dates the rows the sink accepted.
func (r *Relay) markPublished(ctx context.Context, records []Record) error {
	args := make([]any, 0, len(records)+1)
	args = append(args, r.opts.Now().UnixMilli())
	for _, rec := range records {
		args = append(args, rec.Seq)
	}
	query := `UPDATE outbox SET published_at = ? WHERE seq IN (?` + strings.Repeat(", ?", len(records)-1) + `)`
	err := r.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		_, err := database.Exec(tx, query, args...)
		return nil, err
	})
	if err != nil {
		return fmt.Errorf("outbox: marking %d rows published: %w", len(records), err)
	}
	return nil
}

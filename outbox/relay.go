package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
// With the Writer attached (RelayOptions.Writer), the steady state reads
// nothing: the committer's publisher hands the relay each commit's
// records (Publish), and the relay publishes them from memory as long as
// their seqs continue, without a gap, from the last one it published, so
// that no row can be pending between. It reads the table (caught up:
// false) when it starts, after a failure, when it is handed too much or
// a seq that does not follow (a rolled-back insert on PostgreSQL, a row
// another node wrote), and once every Poll (rows written on another
// node). The rows it published from memory are marked later and together
// (MarkDelay), in one statement over their seq range: a mark lost with a
// crash only publishes those rows again, which consumers de-duplicate.
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

	// handed are the records committed on this node since the loop last
	// took them, in commit order; overflow says some were dropped.
	hmu      sync.Mutex
	handed   []Record
	overflow bool

	// Only the loop's passes touch these.
	lease database.Lease // the relay's role among the nodes
	// caughtUp says every row up to lastSeq is published and the rows
	// after it will be handed over; unmarked are the seqs published from
	// memory and not yet marked (from > to: none), since markDue.
	caughtUp bool
	lastSeq  int64
	polled   time.Time // the last read of the table
	unmarked struct{ from, to int64 }
	markDue  time.Time

	stop    context.CancelFunc
	done    chan struct{}
	stopped sync.Once
}

// RelayOptions configures a Relay. Zero values work.
type RelayOptions struct {
	// Writer, when set, is the outbox's Writer on this node: it hands the
	// relay the records it wrote, so that the relay need not read them
	// back (Publish).
	Writer *Writer
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
	// go in one batch.
	Linger time.Duration
	// MarkDelay is how long rows published from memory may wait for
	// their mark while more keep coming (default 1 s; negative: marked
	// at once); an idle relay marks them at once.
	MarkDelay time.Duration
	// MaxHanded caps the records waiting in memory (default 16 × Batch);
	// beyond it they are dropped and read from the table.
	MaxHanded int
	Now       func() time.Time
	Logger    *slog.Logger
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
	if opts.MarkDelay == 0 {
		opts.MarkDelay = time.Second
	}
	if opts.MaxHanded <= 0 {
		opts.MaxHanded = 16 * opts.Batch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Writer != nil {
		opts.Writer.mu.Lock()
		opts.Writer.handOff = true
		opts.Writer.mu.Unlock()
	}
	return &Relay{db: db, committer: committer, sink: sink, opts: opts,
		lease: database.Lease{Table: "outbox_relay", Name: "relay", Holder: newID(), TTL: opts.Lease},
		wake:  make(chan struct{}, 1), status: Status{Sink: sink.String()}, unmarked: struct{ from, to int64 }{1, 0}}
}

// Publish takes the records the Writer wrote for events and wakes the
// relay when events include stream events: it is one of the Committer's
// publishers, called after their commit, in commit order.
func (r *Relay) Publish(evs []switchboard.Event) {
	for _, ev := range evs {
		if ev.Protocol == switchboard.ProtocolStream {
			if r.opts.Writer != nil {
				r.hand(r.opts.Writer.committed(evs))
			}
			r.Wake()
			return
		}
	}
}

// hand queues committed records for the loop; beyond MaxHanded it drops
// them all, and the loop reads the table.
func (r *Relay) hand(records []Record) {
	if len(records) == 0 {
		return
	}
	r.hmu.Lock()
	defer r.hmu.Unlock()
	if r.overflow || len(r.handed)+len(records) > r.opts.MaxHanded {
		r.handed, r.overflow = nil, true
		return
	}
	r.handed = append(r.handed, records...)
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
// stay pending), marks what it published from memory, and closes the
// sink.
func (r *Relay) Stop() {
	r.stopped.Do(func() {
		if r.stop != nil {
			r.stop()
			<-r.done
			ctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
			if err := r.flushMarks(ctx); err != nil {
				r.opts.Logger.Warn("events: marking published rows; they will be published again", "err", err)
			}
			cancel()
		}
		if err := r.sink.Close(); err != nil {
			r.opts.Logger.Warn("closing the events sink", "sink", r.sink.String(), "err", err)
		}
	})
}

func (r *Relay) loop(ctx context.Context) {
	defer close(r.done)
	backoff := time.Duration(0)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// sleep waits d, or less when woken is closed or receives; it says
	// whether to go on.
	sleep := func(d time.Duration, woken <-chan struct{}) bool {
		timer.Reset(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-woken:
			return true
		case <-timer.C:
			return true
		}
	}
	for {
		n, err := r.Pass(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			backoff = min(max(2*backoff, 100*time.Millisecond), r.opts.MaxBackoff)
			r.opts.Logger.Warn("events sink: publishing failed; retrying", "sink", r.sink.String(),
				"retry_in", backoff, "err", err)
			// A failure waits its whole pause: waking would hammer the sink.
			if !sleep(backoff, nil) {
				return
			}
			continue
		}
		backoff = 0
		if n == r.opts.Batch {
			continue // more are waiting
		}
		// Idle (nothing was left to publish): the marks now, so that the
		// lag reads 0 once everything is published.
		if err := r.marksDue(ctx, n == 0); err != nil {
			r.opts.Logger.Warn("events: marking published rows failed; retrying", "err", err)
		}
		wait := r.opts.Poll
		if r.unmarked.from <= r.unmarked.to {
			// A wait that no commit cuts short is idle: the pass after
			// it marks (above).
			wait = max(min(wait, r.markDue.Sub(r.opts.Now()), idleAfter), time.Millisecond)
		}
		if !sleep(wait, r.wake) {
			return
		}
		// Under load, one pass (a publication, and a mark now and then)
		// every Linger rather than one a commit.
		if r.opts.Linger > 0 && !sleep(r.opts.Linger, nil) {
			return
		}
	}
}

// idleAfter is how long a relay with unmarked rows waits for a commit
// before it takes itself for idle.
const idleAfter = 100 * time.Millisecond

// Pass publishes one batch of pending rows if this node holds (or can
// take) the lease, and reports how many rows it published.
func (r *Relay) Pass(ctx context.Context) (int, error) {
	leader, err := r.claim(ctx)
	r.setLeader(leader)
	if err != nil || !leader {
		r.caughtUp = false
		r.takeHanded() // another node publishes them
		return 0, err
	}
	records, fromTable, err := r.next(ctx)
	if err != nil || len(records) == 0 {
		return 0, err
	}
	pubCtx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	n, pubErr := r.sink.Publish(pubCtx, records)
	cancel()
	if n < len(records) {
		r.caughtUp = false // the rest is read again from the table
	}
	if n > 0 {
		if fromTable {
			err = r.markPublished(ctx, records[:n])
		} else {
			r.markLater(records[:n])
			err = r.marksDue(ctx, false)
		}
		if err != nil {
			r.caughtUp = false
			return 0, err // published again later: consumers de-duplicate
		}
		if !fromTable {
			r.lastSeq = records[n-1].Seq // next set it for the table's
		}
	}
	r.mu.Lock()
	r.status.Err = pubErr
	r.status.Published += int64(n)
	r.mu.Unlock()
	return n, pubErr
}

// next is the batch to publish: the records handed over while the relay
// is caught up and they follow without a gap, else the pending rows of
// the table (fromTable).
func (r *Relay) next(ctx context.Context) (records []Record, fromTable bool, err error) {
	if r.caughtUp && r.opts.Now().Before(r.polled.Add(r.opts.Poll)) {
		if records, ok := r.fromMemory(); ok {
			return records, false, nil
		}
	}
	r.caughtUp = false
	r.takeHanded() // the table has them
	// Marked first: the pending rows must be the ones not yet published.
	if err := r.marksDue(ctx, true); err != nil {
		return nil, false, err
	}
	var last int64
	if r.opts.Writer != nil {
		// Read before the pending rows: a row committed in between is
		// among them, or handed over later.
		if err := database.QueryRow(r.db.WithContext(ctx), `SELECT COALESCE(MAX(seq), 0) FROM outbox`).Scan(&last); err != nil {
			return nil, false, err
		}
	}
	r.polled = r.opts.Now()
	records, err = r.pending(ctx)
	if err != nil {
		return nil, false, err
	}
	if r.opts.Writer != nil && len(records) < r.opts.Batch {
		// All pending rows are in hand: once they are published the
		// relay follows the handed records.
		r.caughtUp = true
		if len(records) > 0 {
			last = max(last, records[len(records)-1].Seq)
		}
		r.lastSeq = last
	}
	return records, true, nil
}

// fromMemory takes the handed records that follow lastSeq without a gap,
// up to Batch; ok is false when the next one does not follow (or some
// were dropped): the table must be read.
func (r *Relay) fromMemory() (records []Record, ok bool) {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	if r.overflow {
		return nil, false
	}
	i := 0
	for i < len(r.handed) && r.handed[i].Seq <= r.lastSeq { // published from the table already
		i++
	}
	r.handed = r.handed[i:]
	n := 0
	for n < len(r.handed) && n < r.opts.Batch && r.handed[n].Seq == r.lastSeq+int64(n)+1 {
		n++
	}
	if n == 0 && len(r.handed) > 0 {
		return nil, false
	}
	records = slices.Clone(r.handed[:n])
	r.handed = r.handed[n:]
	if len(r.handed) == 0 {
		r.handed = nil // the array goes with its records
	}
	return records, true
}

// takeHanded drops the handed records: they are read from the table.
func (r *Relay) takeHanded() {
	r.hmu.Lock()
	r.handed, r.overflow = nil, false
	r.hmu.Unlock()
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

// markLater notes records published from memory: consecutive seqs that
// continue the unmarked range.
func (r *Relay) markLater(records []Record) {
	if r.unmarked.from > r.unmarked.to {
		r.unmarked.from = records[0].Seq
		r.markDue = r.opts.Now().Add(r.opts.MarkDelay)
	}
	r.unmarked.to = records[len(records)-1].Seq
}

// marksDue marks the rows published from memory once MarkDelay has
// passed since the first of them (or now).
func (r *Relay) marksDue(ctx context.Context, now bool) error {
	if r.unmarked.from > r.unmarked.to || !now && r.opts.Now().Before(r.markDue) {
		return nil
	}
	return r.flushMarks(ctx)
}

// flushMarks marks the rows published from memory, a seq range.
func (r *Relay) flushMarks(ctx context.Context) error {
	from, to := r.unmarked.from, r.unmarked.to
	if from > to {
		return nil
	}
	at := r.opts.Now().UnixMilli()
	err := r.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		_, err := database.Exec(tx, `UPDATE outbox SET published_at = ? WHERE seq >= ? AND seq <= ? AND published_at IS NULL`,
			at, from, to)
		return nil, err
	})
	if err != nil {
		return fmt.Errorf("outbox: marking rows %d to %d published: %w", from, to, err)
	}
	r.unmarked.from, r.unmarked.to = 1, 0
	return nil
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

package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// Op is one command's share of a transaction: it reads and writes through
// tx and returns the events to publish once the transaction has committed.
// An Op that returns an error leaves no trace: its writes are rolled back.
// An Op may run more than once, each time in a new transaction (see
// Committer): only its last run counts, so it must act only through tx and
// its results, and set anything it hands back to its caller on every run.
type Op func(tx *gorm.DB) ([]switchboard.Event, error)

// Done receives an Op's outcome after commit (err nil) or after its
// rollback. It runs on the Committer's goroutine: it must not block.
type Done func(err error)

// Committer is the single write path. It runs Ops one after another on one
// goroutine and groups the Ops that queue up while a commit is in flight
// into one transaction (group commit). One failing Op does not undo its
// neighbours: its run is rolled back, the Ops before it commit on their
// own and the Ops after it run on the state without its writes (commit).
//
// Guarantees:
//   - an Op's Done sees nil only after its transaction has committed, and
//     what that commit survives is the DB's Durability: with fsync (the
//     default) it is on stable storage, so neither a crash of the server
//     nor a power failure or OS crash loses it; with os it is in the
//     operating system's hands, so a crash of the server (kill -9) loses
//     nothing but a power failure or OS crash loses what was committed in
//     the last second or so (SQLite: since the last checkpoint's sync;
//     PostgreSQL: up to three wal_writer_delay, and also on a crash of
//     the database server). A batch's one COMMIT is one sync for all of
//     its Ops;
//   - a write error anywhere on the way to storage fails the commit (and
//     every Op of its transaction), never a commit that reported success;
//   - events are published only after commit, in commit order, before the
//     Done callbacks of their batch run (so an ack never overtakes the
//     event it announces to the acting socket's other sockets);
//   - Ops submitted from one goroutine commit in submission order;
//   - a panic in an Op fails that Op; a panic in the publisher or in a
//     Done is logged with its events and the writer goes on (the Op is
//     committed either way).
type Committer struct {
	db        *DB
	publisher switchboard.Publisher
	outbox    Outbox
	log       *slog.Logger
	maxBatch  int
	observe   func(ops int, took time.Duration)
	sequence  bool

	queue  chan job
	stats  struct{ batches, ops atomic.Int64 }
	wg     sync.WaitGroup
	once   sync.Once
	mu     sync.RWMutex // guards closed against Submit racing Close
	closed bool
}

type job struct {
	op   Op
	done Done
}

// CommitterOptions configures a Committer. Zero values work.
type CommitterOptions struct {
	// MaxBatch caps the Ops in one transaction (default 256).
	MaxBatch int
	// QueueSize is how many Ops may wait (default 8192); Submit blocks
	// beyond it, which is the back-pressure a slow disk puts on clients.
	QueueSize int
	Logger    *slog.Logger
	// Outbox, when set, writes each Op's stream events
	// (switchboard.ProtocolStream) in the Op's own transaction.
	Outbox Outbox
	// Observe, when set, hears of each batch once it has committed (or
	// failed): its Ops and the time it took to run and commit them,
	// before its events are published. It runs on the writer's
	// goroutine: it must not block.
	Observe func(ops int, took time.Duration)
	// Sequence numbers each committed Op that has events for sockets by
	// the database's clock (clock.go) and sets the number as the events'
	// Seq: the order of commits across every node sharing the database.
	Sequence bool
}

// Outbox writes the stream events of an Op in its transaction, after the
// Op has run: an Op whose events cannot be written fails, so no change is
// committed without its events, and no event without its change.
type Outbox interface {
	Write(tx *gorm.DB, events []switchboard.Event) error
}

// Streaming reports whether stream events are written anywhere: services
// build them only when they are, so that without a sink they cost nothing.
// An Outbox that is not always in use says when it is (Active).
func (c *Committer) Streaming() bool {
	if c == nil || c.outbox == nil {
		return false
	}
	if a, ok := c.outbox.(interface{ Active() bool }); ok {
		return a.Active()
	}
	return true
}

// ErrClosed is returned for Ops submitted after Close.
var ErrClosed = errors.New("database: committer closed")

// NewCommitter starts the write loop. Events go to publisher.
func NewCommitter(db *DB, publisher switchboard.Publisher, opts CommitterOptions) *Committer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 8192
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if publisher == nil {
		publisher = switchboard.PublisherFunc(func([]switchboard.Event) {})
	}
	c := &Committer{db: db, publisher: publisher, outbox: opts.Outbox, log: opts.Logger, maxBatch: opts.MaxBatch,
		observe: opts.Observe, sequence: opts.Sequence, queue: make(chan job, opts.QueueSize)}
	c.wg.Add(1)
	go c.loop()
	return c
}

// Submit queues op; done (may be nil) is called with its outcome.
func (c *Committer) Submit(op Op, done Done) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		if done != nil {
			done(ErrClosed)
		}
		return
	}
	c.queue <- job{op: op, done: done}
}

// Run submits op and waits for its outcome.
func (c *Committer) Run(ctx context.Context, op Op) error {
	ch := make(chan error, 1)
	c.Submit(op, func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking Ops, commits every Op already queued (their Done
// callbacks run) and returns when the loop has ended.
func (c *Committer) Close() {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.queue)
		c.mu.Unlock()
	})
	c.wg.Wait()
}

func (c *Committer) loop() {
	defer c.wg.Done()
	batch := make([]job, 0, c.maxBatch)
	for first := range c.queue {
		batch = append(batch[:0], first)
		// Let the goroutines that are ready to run (sockets with events
		// already read) submit their Ops before this batch closes: with few
		// cores the loop would otherwise wake for each Op and commit it
		// nearly alone. When nothing else is runnable this returns at once.
		runtime.Gosched()
	fill:
		for len(batch) < c.maxBatch {
			select {
			case j, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, j)
			default:
				break fill
			}
		}
		c.commit(batch)
	}
}

// Stats counts the batches (one commit each, plus one per failed Op) and
// the Ops they carried; their ratio is how much group commit is saving.
type Stats struct{ Batches, Ops int64 }

// Stats returns the counts so far.
func (c *Committer) Stats() Stats {
	return Stats{Batches: c.stats.batches.Load(), Ops: c.stats.ops.Load()}
}

// commit runs one batch and reports every outcome. Usually the batch is
// one transaction; each Op that fails adds one.
//
// The batch runs without savepoints, which would cost SQLite two more
// statements and a statement journal per Op. When an Op fails, its run is
// rolled back; the Ops before it, which ran fine on the same state, run
// again and commit on their own, and the batch carries on after the failed
// Op in a new transaction. Each Op's outcome is the one it would have had
// in a savepoint of its own, and no Op runs more than twice per failure
// before it, so a client whose commands keep failing cannot make a batch
// much dearer. Running an Op again is safe because an Op acts only through
// tx, which was rolled back, and through the events it returns, which are
// published only after the commits: its earlier runs leave nothing behind.
func (c *Committer) commit(batch []job) {
	c.stats.batches.Add(1)
	c.stats.ops.Add(int64(len(batch)))
	start := time.Now()
	r := batchRun{c: c, batch: batch, errs: make([]error, len(batch)), events: make([][]switchboard.Event, len(batch)),
		retries: make([]int, len(batch))}
	all := make([]int, len(batch))
	for i := range all {
		all[i] = i
	}
	r.commitAll(all)
	if c.observe != nil {
		c.observe(len(batch), time.Since(start))
	}
	// Each Op's events as they are, in the Ops' order: a publisher keeps
	// the order of what it is given, so this is the order of one call
	// with them all, without copying them into one slice.
	for i := range batch {
		if r.errs[i] == nil && len(r.events[i]) > 0 {
			c.publish(r.events[i])
		}
	}
	for i, j := range batch {
		if j.done != nil {
			c.ack(j.done, r.errs[i], r.events[i])
		}
	}
}

// publish hands one Op's events to the publisher. A panic in it is
// logged and goes no further: the events are committed, and the rest of
// the batch must still be published and acknowledged, and the writer go
// on.
func (c *Committer) publish(evs []switchboard.Event) {
	defer c.survive("publish", evs)
	c.publisher.Publish(evs)
}

// ack calls one Op's Done with its outcome; a panic in it is logged with
// the Op's events and goes no further, as in publish.
func (c *Committer) ack(done Done, err error, evs []switchboard.Event) {
	defer c.survive("ack", evs)
	done(err)
}

// survive, deferred, recovers a panic of a callback and logs it with the
// events it was about (name and session each).
func (c *Committer) survive(callback string, evs []switchboard.Event) {
	r := recover()
	if r == nil {
		return
	}
	events := make([]string, len(evs))
	for i, e := range evs {
		events[i] = e.Name + " session=" + e.SessionID
	}
	c.log.Error("committer: "+callback+" callback panicked; the writer goes on",
		"panic", r, "events", events, "stack", string(debug.Stack()))
}

// batchRun is the state of one batch: each Op's outcome, by its place.
type batchRun struct {
	c       *Committer
	batch   []job
	errs    []error
	events  [][]switchboard.Event
	retries []int // each Op's runs again after a transient failure
}

// commitAll commits the Ops at places ops, in order, leaving out the ones
// that fail (an Op that lost a deadlock to another transaction runs again,
// up to maxTransientRetries times).
func (r *batchRun) commitAll(ops []int) {
	for len(ops) > 0 {
		k := r.attempt(ops)
		if k < 0 {
			return
		}
		r.commitAll(ops[:k]) // they ran fine before ops[k] failed
		if i := ops[k]; transient(r.errs[i]) && r.retries[i] < maxTransientRetries {
			r.retries[i]++ // lost to another node's transaction: run it again
			ops = ops[k:]
			continue
		}
		ops = ops[k+1:]
	}
}

// maxTransientRetries bounds how often one Op runs again after losing a
// deadlock or a serialization conflict.
const maxTransientRetries = 3

// transient says whether err is PostgreSQL's deadlock_detected or
// serialization_failure: the Op lost to a concurrent transaction (another
// node's batch taking the same rows in another order) and nothing of it
// is wrong, so it runs again instead of failing its client.
func transient(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// attempt runs the Ops at places ops in one transaction. If one fails it
// rolls back and returns that Op's index in ops (its error is final);
// otherwise it commits and returns -1. A failed commit fails every Op of
// the attempt.
func (r *batchRun) attempt(ops []int) (failed int) {
	failed = -1
	txErr := r.c.db.transaction(func(tx *gorm.DB) error {
		for k, i := range ops {
			if r.events[i], r.errs[i] = r.c.runOne(tx, r.batch[i].op); r.errs[i] != nil {
				failed = k
				return r.errs[i]
			}
		}
		if r.c.sequence {
			return r.number(tx, ops)
		}
		return nil
	})
	if failed < 0 && txErr != nil {
		r.c.log.Error("commit failed", "ops", len(ops), "err", txErr)
		for _, i := range ops {
			r.errs[i] = fmt.Errorf("commit: %w", txErr)
		}
	}
	return failed
}

// number ticks the clock once for the Ops at places ops that have events
// for sockets, as the transaction's last statement, and stamps their
// events with their numbers, in the Ops' order.
func (r *batchRun) number(tx *gorm.DB, ops []int) error {
	n := 0
	for _, i := range ops {
		if audience(r.events[i]) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	seq, err := tick(tx, n)
	if err != nil {
		return fmt.Errorf("clock: %w", err)
	}
	for _, i := range ops {
		if !audience(r.events[i]) {
			continue
		}
		for k := range r.events[i] {
			r.events[i][k].Seq = seq
		}
		seq++
	}
	return nil
}

// runOne runs op, writes its stream events to the outbox if there is one,
// and turns a panic into an error, so that one bad Op cannot stop the
// writer.
func (c *Committer) runOne(tx *gorm.DB, op Op) (evs []switchboard.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("op panicked", "panic", r)
			err = fmt.Errorf("op panicked: %v", r)
		}
	}()
	if evs, err = op(tx); err == nil && c.outbox != nil {
		err = c.outbox.Write(tx, evs)
	}
	return evs, err
}

// Call reports err to d if d is set; callers need not check for nil.
func (d Done) Call(err error) {
	if d != nil {
		d(err)
	}
}

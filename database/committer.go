package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// Op is one command's share of a transaction: it reads and writes through
// tx and returns the events to publish once the transaction has committed.
// An Op that returns an error leaves no trace: its writes are rolled back.
type Op func(tx *gorm.DB) ([]switchboard.Event, error)

// Done receives an Op's outcome after commit (err nil) or after its
// rollback. It runs on the Committer's goroutine: it must not block.
type Done func(err error)

// Committer is the single write path. It runs Ops one after another on one
// goroutine and groups the Ops that queue up while a commit is in flight
// into one transaction (group commit), each Op inside its own savepoint so
// that one failing Op does not undo its neighbours.
//
// Guarantees:
//   - an Op's Done sees nil only after its writes are durably committed;
//   - events are published only after commit, in commit order, before the
//     Done callbacks of their batch run (so an ack never overtakes the
//     event it announces to the acting socket's other sockets);
//   - Ops submitted from one goroutine commit in submission order.
type Committer struct {
	db        *gorm.DB
	stmts     *stmtPool // nil unless the writer prepares its statements
	publisher switchboard.Publisher
	log       *slog.Logger
	maxBatch  int

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
	c := &Committer{db: db.Writer, stmts: db.stmts, publisher: publisher, log: opts.Logger, maxBatch: opts.MaxBatch,
		queue: make(chan job, opts.QueueSize)}
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
		if c.stmts != nil {
			c.stmts.prepareWanted() // the connection is free now
		}
	}
}

// Stats counts the transactions committed and the Ops they carried; their
// ratio is how much group commit is saving.
type Stats struct{ Batches, Ops int64 }

// Stats returns the counts so far.
func (c *Committer) Stats() Stats {
	return Stats{Batches: c.stats.batches.Load(), Ops: c.stats.ops.Load()}
}

// commit runs one batch in one transaction and reports every outcome.
func (c *Committer) commit(batch []job) {
	c.stats.batches.Add(1)
	c.stats.ops.Add(int64(len(batch)))
	errs := make([]error, len(batch))
	events := make([][]switchboard.Event, len(batch))
	useSavepoints := len(batch) > 1
	txErr := c.db.Transaction(func(tx *gorm.DB) error {
		for i, j := range batch {
			events[i], errs[i] = c.runOne(tx, j.op, i, useSavepoints)
			if errs[i] != nil && !useSavepoints {
				return errs[i] // one Op: roll the transaction back
			}
		}
		return nil
	})
	if txErr != nil && (useSavepoints || errs[0] == nil) {
		// The commit itself failed: nothing of this batch is stored.
		c.log.Error("commit failed", "ops", len(batch), "err", txErr)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", txErr)
			}
		}
	}
	var published []switchboard.Event
	for i := range batch {
		if errs[i] == nil {
			published = append(published, events[i]...)
		}
	}
	if len(published) > 0 {
		c.publisher.Publish(published)
	}
	for i, j := range batch {
		if j.done != nil {
			j.done(errs[i])
		}
	}
}

// runOne runs op inside savepoint i (when sharing the transaction), and
// turns a panic into an error so that one bad Op cannot stop the writer.
func (c *Committer) runOne(tx *gorm.DB, op Op, i int, savepoint bool) (evs []switchboard.Event, err error) {
	name := savepointName(i)
	if savepoint {
		if _, err := Exec(tx, "SAVEPOINT "+name); err != nil {
			return nil, err
		}
	}
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("op panicked", "panic", r)
			err = fmt.Errorf("op panicked: %v", r)
		}
		if err != nil && savepoint {
			if _, rbErr := Exec(tx, "ROLLBACK TO SAVEPOINT "+name); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		}
	}()
	return op(tx)
}

// savepointNames are the savepoints of a batch's Ops, made once: the same
// statement text each time lets the SQLite writer reuse its prepared
// statement.
var savepointNames = func() []string {
	names := make([]string, 1024)
	for i := range names {
		names[i] = "op" + strconv.Itoa(i)
	}
	return names
}()

func savepointName(i int) string {
	if i < len(savepointNames) {
		return savepointNames[i]
	}
	return "op" + strconv.Itoa(i)
}

// Call reports err to d if d is set; callers need not check for nil.
func (d Done) Call(err error) {
	if d != nil {
		d(err)
	}
}

// Package jobs runs Switchboard's scheduled jobs (session ages today;
// ticket auto-close and escalation later) on every node, with each
// scheduled run executed by exactly one node.
//
// A job's Spec is a robfig/cron expression. The runner uses cron for what
// it does well, parsing specs and computing the next time, but runs its
// own loop rather than cron.Cron, for two reasons: cron.Cron reads the
// system clock directly (tests could not move time), and it does not tell
// a job which scheduled time it is running for. That time, the slot, is
// what makes a run happen once: before running, a node inserts
// (job, slot) into job_runs; the insert succeeds on exactly one node, and
// the others skip the slot. Every node computes the same slot whatever its
// clock skew, because the slot is the schedule's time, not the node's.
//
// A node that dies mid-run leaves its slot claimed and unfinished; the
// next slot runs as usual, so jobs must be idempotent and catch up on
// their own (a job acts on the state it finds, not on what changed since
// its last run).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/robfig/cron/v3"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Job is one scheduled task.
type Job struct {
	// Name identifies the job in job_runs on every node: keep it stable.
	Name string
	// Spec is when it runs: a cron expression (five fields, or six with
	// seconds first), a descriptor such as @hourly, or @every <duration>.
	// Times are UTC unless the spec starts with CRON_TZ=<zone>. @every
	// slots are aligned to multiples of the duration since the zero time,
	// so that all nodes agree on them.
	Spec string
	// Run does the work for the slot scheduled at now (the slot's time, not
	// the moment it started). ctx ends only when shutdown gives up waiting.
	Run func(ctx context.Context, now time.Time) error
}

// Writer runs one write transaction; *database.Committer is one, so that
// job claims share Switchboard's single write path.
type Writer interface {
	Run(ctx context.Context, op database.Op) error
}

// Outcome is what happened to one slot on this node.
type Outcome struct {
	Job  string
	Slot time.Time
	// Ran is false when another node had already claimed the slot (or the
	// claim failed, then Err says why).
	Ran bool
	Err error
}

// Options configures a Runner. Zero values work.
type Options struct {
	// Node names this node in job_runs (default host-pid-random).
	Node string
	// Clock defaults to the system clock.
	Clock Clock
	// Retention is how long job_runs rows are kept (default 30 days).
	Retention time.Duration
	Logger    *slog.Logger
	// Observe, if set, hears every slot's outcome, after the run.
	Observe func(Outcome)
}

// Runner runs jobs on their schedules. Add the jobs, then Start; Stop
// waits for running jobs.
type Runner struct {
	w    Writer
	opts Options
	jobs []*entry

	mu      sync.Mutex
	started bool
	stop    chan struct{}
	loops   sync.WaitGroup
	runCtx  context.Context // the jobs' context; cancelled when Stop gives up
	cancel  context.CancelFunc
}

type entry struct {
	job   Job
	sched cron.Schedule
}

// parser accepts standard five-field specs, an optional leading seconds
// field and descriptors.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// New returns a runner that claims slots through w.
func New(w Writer, opts Options) *Runner {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Node == "" {
		opts.Node = defaultNode()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{w: w, opts: opts, stop: make(chan struct{}), runCtx: ctx, cancel: cancel}
}

// Node is the name this runner claims slots under.
func (r *Runner) Node() string { return r.opts.Node }

// Add registers a job. It fails on a bad spec, a duplicate or missing name,
// a missing Run, or after Start.
func (r *Runner) Add(j Job) error {
	if j.Name == "" || j.Run == nil {
		return errors.New("jobs: a job needs a Name and a Run")
	}
	sched, err := Parse(j.Spec)
	if err != nil {
		return fmt.Errorf("jobs: %s: %w", j.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return fmt.Errorf("jobs: %s added after Start", j.Name)
	}
	for _, e := range r.jobs {
		if e.job.Name == j.Name {
			return fmt.Errorf("jobs: %s added twice", j.Name)
		}
	}
	r.jobs = append(r.jobs, &entry{job: j, sched: sched})
	return nil
}

// Parse reads a job spec (see Job.Spec) into its schedule.
func Parse(spec string) (cron.Schedule, error) {
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, err
	}
	if every, ok := s.(cron.ConstantDelaySchedule); ok {
		// cron counts @every from the moment it is asked; nodes started at
		// different moments would never share a slot.
		return alignedEvery{every.Delay}, nil
	}
	return s, nil
}

// alignedEvery is @every d with slots at multiples of d.
type alignedEvery struct{ d time.Duration }

func (a alignedEvery) Next(t time.Time) time.Time { return t.Truncate(a.d).Add(a.d) }

// Start runs each job on its schedule, one goroutine per job: a slow job
// delays only its own next slot, and slots that pass while it runs (or
// while the machine sleeps) are skipped, not run late in a burst.
func (r *Runner) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.started = true
	for _, e := range r.jobs {
		r.loops.Add(1)
		go r.loop(e)
	}
}

// Stop stops scheduling and waits for running jobs to return. If ctx ends
// first, it cancels the jobs' context and returns ctx's error without
// waiting further.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.loops.Wait(); close(done) }()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		return ctx.Err()
	}
}

func (r *Runner) loop(e *entry) {
	defer r.loops.Done()
	clock := r.opts.Clock
	next := e.sched.Next(clock.Now().UTC())
	for !next.IsZero() {
		now := clock.Now()
		if now.Before(next) {
			select {
			case <-r.stop:
				return
			case <-clock.After(next.Sub(now)):
			}
			continue
		}
		select {
		case <-r.stop:
			return
		default:
		}
		// Woken late (a suspended machine, a clock set forward): run the
		// latest slot due, once, not every slot missed.
		for n := e.sched.Next(next); !n.IsZero() && !n.After(now); n = e.sched.Next(n) {
			next = n
		}
		r.run(r.runCtx, e, next)
		next = e.sched.Next(laterOf(next, clock.Now()).UTC())
	}
	r.opts.Logger.Warn("job has no next run; it stops", "job", e.job.Name)
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// RunSlot runs the job named for the slot now, unless a node has already
// claimed that slot. The loop calls it at each slot; tests and operators'
// tools may call it directly.
func (r *Runner) RunSlot(ctx context.Context, name string, slot time.Time) (Outcome, error) {
	r.mu.Lock()
	var found *entry
	for _, e := range r.jobs {
		if e.job.Name == name {
			found = e
		}
	}
	r.mu.Unlock()
	if found == nil {
		return Outcome{}, fmt.Errorf("jobs: no job %q", name)
	}
	return r.run(ctx, found, slot), nil
}

func (r *Runner) run(ctx context.Context, e *entry, slot time.Time) Outcome {
	out := Outcome{Job: e.job.Name, Slot: slot}
	log := r.opts.Logger.With("job", e.job.Name, "slot", slot.UTC().Format(time.RFC3339))
	won, err := r.claim(ctx, e.job.Name, slot)
	switch {
	case err != nil:
		out.Err = fmt.Errorf("jobs: claim %s: %w", e.job.Name, err)
		log.Error("job slot not claimed", "err", err)
	case !won:
		log.Debug("job slot run by another node")
	default:
		out.Ran = true
		started := r.opts.Clock.Now()
		out.Err = safeRun(ctx, e.job, slot)
		// Record the end even when shutdown cut the job short.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := r.finish(fctx, e.job.Name, slot, out.Err); err != nil {
			log.Error("job end not recorded", "err", err)
		}
		cancel()
		if out.Err != nil {
			log.Error("job failed", "err", out.Err)
		} else {
			log.Debug("job done", "took", r.opts.Clock.Now().Sub(started))
		}
	}
	if r.opts.Observe != nil {
		r.opts.Observe(out)
	}
	return out
}

func safeRun(ctx context.Context, j Job, slot time.Time) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job %s panicked: %v", j.Name, p)
		}
	}()
	return j.Run(ctx, slot)
}

// runRow is one job_runs row.
type runRow struct {
	Name       string `gorm:"column:name;primaryKey"`
	Slot       int64  `gorm:"column:slot;primaryKey"`
	Node       string `gorm:"column:node"`
	StartedAt  int64  `gorm:"column:started_at"`
	FinishedAt int64  `gorm:"column:finished_at"`
	Error      string `gorm:"column:error"`
}

func (runRow) TableName() string { return "job_runs" }

// claim inserts (name, slot); the unique key lets exactly one node win.
// The winner also drops the job's rows older than the retention.
//
// Claims of several nodes can wait on each other's uncommitted rows when
// their batches hold claims of different slots in different orders;
// PostgreSQL then aborts one as a deadlock. That claim is tried again: by
// then the other node's row is committed and decides the slot.
func (r *Runner) claim(ctx context.Context, name string, slot time.Time) (won bool, err error) {
	for attempt := 1; ; attempt++ {
		won, err = r.claimOnce(ctx, name, slot)
		if err == nil || !retryable(err) || attempt == 5 {
			return won, err
		}
		select {
		case <-ctx.Done():
			return false, err
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		}
	}
}

func (r *Runner) claimOnce(ctx context.Context, name string, slot time.Time) (won bool, err error) {
	now := r.opts.Clock.Now().UnixMilli()
	err = r.w.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		won = false // the Op may run again after a rollback (database.Op)
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&runRow{Name: name, Slot: slot.UnixMilli(), Node: r.opts.Node, StartedAt: now})
		if res.Error != nil || res.RowsAffected == 0 {
			return nil, res.Error
		}
		won = true
		return nil, tx.Exec(`DELETE FROM job_runs WHERE name = ? AND slot < ?`,
			name, slot.Add(-r.opts.Retention).UnixMilli()).Error
	})
	return won && err == nil, err
}

// retryable reports a PostgreSQL deadlock or serialization failure: the
// statement was aborted only to break a cycle, and may simply run again.
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

func (r *Runner) finish(ctx context.Context, name string, slot time.Time, runErr error) error {
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	}
	now := r.opts.Clock.Now().UnixMilli()
	return r.w.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		return nil, tx.Model(&runRow{}).Where("name = ? AND slot = ?", name, slot.UnixMilli()).
			Updates(map[string]any{"finished_at": now, "error": msg}).Error
	})
}

func defaultNode() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "node"
	}
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
}

package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Headers of a delivery.
const (
	SignatureHeader = "X-Signature"
	TimestampHeader = "X-Switchboard-Timestamp"
)

// Sign is the X-Signature of a delivery: sha256=<hex HMAC-SHA256 of
// "<timestamp>.<raw body>" keyed with the secret>, timestamp being the
// X-Switchboard-Timestamp header (Unix seconds).
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Options configure a Dispatcher. Zero values work.
type Options struct {
	// Batch is the most notifications in one delivery (default 100).
	Batch int
	// Linger is how long a delivery of fewer than Batch waits for more
	// after its oldest notification was written (default 1 s).
	Linger time.Duration
	// Timeout bounds one delivery (default 10 s).
	Timeout time.Duration
	// MaxFailures parks an endpoint after that many failures in a row
	// (default 10).
	MaxFailures int
	// Backoff is the first pause after a failure, doubled on each next
	// one up to MaxBackoff (defaults 1 s, 5 min); each pause is drawn
	// between half and all of it (jitter).
	Backoff, MaxBackoff time.Duration
	// Probe is how often a parked endpoint is tried again (default 1 min).
	Probe time.Duration
	// Poll is how often the dispatcher looks for work it was not woken
	// for (written on another node) (default 1 s).
	Poll time.Duration
	// Lease is how long the node's lease lasts without renewal (default 30 s).
	Lease time.Duration
	// Keep is how many deliveries the log keeps per program (default 50).
	Keep   int
	Now    func() time.Time
	Logger *slog.Logger
	// Client makes the requests (default: Timeout, no redirects followed).
	Client *http.Client
	// Delivered, when set, hears the outcome of each delivery attempt;
	// Parked, on each pass, how many endpoints are parked in every tenant
	// (the same figure on every node). The node's metrics take both.
	Delivered func(ok bool)
	Parked    func(n int)
	// Registered, when set, hears on each pass whether any webhook is
	// registered (Writer.SetRegistered).
	Registered func(any bool)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 10
	}
	if o.Keep <= 0 {
		o.Keep = 50
	}
	def(&o.Linger, time.Second)
	def(&o.Timeout, 10*time.Second)
	def(&o.Backoff, time.Second)
	def(&o.MaxBackoff, 5*time.Minute)
	def(&o.Probe, time.Minute)
	def(&o.Poll, time.Second)
	def(&o.Lease, 30*time.Second)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return o
}

// Dispatcher delivers the queued notifications. Of several nodes, the one
// holding the lease (table webhook_lease) delivers, with one worker per
// program: a program's deliveries go one at a time, in order, and a slow
// endpoint delays no other program.
type Dispatcher struct {
	db        *database.DB
	committer Committer
	opts      Options
	wake      chan struct{}
	// lease is the dispatcher's role among the nodes; only its loop
	// touches it.
	lease database.Lease

	mu      sync.Mutex
	workers map[Program]*worker

	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

type worker struct {
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// NewDispatcher returns a dispatcher; Start starts it.
func NewDispatcher(db *database.DB, committer Committer, opts Options) *Dispatcher {
	opts = opts.withDefaults()
	return &Dispatcher{db: db, committer: committer, opts: opts,
		lease: database.Lease{Table: "webhook_lease", Name: "webhooks", Holder: newID(), TTL: opts.Lease},
		wake:  make(chan struct{}, 1), workers: map[Program]*worker{}}
}

// Publish wakes the dispatcher after stream events commit (they may have
// queued notifications): it is one of the Committer's publishers.
func (d *Dispatcher) Publish(evs []switchboard.Event) {
	for _, ev := range evs {
		if ev.Protocol == switchboard.ProtocolStream {
			d.Wake()
			return
		}
	}
}

// Wake makes the dispatcher and its workers look for work now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Start runs the dispatcher until Stop.
func (d *Dispatcher) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	d.stop, d.done = cancel, make(chan struct{})
	go d.loop(ctx)
}

// Stop ends the dispatcher and its workers; a delivery under way is cut
// short and its notifications stay queued.
func (d *Dispatcher) Stop() {
	d.once.Do(func() {
		if d.stop != nil {
			d.stop()
			<-d.done
		}
	})
}

func (d *Dispatcher) loop(ctx context.Context) {
	defer close(d.done)
	defer d.stopWorkers(nil)
	for {
		if err := d.pass(ctx); err != nil && ctx.Err() == nil {
			d.opts.Logger.Warn("webhooks: dispatching failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-time.After(d.opts.Poll):
		}
	}
}

// pass takes or renews the lease while there are webhooks, starts a worker per webhook and stops
// the workers of webhooks that are gone (or all, without the lease); it
// wakes the workers.
func (d *Dispatcher) pass(ctx context.Context) error {
	programs, parked, err := d.programs(ctx)
	if err != nil {
		return err
	}
	if d.opts.Parked != nil {
		d.opts.Parked(parked)
	}
	if d.opts.Registered != nil {
		d.opts.Registered(len(programs) > 0)
	}
	if len(programs) == 0 {
		d.stopWorkers(nil) // no webhook: no lease, no write
		return nil
	}
	leader, err := d.claim(ctx)
	if err != nil || !leader {
		d.stopWorkers(nil)
		return err
	}
	d.stopWorkers(programs)
	d.mu.Lock()
	defer d.mu.Unlock()
	for p := range programs {
		w := d.workers[p]
		if w == nil {
			wctx, cancel := context.WithCancel(ctx)
			w = &worker{wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
			d.workers[p] = w
			go d.work(wctx, p, w)
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// stopWorkers stops the workers of programs not in keep (all for nil).
func (d *Dispatcher) stopWorkers(keep map[Program]bool) {
	d.mu.Lock()
	var stopped []*worker
	for p, w := range d.workers {
		if !keep[p] {
			w.cancel()
			stopped = append(stopped, w)
			delete(d.workers, p)
		}
	}
	d.mu.Unlock()
	for _, w := range stopped {
		<-w.done
	}
}

// programs reads every registered webhook's program, and how many of
// them are parked.
func (d *Dispatcher) programs(ctx context.Context) (map[Program]bool, int, error) {
	rows, err := database.Query(d.db.WithContext(ctx), `SELECT tenant, program_id, parked_at IS NOT NULL FROM webhooks`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := map[Program]bool{}
	parked := 0
	for rows.Next() {
		var p Program
		var isParked bool
		if err := rows.Scan(&p.Tenant, &p.ID, &isParked); err != nil {
			return nil, 0, err
		}
		out[p] = true
		if isParked {
			parked++
		}
	}
	return out, parked, rows.Err()
}

// claim takes or renews the lease (database.Lease).
func (d *Dispatcher) claim(ctx context.Context) (bool, error) {
	return d.lease.Claim(ctx, d.committer, d.opts.Now())
}

// work delivers one program's queue until ctx ends: a batch whenever
// there is one, a pause after a failure, a probe now and then while the
// endpoint is parked.
func (d *Dispatcher) work(ctx context.Context, p Program, w *worker) {
	defer close(w.done)
	for {
		wait, err := d.step(ctx, p)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.opts.Logger.Warn("webhooks: delivery step failed", "tenant", p.Tenant, "program", p.ID, "err", err)
			wait = d.opts.Poll
		}
		if wait < 0 {
			continue // more are waiting
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-w.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// step makes at most one delivery and says how long to wait before the
// next (negative: go on at once; the next wake-up otherwise also ends a
// wait with nothing to do).
func (d *Dispatcher) step(ctx context.Context, p Program) (time.Duration, error) {
	hook, err := get(d.db.WithContext(ctx), p)
	if err != nil {
		return d.opts.Poll, err
	}
	now := d.opts.Now()
	if !hook.Parked.IsZero() {
		last, err := d.lastAttempt(ctx, p)
		if err != nil {
			return 0, err
		}
		if due := last.Add(d.opts.Probe); now.Before(due) {
			return due.Sub(now), nil
		}
	} else if hook.Failures > 0 {
		last, err := d.lastAttempt(ctx, p)
		if err != nil {
			return 0, err
		}
		if due := last.Add(d.backoff(hook.Failures, last)); now.Before(due) {
			return due.Sub(now), nil
		}
	}
	batch, err := d.queued(ctx, p)
	if err != nil || len(batch) == 0 {
		return d.opts.Poll, err
	}
	if len(batch) < d.opts.Batch {
		if ready := batch[0].created.Add(d.opts.Linger); now.Before(ready) {
			return ready.Sub(now), nil
		}
	}
	ok := d.deliver(ctx, hook, batch)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if ok {
		return -1, nil
	}
	return 0, nil // the next step waits the backoff
}

// backoff is the pause after failures failures in a row, the last one at
// last, with jitter: between half and all of Backoff·2^(failures-1), at
// most MaxBackoff. The draw is seeded by the attempt, so that every
// wake-up during the pause finds the same pause.
func (d *Dispatcher) backoff(failures int, last time.Time) time.Duration {
	p := d.opts.Backoff
	for i := 1; i < failures && p < d.opts.MaxBackoff; i++ {
		p *= 2
	}
	p = min(p, d.opts.MaxBackoff)
	draw := rand.New(rand.NewPCG(uint64(last.UnixNano()), uint64(failures)))
	return p/2 + time.Duration(draw.Int64N(int64(p/2)+1))
}

func (d *Dispatcher) lastAttempt(ctx context.Context, p Program) (time.Time, error) {
	var at *int64
	err := database.QueryRow(d.db.WithContext(ctx), `SELECT MAX(at) FROM webhook_deliveries
		WHERE tenant = ? AND program_id = ?`, p.Tenant, p.ID).Scan(&at)
	if err != nil || at == nil {
		return time.Time{}, err
	}
	return time.UnixMilli(*at), nil
}

type queued struct {
	seq          int64
	notification string
	created      time.Time
}

// queued reads the oldest notifications of the program, at most a batch.
func (d *Dispatcher) queued(ctx context.Context, p Program) ([]queued, error) {
	rows, err := database.Query(d.db.WithContext(ctx), `SELECT seq, notification, created_at FROM webhook_notifications
		WHERE tenant = ? AND program_id = ? ORDER BY seq LIMIT ?`, p.Tenant, p.ID, d.opts.Batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		var created int64
		if err := rows.Scan(&q.seq, &q.notification, &created); err != nil {
			return nil, err
		}
		q.created = time.UnixMilli(created)
		out = append(out, q)
	}
	return out, rows.Err()
}

// deliver POSTs batch and records the outcome: the batch leaves the
// queue on a 2xx, otherwise it stays and the failure is counted (and the
// endpoint parked at MaxFailures).
func (d *Dispatcher) deliver(ctx context.Context, hook Webhook, batch []queued) bool {
	body := batchBody(batch)
	start := d.opts.Now()
	status, err := d.post(ctx, hook, body)
	if ctx.Err() != nil && (err != nil || status == 0) {
		return false // stopped, not the endpoint's failure: the batch stays queued
	}
	// An answer that came is recorded even while stopping: a batch taken
	// is not sent again by the next node.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.Timeout)
	defer cancel()
	ok := err == nil && status >= 200 && status < 300
	if err == nil && !ok {
		err = fmt.Errorf("HTTP %d", status)
	}
	if d.opts.Delivered != nil {
		d.opts.Delivered(ok)
	}
	rec := Delivery{At: start, Status: status, Count: len(batch), Duration: d.opts.Now().Sub(start)}
	if err != nil {
		rec.Error = err.Error()
	}
	if werr := d.record(ctx, hook, batch, rec, ok); werr != nil {
		d.opts.Logger.Warn("webhooks: recording a delivery failed", "tenant", hook.Tenant, "program", hook.ID, "err", werr)
		return false
	}
	if !ok {
		d.opts.Logger.Info("webhooks: delivery failed", "tenant", hook.Tenant, "program", hook.ID, "failures", hook.Failures+1, "err", err)
	}
	return ok
}

func batchBody(batch []queued) []byte {
	var b bytes.Buffer
	b.WriteString(`{"notifications":[`)
	for i, q := range batch {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(q.notification)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// post sends one signed delivery and returns the status (0 when no
// answer came).
func (d *Dispatcher) post(ctx context.Context, hook Webhook, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(d.opts.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(hook.Secret, ts, body))
	res, err := d.opts.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}

// record writes the outcome: the delivered rows deleted and the failures
// reset, or one more failure (parking at the limit); and the log entry,
// of which the last Keep stay.
func (d *Dispatcher) record(ctx context.Context, hook Webhook, batch []queued, rec Delivery, ok bool) error {
	return d.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		if ok {
			args := make([]any, 0, len(batch)+2)
			args = append(args, hook.Tenant, hook.ID)
			for _, q := range batch {
				args = append(args, q.seq)
			}
			if _, err := database.Exec(tx, `DELETE FROM webhook_notifications WHERE tenant = ? AND program_id = ? AND seq IN (?`+
				strings.Repeat(", ?", len(batch)-1)+`)`, args...); err != nil {
				return nil, err
			}
			if _, err := database.Exec(tx, `UPDATE webhooks SET failures = 0, parked_at = NULL WHERE tenant = ? AND program_id = ?`,
				hook.Tenant, hook.ID); err != nil {
				return nil, err
			}
		} else {
			if _, err := database.Exec(tx, `UPDATE webhooks SET failures = failures + 1,
				parked_at = CASE WHEN parked_at IS NULL AND failures + 1 >= ? THEN ? ELSE parked_at END
				WHERE tenant = ? AND program_id = ?`, d.opts.MaxFailures, rec.At.UnixMilli(), hook.Tenant, hook.ID); err != nil {
				return nil, err
			}
		}
		if _, err := database.Exec(tx, `INSERT INTO webhook_deliveries (tenant, program_id, at, status, error, count, duration_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, hook.Tenant, hook.ID, rec.At.UnixMilli(), rec.Status, truncate(rec.Error, 500),
			rec.Count, rec.Duration.Milliseconds()); err != nil {
			return nil, err
		}
		_, err := database.Exec(tx, `DELETE FROM webhook_deliveries WHERE tenant = ? AND program_id = ? AND seq <=
			(SELECT seq FROM webhook_deliveries WHERE tenant = ? AND program_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
			hook.Tenant, hook.ID, hook.Tenant, hook.ID, d.opts.Keep)
		return nil, err
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

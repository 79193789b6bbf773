package mail

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Sender delivers one message (SMTP, or a fake in tests).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Compose makes the messages of one cause (it may read the database:
// it runs on the Outbox's goroutine, never on the caller's). No
// messages: nothing to send.
type Compose func(ctx context.Context) ([]Message, error)

// Outbox sends email off the caller's path: Post never blocks, one
// goroutine composes and sends in order, each message is tried Attempts
// times with a growing pause, and failures are logged, not returned:
// nothing a client waits for ever waits for mail. It lives in memory: a
// node that stops with mail queued sends what it can until Close's
// deadline and logs the rest. A nil *Outbox sends nothing.
type Outbox struct {
	sender Sender
	opts   OutboxOptions
	log    *slog.Logger
	jobs   chan job

	mu     sync.Mutex
	closed bool
	stop   context.CancelFunc
	ctx    context.Context
	done   chan struct{}
}

type job struct {
	what    string
	compose Compose
}

// OutboxOptions configure an Outbox. Zero values work.
type OutboxOptions struct {
	// Attempts is how often one message is tried (default 4).
	Attempts int
	// Backoff is the pause after the first failure, doubled after each
	// further one (default 5 s: 5, 10, 20).
	Backoff time.Duration
	// Queue is how many causes may wait (default 1024); more are dropped
	// and logged.
	Queue  int
	Logger *slog.Logger
}

// NewOutbox starts an outbox sending through sender.
func NewOutbox(sender Sender, opts OutboxOptions) *Outbox {
	if opts.Attempts <= 0 {
		opts.Attempts = 4
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 5 * time.Second
	}
	if opts.Queue <= 0 {
		opts.Queue = 1024
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	o := &Outbox{sender: sender, opts: opts, log: opts.Logger, jobs: make(chan job, opts.Queue),
		ctx: ctx, stop: stop, done: make(chan struct{})}
	go o.run()
	return o
}

// Post queues one cause's mail; what names it in the log. It reports
// false when the mail will not go: no outbox, closed, or full.
func (o *Outbox) Post(what string, compose Compose) bool {
	if o == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	select {
	case o.jobs <- job{what, compose}:
		return true
	default:
		o.log.Error("mail: the outbox is full; not sent", "mail", what)
		return false
	}
}

// Close stops taking mail and sends what is queued until ctx ends; what
// is left then is logged, not sent.
func (o *Outbox) Close(ctx context.Context) {
	if o == nil {
		return
	}
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.jobs)
	}
	o.mu.Unlock()
	select {
	case <-o.done:
	case <-ctx.Done():
		o.stop() // pauses end, sends in progress are cut short
		<-o.done
	}
}

func (o *Outbox) run() {
	defer close(o.done)
	defer o.stop()
	for j := range o.jobs {
		o.deliver(j)
	}
}

func (o *Outbox) deliver(j job) {
	msgs, err := j.compose(o.ctx)
	if err != nil {
		o.log.Error("mail: composing failed; not sent", "mail", j.what, "err", err)
		return
	}
	for _, m := range msgs {
		o.send(j.what, m)
	}
}

// send tries m up to Attempts times.
func (o *Outbox) send(what string, m Message) {
	pause := o.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := o.sender.Send(o.ctx, m)
		if err == nil {
			o.log.Info("mail: sent", "mail", what, "to", m.To)
			return
		}
		if attempt == o.opts.Attempts || o.ctx.Err() != nil {
			o.log.Error("mail: not sent; giving up", "mail", what, "to", m.To, "attempts", attempt, "err", err)
			return
		}
		o.log.Warn("mail: sending failed; will retry", "mail", what, "attempt", attempt, "in", pause, "err", err)
		select {
		case <-time.After(pause):
		case <-o.ctx.Done():
		}
		pause *= 2
	}
}

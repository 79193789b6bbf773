package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/jobs"
	"github.com/switchboard-chat/switchboard/outbox"
)

// EventSettings are the settings of the domain event stream (package
// outbox, docs/events.md).
type EventSettings struct {
	// Sink is nats://host:4222, kafka://host:9092[,host:9092], or empty:
	// no stream, and no outbox rows.
	Sink      string
	Namespace string
	// Stream is the JetStream stream (NATS only).
	Stream string
	// Retention is how long published rows stay in the outbox;
	// PruneSchedule is when the job that deletes older ones runs.
	Retention     time.Duration
	PruneSchedule string
}

// On says the stream is configured.
func (e EventSettings) On() bool { return e.Sink != "" }

// load binds the settings with Load's helpers.
func (e *EventSettings) load(str func(*string, setting, string), dur func(*time.Duration, setting, time.Duration)) {
	str(&e.Sink, setting{"events-sink", "SWITCHBOARD_EVENTS_SINK", "domain event stream sink: nats://host:4222 (JetStream) or kafka://host:9092[,host:9092]; empty = no stream"}, "")
	str(&e.Namespace, setting{"events-namespace", "SWITCHBOARD_EVENTS_NAMESPACE", "the events' namespace: envelope namespace, NATS subject prefix, Kafka topic"}, outbox.DefaultNamespace)
	str(&e.Stream, setting{"events-stream", "SWITCHBOARD_EVENTS_STREAM", "JetStream stream the events go to (created if missing)"}, outbox.DefaultStream)
	dur(&e.Retention, setting{"events-retention", "SWITCHBOARD_EVENTS_RETENTION", "how long published events stay in the outbox table"}, 24*time.Hour)
	str(&e.PruneSchedule, setting{"events-prune-schedule", "SWITCHBOARD_EVENTS_PRUNE_SCHEDULE", "when published events older than the retention are deleted (cron spec, UTC)"}, "17 * * * *")
}

// check refuses settings the stream cannot work with.
func (e EventSettings) check() error {
	if err := outbox.ValidNamespace(e.Namespace); err != nil {
		return fmt.Errorf("SWITCHBOARD_EVENTS_NAMESPACE: %w", err)
	}
	if !e.On() {
		return nil
	}
	if !strings.HasPrefix(e.Sink, "nats://") && !strings.HasPrefix(e.Sink, "tls://") && !strings.HasPrefix(e.Sink, "kafka://") {
		return fmt.Errorf("SWITCHBOARD_EVENTS_SINK: use nats://host:4222 or kafka://host:9092[,host:9092], or leave it empty")
	}
	if e.Retention <= 0 {
		return fmt.Errorf("SWITCHBOARD_EVENTS_RETENTION must be positive, not %s", e.Retention)
	}
	if _, err := jobs.Parse(e.PruneSchedule); err != nil {
		return fmt.Errorf("SWITCHBOARD_EVENTS_PRUNE_SCHEDULE=%q: %w", e.PruneSchedule, err)
	}
	return nil
}

// OutboxPruneJob is the job that deletes published events.
const OutboxPruneJob = "outbox-prune"

// outboxPruneJob deletes the outbox rows published longer than retention
// before the slot's time.
func outboxPruneJob(w jobs.Writer, retention time.Duration, spec string, log *slog.Logger) jobs.Job {
	return jobs.Job{Name: OutboxPruneJob, Spec: spec, Run: func(ctx context.Context, now time.Time) error {
		var n int64
		err := w.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
			var err error
			n, err = outbox.Prune(tx, now.Add(-retention))
			return nil, err
		})
		if err == nil && n > 0 {
			log.Info("published events pruned from the outbox", "rows", n)
		}
		return err
	}}
}

// streamPublisher hands stream events made outside any write (the
// limiter's userChatRateLimited and userDisconnected) to the outbox in a
// write of their own; everything else goes to next.
func streamPublisher(c *database.Committer, next switchboard.Publisher) switchboard.Publisher {
	if !c.Streaming() {
		return next
	}
	return switchboard.PublisherFunc(func(evs []switchboard.Event) {
		stream := switchboard.ForProtocol(evs, switchboard.ProtocolStream)
		if len(stream) > 0 {
			c.Submit(func(*gorm.DB) ([]switchboard.Event, error) { return stream, nil }, nil)
		}
		if len(stream) < len(evs) {
			next.Publish(evs)
		}
	})
}

// eventsReady is what /readyz says of the stream: the sink and its last
// error, and the outbox's lag. A sink that is down does not make the
// node unready: chat goes on, and the events wait.
func (a *App) eventsReady() string {
	if a.relay == nil {
		return ""
	}
	st := a.relay.Status()
	sink := "ok"
	switch {
	case st.Err != nil:
		sink = "failing: " + st.Err.Error()
	case !st.Leader:
		sink = "standby (another node publishes)"
	}
	lag, err := outbox.PendingLag(a.db.DB)
	if err != nil {
		return fmt.Sprintf("\nevents sink %s: %s\noutbox: %v", st.Sink, sink, err)
	}
	oldest := "0s"
	if !lag.Oldest.IsZero() {
		oldest = time.Since(lag.Oldest).Round(time.Millisecond).String()
	}
	return fmt.Sprintf("\nevents sink %s: %s\noutbox: %d pending, oldest %s", st.Sink, sink, lag.Pending, oldest)
}

// startRelay opens the sink and makes the relay that publishes the
// outbox to it (started by Run); events is the outbox's writer, which
// hands the relay what it wrote.
func (a *App) startRelay(events *outbox.Writer) error {
	if !a.cfg.Events.On() {
		return nil
	}
	sink, err := outbox.Open(a.cfg.Events.Sink, outbox.SinkOptions{Namespace: a.cfg.Events.Namespace,
		Stream: a.cfg.Events.Stream})
	if err != nil {
		return err
	}
	a.relay = outbox.NewRelay(a.db, a.committer, sink, outbox.RelayOptions{Logger: a.log, Writer: events})
	a.log.Info("domain events are published", "sink", sink.String(), "namespace", a.cfg.Events.Namespace)
	return nil
}

// stopRelay stops publishing; what is pending stays in the outbox for
// the next start (or another node).
func (a *App) stopRelay() {
	if a.relay != nil {
		a.relay.Stop()
	}
}

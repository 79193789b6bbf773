package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/jobs"
	"github.com/switchboard-chat/switchboard/privacy"
	"github.com/switchboard-chat/switchboard/tickets"
)

// Scheduled jobs. Every node runs the same runner and each slot runs on
// one node (see internal/jobs). The runner lives in a package of its own,
// not here, because it is mechanism (schedules, clock, slot claims) with
// tests of its own that need no server; this file only says which jobs
// Switchboard runs, with which settings. A new job is one more entry in
// scheduledJobs and, if it has settings, rows in Config.

// The scheduled jobs' names (in job_runs and the logs).
const (
	SessionAgesJob = "session-ages"
	AutoCloseJob   = "ticket-auto-close"
	EscalateJob    = "ticket-escalation"
	RemindJob      = "ticket-reminder"
	RetentionJob   = "ticket-retention"
)

// scheduledJobs lists the jobs every node runs, writing through w; the
// ticket automations act through svc and are left out when set to 0.
func scheduledJobs(cfg Config, w jobs.Writer, svc *tickets.Service, log *slog.Logger) []jobs.Job {
	list := []jobs.Job{sessionAgeJob(w, cfg.ArchiveAfter, cfg.ArchiveSchedule, log)}
	if cfg.Events.On() {
		list = append(list, outboxPruneJob(w, cfg.Events.Retention, cfg.Events.PruneSchedule, log))
	}
	if cfg.AutoCloseAfter > 0 {
		list = append(list, ticketJob(AutoCloseJob, cfg.AutoCloseSchedule, w, log, "idle tickets closed",
			func(tx *gorm.DB, now time.Time) ([]switchboard.Event, int, error) {
				return svc.AutoClose(tx, now, cfg.AutoCloseAfter, tickets.AutomationBatch)
			}))
	}
	if cfg.EscalateAfter > 0 {
		list = append(list, ticketJob(EscalateJob, cfg.EscalateSchedule, w, log, "waiting tickets escalated",
			func(tx *gorm.DB, now time.Time) ([]switchboard.Event, int, error) {
				return svc.Escalate(tx, now, cfg.EscalateAfter, tickets.AutomationBatch)
			}))
	}
	if cfg.RemindAfter > 0 {
		list = append(list, ticketJob(RemindJob, cfg.RemindSchedule, w, log, "handlers reminded of waiting users",
			func(tx *gorm.DB, now time.Time) ([]switchboard.Event, int, error) {
				return svc.Remind(tx, now, cfg.RemindAfter, tickets.AutomationBatch)
			}))
	}
	if cfg.RetentionAfter > 0 {
		mode := privacy.RetentionMode(cfg.RetentionMode)
		list = append(list, ticketJob(RetentionJob, cfg.RetentionSchedule, w, log, "closed tickets "+string(mode)+"d",
			func(tx *gorm.DB, now time.Time) ([]switchboard.Event, int, error) {
				n, err := privacy.Retain(tx, now, cfg.RetentionAfter, mode, tickets.AutomationBatch)
				return nil, n, err
			}))
	}
	return list
}

// newJobs makes the runner with every job added; a bad setting fails the
// start rather than a job silently never running.
func newJobs(cfg Config, w jobs.Writer, svc *tickets.Service, opts jobs.Options) (*jobs.Runner, error) {
	for _, s := range []struct {
		after         time.Duration
		schedule      string
		name          string
		zeroIsAllowed bool
	}{
		{cfg.ArchiveAfter, cfg.ArchiveSchedule, "ARCHIVE", false},
		{cfg.AutoCloseAfter, cfg.AutoCloseSchedule, "AUTO_CLOSE", true},
		{cfg.EscalateAfter, cfg.EscalateSchedule, "ESCALATE", true},
		{cfg.RemindAfter, cfg.RemindSchedule, "REMIND", true},
		{cfg.RetentionAfter, cfg.RetentionSchedule, "RETENTION", true},
	} {
		if s.after < 0 || s.after == 0 && !s.zeroIsAllowed {
			return nil, fmt.Errorf("SWITCHBOARD_%s_AFTER must be positive, not %s", s.name, s.after)
		}
		if _, err := jobs.Parse(s.schedule); err != nil {
			return nil, fmt.Errorf("SWITCHBOARD_%s_SCHEDULE=%q: %w", s.name, s.schedule, err)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := jobs.New(w, opts)
	for _, j := range scheduledJobs(cfg, w, svc, opts.Logger) {
		if err := r.Add(j); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// stopJobs stops scheduling and waits (within ctx) for a running job, so
// that its writes reach the Committer before it closes.
func stopJobs(ctx context.Context, r *jobs.Runner, log *slog.Logger) {
	if r == nil {
		return
	}
	if err := r.Stop(ctx); err != nil {
		log.Warn("a scheduled job was still running at shutdown", "err", err)
	}
}

// sessionAgeJob moves sessions between RECENT and ARCHIVED as time passes
// (chat.RefreshAges) and forgets expired chat request keys
// (chat.PruneRequestKeys), writing through w, judged at the slot's time.
func sessionAgeJob(w jobs.Writer, window time.Duration, spec string, log *slog.Logger) jobs.Job {
	return jobs.Job{Name: SessionAgesJob, Spec: spec, Run: func(ctx context.Context, now time.Time) error {
		var changed, forgotten int64
		err := w.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
			var err error
			if changed, err = chat.RefreshAges(tx, now, window); err != nil {
				return nil, err
			}
			forgotten, err = chat.PruneRequestKeys(tx, now)
			return nil, err
		})
		if err == nil && changed > 0 {
			log.Info("session ages refreshed", "memberships", changed)
		}
		if err == nil && forgotten > 0 {
			log.Info("chat request keys forgotten", "keys", forgotten)
		}
		return err
	}}
}

// ticketJob runs one ticket automation (tickets.Service AutoClose or
// Escalate) as one Op through w, judged at the slot's time, and logs how
// many tickets it acted on. Its events are published after the commit.
func ticketJob(name, spec string, w jobs.Writer, log *slog.Logger, what string,
	act func(tx *gorm.DB, now time.Time) ([]switchboard.Event, int, error)) jobs.Job {
	return jobs.Job{Name: name, Spec: spec, Run: func(ctx context.Context, now time.Time) error {
		var n int
		err := w.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
			evs, acted, err := act(tx, now)
			n = acted
			return evs, err
		})
		if err == nil && n > 0 {
			log.Info(what, "tickets", n, "slot", now)
		}
		if err == nil && n == tickets.AutomationBatch {
			log.Info(what+": more are left for the next slot", "batch", n)
		}
		return err
	}}
}

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
)

// Scheduled jobs. Every node runs the same runner and each slot runs on
// one node (see internal/jobs). The runner lives in a package of its own,
// not here, because it is mechanism (schedules, clock, slot claims) with
// tests of its own that need no server; this file only says which jobs
// Switchboard runs, with which settings. A new job (ticket auto-close,
// escalation) is one more entry in scheduledJobs and, if it has
// settings, rows in Config.

// SessionAgesJob names the job that keeps session ages current.
const SessionAgesJob = "session-ages"

// scheduledJobs lists the jobs every node runs, writing through w.
func scheduledJobs(cfg Config, w jobs.Writer, log *slog.Logger) []jobs.Job {
	return []jobs.Job{
		sessionAgeJob(w, cfg.ArchiveAfter, cfg.ArchiveSchedule, log),
	}
}

// newJobs makes the runner with every job added; a bad setting fails the
// start rather than a job silently never running.
func newJobs(cfg Config, w jobs.Writer, opts jobs.Options) (*jobs.Runner, error) {
	if cfg.ArchiveAfter <= 0 {
		return nil, fmt.Errorf("SWITCHBOARD_ARCHIVE_AFTER must be positive, not %s", cfg.ArchiveAfter)
	}
	if _, err := jobs.Parse(cfg.ArchiveSchedule); err != nil {
		return nil, fmt.Errorf("SWITCHBOARD_ARCHIVE_SCHEDULE=%q: %w", cfg.ArchiveSchedule, err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := jobs.New(w, opts)
	for _, j := range scheduledJobs(cfg, w, opts.Logger) {
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

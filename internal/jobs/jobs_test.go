package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/jobs"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

func forDialects(t *testing.T, f func(t *testing.T, db *database.DB)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) { f(t, testdb.Open(t, d)) })
	}
}

func committer(t *testing.T, db *database.DB) *database.Committer {
	c := database.NewCommitter(db, nil, database.CommitterOptions{})
	t.Cleanup(c.Close)
	return c
}

var t0 = time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC)

func TestParseSlots(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		from     time.Time
		want     time.Time
		wantsErr bool
	}{
		{spec: "*/10 * * * *", from: t0, want: time.Date(2026, 3, 2, 9, 10, 0, 0, time.UTC)},
		{spec: "*/10 * * * *", from: t0.Add(5 * time.Minute), want: time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC)},
		// @every is aligned: the same slot whenever a node asks.
		{spec: "@every 10m", from: t0.Add(3*time.Minute + 7*time.Second), want: time.Date(2026, 3, 2, 9, 10, 0, 0, time.UTC)},
		{spec: "@every 10m", from: t0.Add(-4 * time.Minute), want: time.Date(2026, 3, 2, 9, 10, 0, 0, time.UTC)},
		{spec: "@hourly", from: t0, want: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)},
		{spec: "30 * * * * *", from: t0, want: t0.Add(30 * time.Second)},
		{spec: "CRON_TZ=Europe/Rome 0 12 * * *", from: t0, want: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)},
		{spec: "every ten minutes", wantsErr: true},
		{spec: "", wantsErr: true},
	} {
		s, err := jobs.Parse(tc.spec)
		if tc.wantsErr {
			if err == nil {
				t.Errorf("Parse(%q) accepted", tc.spec)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		if got := s.Next(tc.from); !got.Equal(tc.want) {
			t.Errorf("Parse(%q).Next(%s) = %s, want %s", tc.spec, tc.from, got, tc.want)
		}
	}
}

func TestAddRejects(t *testing.T) {
	r := jobs.New(nil, jobs.Options{})
	run := func(context.Context, time.Time) error { return nil }
	if err := r.Add(jobs.Job{Name: "a", Spec: "@hourly", Run: run}); err != nil {
		t.Fatal(err)
	}
	for _, j := range []jobs.Job{
		{Name: "a", Spec: "@hourly", Run: run},
		{Name: "", Spec: "@hourly", Run: run},
		{Name: "b", Spec: "@hourly"},
		{Name: "c", Spec: "61 * * * *", Run: run},
	} {
		if err := r.Add(j); err == nil {
			t.Errorf("Add(%+v) accepted", j)
		}
	}
}

// Two nodes on one database run each slot once between them.
func TestTwoNodesRunEachSlotOnce(t *testing.T) {
	forDialects(t, func(t *testing.T, db *database.DB) {
		var mu sync.Mutex
		runs := map[time.Time][]string{}
		node := func(name string) *jobs.Runner {
			r := jobs.New(committer(t, db), jobs.Options{Node: name})
			if err := r.Add(jobs.Job{Name: "tally", Spec: "@every 1m", Run: func(_ context.Context, now time.Time) error {
				mu.Lock()
				runs[now] = append(runs[now], name)
				mu.Unlock()
				return nil
			}}); err != nil {
				t.Fatal(err)
			}
			return r
		}
		a, b := node("a"), node("b")
		const slots = 20
		var wg sync.WaitGroup
		var ran atomic.Int64
		for i := range slots {
			slot := t0.Add(time.Duration(i) * time.Minute)
			for _, r := range []*jobs.Runner{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := r.RunSlot(context.Background(), "tally", slot)
					if err != nil || out.Err != nil {
						t.Errorf("%s slot %s: %v, %v", r.Node(), slot, err, out.Err)
					}
					if out.Ran {
						ran.Add(1)
					}
				}()
			}
		}
		wg.Wait()
		if ran.Load() != slots || len(runs) != slots {
			t.Fatalf("%d runs over %d slots, want %d: %v", ran.Load(), len(runs), slots, runs)
		}
		for slot, nodes := range runs {
			if len(nodes) != 1 {
				t.Errorf("slot %s ran on %v", slot, nodes)
			}
		}
		var unfinished int64
		if err := db.Raw(`SELECT COUNT(*) FROM job_runs WHERE name = 'tally' AND (finished_at = 0 OR error <> '')`).
			Scan(&unfinished).Error; err != nil {
			t.Fatal(err)
		}
		if unfinished != 0 {
			t.Errorf("%d runs not recorded as finished", unfinished)
		}
	})
}

// The loop runs a job at its slot on the runner's clock, with the slot's
// time, and Stop waits for a running job.
func TestLoopFollowsClockAndStopWaits(t *testing.T) {
	forDialects(t, func(t *testing.T, db *database.DB) {
		clock := jobs.NewManualClock(t0) // 09:05
		outcomes := make(chan jobs.Outcome, 10)
		started := make(chan time.Time, 10)
		release := make(chan struct{})
		r := jobs.New(committer(t, db), jobs.Options{Clock: clock, Observe: func(o jobs.Outcome) { outcomes <- o }})
		must(t, r.Add(jobs.Job{Name: "slow", Spec: "*/10 * * * *", Run: func(ctx context.Context, now time.Time) error {
			started <- now
			<-release
			return nil
		}}))
		r.Start()

		clock.BlockUntil(1)
		clock.Advance(4 * time.Minute) // 09:09: not yet
		select {
		case now := <-started:
			t.Fatalf("ran at %s, before its slot", now)
		case <-time.After(50 * time.Millisecond):
		}
		clock.BlockUntil(1)
		clock.Advance(90 * time.Second) // 09:10:30: the 09:10 slot is due
		slot := time.Date(2026, 3, 2, 9, 10, 0, 0, time.UTC)
		if now := <-started; !now.Equal(slot) {
			t.Fatalf("ran for %s, want the slot %s", now, slot)
		}

		stopped := make(chan error, 1)
		go func() { stopped <- r.Stop(context.Background()) }()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned while the job ran: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if o := <-outcomes; !o.Ran || o.Err != nil || !o.Slot.Equal(slot) {
			t.Fatalf("outcome %+v", o)
		}
		// Stopped: time passing runs nothing more.
		clock.Advance(time.Hour)
		select {
		case now := <-started:
			t.Fatalf("ran for %s after Stop", now)
		case <-time.After(50 * time.Millisecond):
		}
	})
}

// A job that runs past the slot after it skips that slot rather than
// running twice in a row.
func TestLoopSkipsSlotsMissedWhileRunning(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	clock := jobs.NewManualClock(t0)
	slots := make(chan time.Time, 10)
	r := jobs.New(committer(t, db), jobs.Options{Clock: clock})
	must(t, r.Add(jobs.Job{Name: "long", Spec: "@every 1m", Run: func(_ context.Context, now time.Time) error {
		if len(slots) == 0 {
			clock.Advance(150 * time.Second) // the first run takes 2.5 minutes
		}
		slots <- now
		return nil
	}}))
	r.Start()
	defer r.Stop(context.Background())
	clock.BlockUntil(1)
	clock.Advance(time.Minute) // 09:06
	first := <-slots
	clock.BlockUntil(1)
	clock.Advance(time.Minute) // from 09:08:30 to 09:09:30
	second := <-slots
	if want := t0.Add(time.Minute); !first.Equal(want) {
		t.Errorf("first slot %s, want %s", first, want)
	}
	if want := t0.Add(4 * time.Minute); !second.Equal(want) {
		t.Errorf("second slot %s, want %s (09:07 and 09:08 passed during the first run)", second, want)
	}
}

func TestStopGivesUpAndCancels(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	clock := jobs.NewManualClock(t0)
	cancelled := make(chan struct{})
	running := make(chan struct{})
	r := jobs.New(committer(t, db), jobs.Options{Clock: clock})
	must(t, r.Add(jobs.Job{Name: "stuck", Spec: "@every 1m", Run: func(ctx context.Context, _ time.Time) error {
		close(running)
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	}}))
	r.Start()
	clock.BlockUntil(1)
	clock.Advance(time.Minute)
	<-running
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the deadline", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the job's context was not cancelled")
	}
}

// Failures and panics are recorded against the slot, and old rows go.
func TestRunRecordsErrorsAndPrunes(t *testing.T) {
	forDialects(t, func(t *testing.T, db *database.DB) {
		r := jobs.New(committer(t, db), jobs.Options{Node: "n1", Retention: time.Hour})
		must(t, r.Add(jobs.Job{Name: "fails", Spec: "@hourly", Run: func(context.Context, time.Time) error {
			return errors.New("mailbox full")
		}}))
		must(t, r.Add(jobs.Job{Name: "panics", Spec: "@hourly", Run: func(context.Context, time.Time) error {
			panic("boom")
		}}))
		ctx := context.Background()
		for i, name := range []string{"fails", "panics"} {
			out, err := r.RunSlot(ctx, name, t0)
			if err != nil || !out.Ran || out.Err == nil {
				t.Fatalf("RunSlot(%s) = %+v, %v", name, out, err)
			}
			var row struct {
				Node       string
				FinishedAt int64
				Error      string
			}
			must(t, db.Raw(`SELECT node, finished_at, error FROM job_runs WHERE name = ? AND slot = ?`, name, t0.UnixMilli()).Scan(&row).Error)
			want := []string{"mailbox full", "boom"}[i]
			if row.Node != "n1" || row.FinishedAt == 0 || !strings.Contains(row.Error, want) {
				t.Errorf("%s recorded as %+v", name, row)
			}
		}
		if _, err := r.RunSlot(ctx, "nonesuch", t0); err == nil {
			t.Error("RunSlot of an unknown job succeeded")
		}
		// Two hours later the 09:05 row is past the one-hour retention.
		if _, err := r.RunSlot(ctx, "fails", t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		var slots []int64
		must(t, db.Raw(`SELECT slot FROM job_runs WHERE name = 'fails' ORDER BY slot`).Scan(&slots).Error)
		if fmt.Sprint(slots) != fmt.Sprint([]int64{t0.Add(2 * time.Hour).UnixMilli()}) {
			t.Errorf("rows kept: %v", slots)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Woken long after its slot, a runner runs the latest slot due, once.
func TestLoopRunsLatestDueSlot(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	clock := jobs.NewManualClock(t0) // 09:05
	slots := make(chan time.Time, 10)
	r := jobs.New(committer(t, db), jobs.Options{Clock: clock})
	must(t, r.Add(jobs.Job{Name: "tick", Spec: "*/10 * * * *", Run: func(_ context.Context, now time.Time) error {
		slots <- now
		return nil
	}}))
	r.Start()
	defer r.Stop(context.Background())
	clock.BlockUntil(1)
	clock.Advance(3 * 24 * time.Hour) // three days on, at 09:05
	if got, want := <-slots, t0.Add(3*24*time.Hour-5*time.Minute); !got.Equal(want) {
		t.Fatalf("ran for %s, want the latest slot %s", got, want)
	}
	clock.BlockUntil(1)
	select {
	case s := <-slots:
		t.Fatalf("also ran for %s", s)
	default:
	}
}

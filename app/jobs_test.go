package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/jobs"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// The session-age job, run by the runner on a clock the test moves: a
// session untouched for 8 days becomes ARCHIVED at the next slot, a
// starred one stays RECENT, and a new message makes the first RECENT
// again at the slot after.
func TestSessionAgeJob(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			committer := database.NewCommitter(db, nil, database.CommitterOptions{})
			t.Cleanup(committer.Close)

			start := time.Date(2026, 3, 10, 12, 3, 0, 0, time.UTC)
			eightDaysAgo := start.Add(-8 * 24 * time.Hour).UnixMilli()
			for _, s := range []struct {
				id      string
				starred bool
				updated int64
			}{{"idle", false, eightDaysAgo}, {"starred", true, eightDaysAgo}, {"busy", false, start.Add(-time.Hour).UnixMilli()}} {
				if err := chat.CreateSession(db.DB, chat.Session{ID: s.id, Tenant: "acme", Type: chat.OneToOne, CreatorID: "ann",
					CreatedAt: eightDaysAgo, UpdatedAt: s.updated},
					chat.Member{SessionID: s.id, UserID: "ann", Role: chat.MemberOwner, JoinedAt: eightDaysAgo, Starred: s.starred},
					chat.Member{SessionID: s.id, UserID: "bob", Role: chat.MemberHandler, JoinedAt: eightDaysAgo}); err != nil {
					t.Fatal(err)
				}
			}

			// Only the session-age job: the ticket automations have tests
			// of their own (automation_test.go).
			cfg, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_AUTO_CLOSE_AFTER": "0",
				"SWITCHBOARD_ESCALATE_AFTER": "0", "SWITCHBOARD_REMIND_AFTER": "0"}), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			clock := jobs.NewManualClock(start)
			outcomes := make(chan jobs.Outcome, 4)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			r, err := newJobs(cfg, committer, nil, jobs.Options{Clock: clock, Logger: log,
				Observe: func(o jobs.Outcome) { outcomes <- o }})
			if err != nil {
				t.Fatal(err)
			}
			r.Start()
			defer stopJobs(context.Background(), r, log)

			// runSlot moves the clock to the next ten-minute slot and waits
			// for the job to have run there.
			runSlot := func(want time.Time) {
				t.Helper()
				clock.BlockUntil(1)
				clock.Set(want)
				o := <-outcomes
				if o.Job != SessionAgesJob || !o.Slot.Equal(want) || !o.Ran || o.Err != nil {
					t.Fatalf("outcome %+v, want %s run at %s", o, SessionAgesJob, want)
				}
			}
			ages := func() map[string]string {
				t.Helper()
				var rows []struct{ SessionID, UserID, Age string }
				if err := db.Raw(`SELECT session_id, user_id, age FROM chat_members`).Scan(&rows).Error; err != nil {
					t.Fatal(err)
				}
				out := map[string]string{}
				for _, r := range rows {
					out[r.SessionID+"/"+r.UserID] = r.Age
				}
				return out
			}
			check := func(when string, want map[string]string) {
				t.Helper()
				got := ages()
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s: %s is %s, want %s (all: %v)", when, k, got[k], v, got)
					}
				}
			}

			runSlot(time.Date(2026, 3, 10, 12, 10, 0, 0, time.UTC))
			check("after the first slot", map[string]string{
				"idle/ann": chat.AgeArchived, "idle/bob": chat.AgeArchived,
				"starred/ann": chat.AgeRecent, "starred/bob": chat.AgeArchived, // a star is one member's
				"busy/ann": chat.AgeRecent, "busy/bob": chat.AgeRecent,
			})

			msgAt := time.Date(2026, 3, 10, 12, 15, 0, 0, time.UTC)
			if err := committer.Run(context.Background(), func(tx *gorm.DB) ([]switchboard.Event, error) {
				_, err := chat.InsertMessage(tx, &chat.Message{ID: "m1", SessionID: "idle", Tenant: "acme", Kind: chat.KindUser,
					Type: chat.TypeText, Content: "still there?", SenderID: "bob", CreatedAt: msgAt.UnixMilli()})
				return nil, err
			}); err != nil {
				t.Fatal(err)
			}
			runSlot(time.Date(2026, 3, 10, 12, 20, 0, 0, time.UTC))
			check("after a new message", map[string]string{"idle/ann": chat.AgeRecent, "idle/bob": chat.AgeRecent})

			// Eight days later everything unstarred has aged.
			runSlot(time.Date(2026, 3, 18, 12, 20, 0, 0, time.UTC))
			check("eight days on", map[string]string{
				"idle/ann": chat.AgeArchived, "busy/ann": chat.AgeArchived, "starred/ann": chat.AgeRecent,
			})
		})
	}
}

func TestNewJobsRejectsBadSettings(t *testing.T) {
	for _, env := range []map[string]string{
		{"SWITCHBOARD_ARCHIVE_SCHEDULE": "every ten minutes"},
		{"SWITCHBOARD_ARCHIVE_AFTER": "-1h"},
		{"SWITCHBOARD_AUTO_CLOSE_AFTER": "-1h"},
		{"SWITCHBOARD_AUTO_CLOSE_SCHEDULE": "often"},
		{"SWITCHBOARD_ESCALATE_AFTER": "-10m"},
		{"SWITCHBOARD_ESCALATE_SCHEDULE": "* * *"},
	} {
		cfg, err := Load("switchboard", nil, testEnv(env), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newJobs(cfg, nil, nil, jobs.Options{}); err == nil {
			t.Errorf("newJobs accepted %v", env)
		}
	}
	cfg, err := Load("switchboard", nil, func(k string) string {
		return map[string]string{"SWITCHBOARD_ARCHIVE_AFTER": "72h", "SWITCHBOARD_ARCHIVE_SCHEDULE": "@hourly"}[k]
	}, io.Discard)
	if err != nil || cfg.ArchiveAfter != 72*time.Hour || cfg.ArchiveSchedule != "@hourly" {
		t.Fatalf("Load = %+v, %v", cfg, err)
	}
}

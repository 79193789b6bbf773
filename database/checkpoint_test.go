package database

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestWALStartsOverUnderLoad: with the writer committing without a pause,
// a checkpoint pass never ends with the whole WAL copied, so the writer
// never starts the WAL over on its own; once the WAL is walRestartFrames
// long, the checkpointer's run catches up and the writer's next
// transaction writes from the WAL's beginning again. Nothing is lost.
func TestWALStartsOverUnderLoad(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "wal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(`CREATE TABLE filler (b BLOB NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	var commits atomic.Int64
	stop := make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		row := []byte(strings.Repeat("x", 2000)) // two rows fill a page: a frame per page
		for {
			select {
			case <-stop:
				failed <- nil
				return
			default:
			}
			err := db.Writer.Transaction(func(tx *gorm.DB) error {
				_, err := Exec(tx, `INSERT INTO filler (b) VALUES (?)`, row)
				return err
			})
			if err != nil {
				failed <- err
				return
			}
			commits.Add(1)
		}
	}()
	defer func() {
		close(stop)
		if err := <-failed; err != nil {
			t.Errorf("writer: %v", err)
		}
		var n int64
		if err := db.Raw(`SELECT count(*) FROM filler`).Scan(&n).Error; err != nil || n != commits.Load() {
			t.Errorf("%d rows after %d commits (%v)", n, commits.Load(), err)
		}
	}()

	frames := waitFor(t, "the WAL to reach walRestartFrames", func() (int, bool) {
		f, err := checkpoint(db.pool())
		if err != nil {
			t.Fatal(err)
		}
		return f, f >= walRestartFrames
	})
	if err := db.ckpt.run(); err != nil {
		t.Fatal(err)
	}
	after := commits.Load()
	waitFor(t, "more commits", func() (int, bool) { return 0, commits.Load() > after+10 })
	restarted, err := checkpoint(db.pool())
	if err != nil {
		t.Fatal(err)
	}
	if restarted >= frames {
		t.Errorf("the WAL did not start over: %d frames before the catch-up, %d after", frames, restarted)
	}
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() (int, bool)) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if v, ok := cond(); ok {
			return v
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
	return 0
}

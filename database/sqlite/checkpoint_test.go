//go:build linux && cgo

package sqlite

import (
	"context"
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
	db := openWithFiller(t)
	commits := writeWithoutPause(t, db)

	frames := untilWALRestartFrames(t, db)
	// A restart can still be spoilt by a pass of the checkpointer's own
	// ticker running at the moment the writer begins (it locks the read
	// marks the restart needs); the next run starts the WAL over then.
	for attempt := 1; ; attempt++ {
		if err := db.ckpt.run(); err != nil {
			t.Fatal(err)
		}
		after := commits.Load()
		waitFor(t, "more commits", func() (int, bool) { return 0, commits.Load() > after+10 })
		restarted, err := checkpoint(db.pool())
		if err != nil {
			t.Fatal(err)
		}
		if restarted.frames < frames {
			return
		}
		if attempt == 5 {
			t.Fatalf("the WAL did not start over in %d runs: %d frames before the last, %d after", attempt, frames, restarted.frames)
		}
		frames = restarted.frames
	}
}

// TestFilesSyncedBeforeTheWriterIsHeld: the pass that holds the writer
// finds the database file synced since the catch-up passes wrote to it,
// so that its own fsync has only its own few pages to write.
func TestFilesSyncedBeforeTheWriterIsHeld(t *testing.T) {
	db := openWithFiller(t)
	quietCheckpointer(t, db)
	writeWithoutPause(t, db)
	untilWALRestartFrames(t, db)

	var dbSyncs int64
	held := false
	db.ckpt.held = func() {
		held = true
		if now, _ := walBatchSyncs(); now == dbSyncs {
			t.Error("the database file was not synced before the writer was held")
		}
	}
	// A run whose passes cannot copy the whole WAL (the writer's open
	// transaction reads an older snapshot) leaves the writer alone; the
	// next one holds it.
	for attempt := 1; !held; attempt++ {
		if attempt > 20 {
			t.Fatal("no run held the writer")
		}
		dbSyncs, _ = walBatchSyncs()
		if err := db.ckpt.run(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckpointLeavesWriterAloneWhileReaderPinsWAL: a reader on an
// older snapshot keeps the WAL from being copied to its end, so the
// checkpointer's run does not wait for the writer's turn (a transaction
// holds it here) only to find it cannot start the WAL over.
func TestCheckpointLeavesWriterAloneWhileReaderPinsWAL(t *testing.T) {
	db := openWithFiller(t)
	fill := func(rows int) {
		t.Helper()
		err := db.Writer.Transaction(func(tx *gorm.DB) error {
			for range rows {
				if _, err := Exec(tx, `INSERT INTO filler (b) VALUES (?)`, fillerRow); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fill(2 * walRestartFrames) // two rows a page
	// A read transaction (the pool's BEGIN takes the write lock:
	// _txlock=immediate), its snapshot taken by its first read.
	ctx := context.Background()
	reader, err := db.pool().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := reader.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		t.Fatal(err)
	}
	defer reader.ExecContext(ctx, `ROLLBACK`)
	var n int
	if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM filler`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	fill(10)

	db.writer.turn.Lock() // a transaction under way
	defer db.writer.turn.Unlock()
	ran := make(chan error, 1)
	go func() { ran <- db.ckpt.run() }()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the checkpointer waited for the writer though a reader pins the WAL")
	}
}

// writeWithoutPause commits a filler row after another, from now until
// the test ends, and counts the commits; at the end every one of them
// must be in the table.
func writeWithoutPause(t *testing.T, db *DB) *atomic.Int64 {
	var commits *atomic.Int64
	t.Cleanup(func() { // after keepWriting's: the writer has stopped
		var n int64
		if err := db.Raw(`SELECT count(*) FROM filler`).Scan(&n).Error; err != nil || n != commits.Load() {
			t.Errorf("%d rows after %d commits (%v)", n, commits.Load(), err)
		}
	})
	commits = keepWriting(t, func() error { return insertFiller(db) })
	return commits
}

// keepWriting runs commit again and again from now until the test ends,
// and counts the commits that succeeded; the first error stops it and
// fails the test.
func keepWriting(tb testing.TB, commit func() error) *atomic.Int64 {
	var commits atomic.Int64
	stop := make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				failed <- nil
				return
			default:
			}
			if err := commit(); err != nil {
				failed <- err
				return
			}
			commits.Add(1)
		}
	}()
	tb.Cleanup(func() {
		close(stop)
		if err := <-failed; err != nil {
			tb.Errorf("writer: %v", err)
		}
	})
	return &commits
}

// untilWALRestartFrames waits for the WAL to be walRestartFrames long and
// returns its frames.
func untilWALRestartFrames(t testing.TB, db *DB) int {
	t.Helper()
	return waitFor(t, "the WAL to reach walRestartFrames", func() (int, bool) {
		wal, err := checkpoint(db.pool())
		if err != nil {
			t.Fatal(err)
		}
		return wal.frames, wal.frames >= walRestartFrames
	})
}

// quietCheckpointer replaces db's checkpointer with one whose own runs
// are an hour apart: only the test's run.
func quietCheckpointer(t testing.TB, db *DB) {
	t.Helper()
	db.ckpt.Close()
	var err error
	if db.ckpt, err = StartCheckpointer(db.pool(), &db.writer.turn, time.Hour, true, false, nil); err != nil {
		t.Fatal(err)
	}
}

// fillerRow is a row of the filler table: two fill a page, so that the
// WAL takes about a frame a row.
var fillerRow = []byte(strings.Repeat("x", 2000))

// openWithFiller opens a SQLite database of its own with a filler table;
// it is closed when the test ends.
func openWithFiller(t testing.TB) *DB {
	t.Helper()
	return openWithTable(t, `CREATE TABLE filler (b BLOB NOT NULL)`)
}

// openWithTable opens a SQLite database of its own and runs ddl in it; it
// is closed when the test ends. With durability os: the tests fill the
// WAL with thousands of small commits, which a sync each would leave
// waiting on the disk, and the checkpointer works alike in both.
func openWithTable(t testing.TB, ddl string) *DB {
	t.Helper()
	db, err := openSynchronous(filepath.Join(t.TempDir(), "test.db"), "NORMAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Exec(ddl).Error; err != nil {
		t.Fatal(err)
	}
	return db
}

// waitFor polls cond for up to 30 s.
func waitFor(t testing.TB, what string, cond func() (int, bool)) int {
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

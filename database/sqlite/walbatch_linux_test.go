//go:build cgo

package sqlite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"gorm.io/gorm"
)

// TestWALBatchBarrierWriteErrorFailsTheCommit: when a reader's barrier
// writes out frames the writer holds (pages a large transaction spilled)
// and that write fails, the writer's transaction fails instead of
// committing over frames that never reached the WAL; the next
// transaction commits, and the database stays whole.
func TestWALBatchBarrierWriteErrorFailsTheCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "barrier.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	quietCheckpointer(t, db)
	if err := db.Exec(`CREATE TABLE rows (n INTEGER PRIMARY KEY, b BLOB NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	// An empty WAL: the reader below reads nothing from it.
	if err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`).Error; err != nil {
		t.Fatal(err)
	}
	// A small cache makes the writer spill pages to the WAL mid-transaction.
	if err := db.Writer.Exec(`PRAGMA cache_size = 8`).Error; err != nil {
		t.Fatal(err)
	}
	row := bytes.Repeat([]byte{7}, 3000)
	err = db.Writer.Transaction(func(tx *gorm.DB) error {
		for n := range 100 {
			if _, err := Exec(tx, `INSERT INTO rows (n, b) VALUES (?, ?)`, n, row); err != nil {
				return err
			}
		}
		if !walBatchHolding() {
			t.Fatal("the writer holds no spilled WAL frames: the test cannot reach the barrier")
		}
		// The reader's begin passes the barrier, which writes the
		// writer's frames out to a WAL that cannot take them.
		restore := failWrites(t, path+"-wal")
		var n int64
		_ = db.Raw(`SELECT count(*) FROM rows`).Row().Scan(&n)
		restore()
		if walBatchHolding() {
			t.Fatal("the reader's barrier did not write the held frames out")
		}
		return nil // COMMIT: only writes, after the lost frames
	})
	if err == nil {
		t.Fatal("the transaction committed although the barrier's write of its frames failed")
	}
	t.Logf("commit failed as it must: %v", err)

	if err := db.Writer.Transaction(func(tx *gorm.DB) error {
		_, err := Exec(tx, `INSERT INTO rows (n, b) VALUES (?, ?)`, 1000, row)
		return err
	}); err != nil {
		t.Fatalf("the next transaction: %v", err)
	}
	check := func(what string, g *gorm.DB) {
		t.Helper()
		var count int64
		var integrity string
		if err := g.Raw(`SELECT count(*) FROM rows`).Row().Scan(&count); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := g.Raw(`PRAGMA integrity_check`).Row().Scan(&integrity); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if count != 1 || integrity != "ok" {
			t.Fatalf("%s: %d rows (want the 1 committed after), integrity %q", what, count, integrity)
		}
	}
	check("a reader", db.DB)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(path, nil); err != nil {
		t.Fatal(err)
	}
	check("after reopening", db.DB)
}

// failWrites points every descriptor the process has open on file at
// /dev/full, where a write fails with ENOSPC, until the returned function
// puts them back.
func failWrites(t *testing.T, file string) (restore func()) {
	t.Helper()
	want, err := filepath.EvalSymlinks(file)
	if err != nil {
		t.Fatal(err)
	}
	full, err := os.OpenFile("/dev/full", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int // found before any copy is made, which would be found too
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == want {
			fds = append(fds, fd)
		}
	}
	saved := map[int]int{} // descriptor → a copy of the original
	for _, fd := range fds {
		dup, err := syscall.Dup(fd)
		if err != nil {
			t.Fatal(err)
		}
		saved[fd] = dup
		if err := syscall.Dup3(int(full.Fd()), fd, syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
	}
	if len(saved) == 0 {
		t.Fatalf("no descriptor is open on %s", want)
	}
	return func() {
		for fd, dup := range saved {
			if err := syscall.Dup3(dup, fd, syscall.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			syscall.Close(dup)
		}
	}
}

// TestWALBatchHoldsNothingAfterTheWriteLock: the frames a transaction
// spilled and then rolled back are written out when it gives the WAL's
// write lock back, before another process can take it and write its own
// frames where the held ones go.
func TestWALBatchHoldsNothingAfterTheWriteLock(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "rollback.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	quietCheckpointer(t, db)
	if err := db.Exec(`CREATE TABLE rows (n INTEGER PRIMARY KEY, b BLOB NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	// A small cache makes the writer spill pages to the WAL mid-transaction.
	if err := db.Writer.Exec(`PRAGMA cache_size = 8`).Error; err != nil {
		t.Fatal(err)
	}
	row := bytes.Repeat([]byte{7}, 3000)
	rollBack := errors.New("roll back")
	err = db.Writer.Transaction(func(tx *gorm.DB) error {
		for n := range 100 {
			if _, err := Exec(tx, `INSERT INTO rows (n, b) VALUES (?, ?)`, n, row); err != nil {
				return err
			}
		}
		if !walBatchHolding() {
			t.Fatal("the writer holds no spilled WAL frames: the test cannot reach the rollback")
		}
		return rollBack
	})
	if !errors.Is(err, rollBack) {
		t.Fatalf("transaction: %v", err)
	}
	if walBatchHolding() {
		t.Fatal("spilled frames of a rolled-back transaction are still held after the write lock was given back")
	}
}

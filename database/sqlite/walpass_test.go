//go:build linux && cgo

package sqlite

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestWALPassesCopyTheWAL: a pass on the checkpointer's C thread sees the
// WAL the writer wrote and copies all of it, as PRAGMA wal_checkpoint on
// a Go connection would; passes from two goroutines take turns.
func TestWALPassesCopyTheWAL(t *testing.T) {
	db := openWithFiller(t)
	if db.ckpt.passes == nil {
		t.Fatal("a database in a file has no C checkpoint thread")
	}
	for i := 0; i < 200; i++ {
		if err := insertFiller(db); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	states := make([]walState, 8)
	errs := make([]error, len(states))
	for i := range states {
		wg.Add(1)
		go func() {
			defer wg.Done()
			states[i], errs[i] = db.ckpt.passes.run()
		}()
	}
	wg.Wait()
	for i, wal := range states {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		// fillerRow is a page or more: 200 of them are 200 frames or more.
		if wal.frames < 200 || wal.copied != wal.frames {
			t.Fatalf("pass %d: %d frames, %d copied; want ≥ 200, all copied", i, wal.frames, wal.copied)
		}
	}
	pragma, err := checkpoint(db.pool())
	if err != nil {
		t.Fatal(err)
	}
	if pragma != states[0] {
		t.Fatalf("PRAGMA wal_checkpoint says %+v, the C pass %+v", pragma, states[0])
	}
}

// TestWALPassesSyncTheFiles: sync fsyncs the WAL and the database file
// once each, through the VFS, on the passes' thread.
func TestWALPassesSyncTheFiles(t *testing.T) {
	db := openWithFiller(t)
	quietCheckpointer(t, db)
	if err := insertFiller(db); err != nil {
		t.Fatal(err)
	}
	dbBefore, walBefore := walBatchSyncs()
	if err := db.ckpt.passes.sync(); err != nil {
		t.Fatal(err)
	}
	dbAfter, walAfter := walBatchSyncs()
	if dbAfter-dbBefore != 1 || walAfter-walBefore != 1 {
		t.Fatalf("%d syncs of the database file and %d of the WAL; want 1 and 1", dbAfter-dbBefore, walAfter-walBefore)
	}
}

// BenchmarkWriterHold measures how long the checkpointer's run holds the
// writer to start the WAL over, on one P, with a writer committing 16
// rows with random keys every millisecond (about the WAL's pace at 2,000
// messages a second, and pages all over the file, as the indexes of
// messages take them), with the files synced before the hold
// ("sync-first") and without ("sync-held", as before: the held pass's
// fsync writes every page the catch-up passes copied). Reports the mean
// and the largest hold.
//
// Pinned to one core, as the server runs in bench/:
//
//	go test -c -o db.test ./database
//	taskset -c 0 ./db.test -test.run x -test.bench WriterHold -test.benchtime 10x
func BenchmarkWriterHold(b *testing.B) {
	for _, variant := range []string{"sync-first", "sync-held"} {
		b.Run(variant, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			db := openWithTable(b, `CREATE TABLE keyed (k BLOB PRIMARY KEY, b BLOB NOT NULL) WITHOUT ROWID`)
			quietCheckpointer(b, db)
			db.ckpt.syncFirst = variant == "sync-first"
			keepWriting(b, func() error {
				defer time.Sleep(time.Millisecond)
				return db.Writer.Transaction(func(tx *gorm.DB) error {
					for range 16 {
						if _, err := Exec(tx, `INSERT INTO keyed VALUES (randomblob(16), zeroblob(200))`); err != nil {
							return err
						}
					}
					return nil
				})
			})
			var holds []time.Duration
			var heldAt time.Time
			db.ckpt.held = func() { heldAt = time.Now() }
			for i := 0; i < b.N; i++ {
				untilWALRestartFrames(b, db)
				heldAt = time.Time{}
				if err := db.ckpt.run(); err != nil {
					b.Fatal(err)
				}
				if !heldAt.IsZero() {
					holds = append(holds, time.Since(heldAt))
				}
			}
			if len(holds) == 0 {
				b.Fatal("no run held the writer")
			}
			var sum time.Duration
			for _, h := range holds {
				sum += h
			}
			b.ReportMetric(float64(sum.Microseconds())/float64(len(holds))/1000, "held-ms")
			b.ReportMetric(float64(slices.Max(holds).Microseconds())/1000, "max-held-ms")
		})
	}
}

// BenchmarkCheckpointStall measures how late a 1 ms ticker runs on one P
// while checkpoint passes run beside a writer, with the passes as cgo
// calls on a Go connection ("cgo", as before walpass.go) and on the C
// thread ("thread"). A pass blocks in fsync; a cgo call keeps the P
// while it does. Reports the ticker's p99 and largest lateness.
//
//	go test -run x -bench CheckpointStall -benchtime 3x ./database
func BenchmarkCheckpointStall(b *testing.B) {
	for _, variant := range []string{"cgo", "thread"} {
		b.Run(variant, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			var late []time.Duration
			for i := 0; i < b.N; i++ {
				late = append(late, checkpointStall(b, variant == "thread")...)
			}
			slices.Sort(late)
			b.ReportMetric(float64(late[len(late)*99/100].Microseconds())/1000, "p99-late-ms")
			b.ReportMetric(float64(late[len(late)-1].Microseconds())/1000, "max-late-ms")
		})
	}
}

// checkpointStall runs a writer (a 2 KB row every 200 µs), a pass every
// 50 ms and a 1 ms ticker for a second, and returns how late each tick was.
func checkpointStall(b *testing.B, thread bool) []time.Duration {
	db := openWithFiller(b)
	db.ckpt.Close() // the passes below are the only ones
	db.ckpt = nil
	conn, err := db.pool().Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	file, err := mainFile(conn)
	if err != nil {
		b.Fatal(err)
	}
	passes, err := openWALPasses(file, true)
	if err != nil {
		b.Fatal(err)
	}
	defer passes.close()
	pass := func() error { _, err := checkpoint(conn); return err }
	if thread {
		pass = func() error { _, err := passes.run(); return err }
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	every := func(period time.Duration, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if err := f(); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	every(200*time.Microsecond, func() error {
		return insertFiller(db)
	})
	every(50*time.Millisecond, pass)
	var late []time.Duration
	next := time.Now()
	for end := next.Add(time.Second); next.Before(end); {
		next = next.Add(time.Millisecond)
		time.Sleep(time.Until(next))
		late = append(late, time.Since(next))
	}
	close(stop)
	wg.Wait()
	return late
}

func insertFiller(db *DB) error {
	return db.Writer.Transaction(func(tx *gorm.DB) error {
		_, err := Exec(tx, `INSERT INTO filler (b) VALUES (?)`, fillerRow)
		return err
	})
}

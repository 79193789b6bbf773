//go:build linux && cgo

package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// checkpointEvery is how often the SQLite WAL is copied back into the
// database file.
const checkpointEvery = time.Second

// walRestartFrames bounds the WAL: once it holds this many frames (64 MiB
// of 4 KiB pages) the Checkpointer makes sure the writer starts it over.
// The pass that does so holds the writer for a few milliseconds (its
// fsyncs): a smaller bound holds it more often, which showed in the ack
// p99 (docs/performance-journal.md has the runs).
const walRestartFrames = 16384

// The passes that catch up with the writer before the last one holds it:
// at most maxCatchUpPasses, until one finds no more than catchUpFrames
// new frames.
const (
	maxCatchUpPasses = 4
	catchUpFrames    = 256
)

// Checkpointer copies the SQLite WAL back into the database file from a
// connection of its own, beside the writer.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses the
// threshold: that commit copies every page of the WAL into the database
// file and fsyncs both, and every ack of its batch waits for it. A PASSIVE
// checkpoint on another connection does the same work while the writer
// goes on appending to the WAL, which took the checkpoints out of the
// ack latency (docs/performance-journal.md has the runs). The automatic
// checkpoint stays on with a high threshold (install.go's autoCheckpoint) in case
// this one falls behind.
//
// The writer starts the WAL over (writes from its beginning again) only
// when a transaction begins after a checkpoint copied all of it. Under a
// steady load the writer appends while every pass runs, so no pass ends
// with the whole WAL copied and the file grew without bound, and the
// writer's appends to it stalled. So once the WAL holds walRestartFrames
// frames, catch-up passes copy what the writer appended during the pass
// before, and a last one runs while the Checkpointer holds the writer's
// turn: nothing is appended during it, it copies the few frames left, and
// the next transaction starts the WAL over.
type Checkpointer struct {
	// conn is the Checkpointer's own connection: a pass that holds the
	// writer's turn never waits for a reader to give one back.
	conn *sql.Conn
	// passes runs the passes themselves off Go's scheduler (walpass.go);
	// nil for a database in memory, whose passes run on conn.
	passes *walPasses
	// wb spreads the WAL's disk writes between the passes (writeback.go).
	wb *walWriteback
	// turn is the writer's (Writer.Turn): held, no transaction runs.
	turn sync.Locker
	// syncFirst syncs the files before the writer is held (sync); off
	// only to measure what that saves (BenchmarkWriterHold).
	syncFirst bool
	// held, when set, is called once the writer is held (tests).
	held func()
	stop chan struct{}
	done sync.WaitGroup
}

// StartCheckpointer starts the passes every period, and the WAL's
// writeback when writeback is set; walBatch says whether the database's
// connections use the batching VFS.
func StartCheckpointer(pool *sql.DB, turn sync.Locker, every time.Duration, walBatch, writeback bool, log *slog.Logger) (*Checkpointer, error) {
	conn, err := pool.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	wb, err := newWALWriteback(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &Checkpointer{conn: conn, wb: wb, turn: turn, syncFirst: true, stop: make(chan struct{})}
	if file, err := mainFile(conn); err != nil || file != "" {
		if err == nil {
			c.passes, err = openWALPasses(file, walBatch)
		}
		if err != nil {
			wb.close()
			conn.Close()
			return nil, err
		}
	}
	c.every(every, "WAL checkpoint", c.run, log)
	if writeback {
		c.every(writebackEvery, "WAL writeback", wb.start, log)
	}
	return c, nil
}

// every runs f every period until the Checkpointer stops; an error is
// logged once until f succeeds again. As an error: a checkpoint that
// fails leaves the WAL to grow, and its sync is what puts the commits of
// durability os on disk.
func (c *Checkpointer) every(period time.Duration, what string, f func() error, log *slog.Logger) {
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				err := f()
				if err != nil && !failing && log != nil {
					log.Error(what+" failed", "err", err)
				}
				failing = err != nil
			}
		}
	}()
}

// run checkpoints the WAL, and catches up with the writer once the WAL is
// walRestartFrames long.
func (c *Checkpointer) run() error {
	wal, err := c.pass()
	if err != nil || wal.frames < walRestartFrames {
		return err
	}
	// Each pass copies what the writer appended during the one before:
	// a few more passes leave little for the one that holds the writer.
	for pass := 0; pass < maxCatchUpPasses; pass++ {
		before := wal.frames
		if wal, err = c.pass(); err != nil {
			return err
		}
		if wal.frames-before <= catchUpFrames {
			break
		}
	}
	if wal.copied < wal.frames {
		// A reader on an older snapshot keeps the frames after it from
		// being copied, and the WAL from starting over: holding the
		// writer would not help. The next run tries again.
		return nil
	}
	if c.syncFirst {
		if err := c.sync(); err != nil {
			return err
		}
	}
	c.turn.Lock()
	defer c.turn.Unlock()
	if c.held != nil {
		c.held()
	}
	_, err = c.pass()
	return err
}

// sync writes to disk what the passes before the one that holds the
// writer copied. SQLite syncs the database file only in a pass that
// copies the whole WAL, so that pass fsynced every page the catch-up
// passes had written, with every commit waiting: most of that pass's
// time, and the largest part of the ack p99 (docs/performance-journal.md).
// Synced here, beside the writer, it
// finds only its own few pages to write.
func (c *Checkpointer) sync() error {
	if c.passes == nil {
		return nil
	}
	return c.passes.sync()
}

// pass runs one PASSIVE pass.
func (c *Checkpointer) pass() (walState, error) {
	if c.passes == nil {
		return checkpoint(c.conn)
	}
	return c.passes.run()
}

// walState is what a checkpoint pass reports: the frames in the WAL, and
// how many of them are in the database file now.
type walState struct{ frames, copied int }

// checkpoint copies what it can of the WAL into the database without
// waiting for readers or the writer (PASSIVE).
func checkpoint(conn interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (wal walState, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy int
	err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &wal.frames, &wal.copied)
	return wal, err
}

// close stops the checkpoints and the writeback, waits for one under way
// and gives the connection back.
func (c *Checkpointer) Close() {
	if c == nil {
		return
	}
	close(c.stop)
	c.done.Wait()
	c.wb.close()
	if c.passes != nil {
		c.passes.close()
	}
	c.conn.Close()
}

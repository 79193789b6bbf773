package database

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

// checkpointer copies the SQLite WAL back into the database file from a
// connection of its own, beside the writer.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses the
// threshold: that commit copies every page of the WAL into the database
// file and fsyncs both, and every ack of its batch waits for it. A PASSIVE
// checkpoint on another connection does the same work while the writer
// goes on appending to the WAL; the writer starts the WAL over once a
// checkpoint has caught up. Against automatic checkpoints every 10,000
// pages, with bench/'s chat load: ack p99 at 200 messages per second 49 →
// 4.7 ms, p50 at 2,000 per second 221 → 9.7 ms (docs/performance.md has
// the full runs). The automatic checkpoint stays on with a high threshold
// (sqlitePragmas) in case this one falls behind.
type checkpointer struct {
	stop chan struct{}
	done sync.WaitGroup
}

func startCheckpointer(pool *sql.DB, every time.Duration, log *slog.Logger) *checkpointer {
	c := &checkpointer{stop: make(chan struct{})}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				if err := checkpoint(pool); err != nil && log != nil {
					log.Warn("WAL checkpoint", "err", err)
				}
			}
		}
	}()
	return c
}

// checkpoint copies what it can of the WAL into the database without
// waiting for readers or the writer (PASSIVE).
func checkpoint(pool *sql.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, frames, copied int
	return pool.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
}

// close stops the checkpoints and waits for one under way.
func (c *checkpointer) close() {
	if c == nil {
		return
	}
	close(c.stop)
	c.done.Wait()
}

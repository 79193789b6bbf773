//go:build linux && cgo

package sqlite

import (
	"database/sql"
	"errors"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// Available says whether this build has the tuning.
const Available = true

// autoCheckpoint holds SQLite's automatic checkpoint back: it runs inside
// a COMMIT, and the Checkpointer does that work off the writer's path, so
// the automatic one runs only if that falls 50,000 pages (200 MiB)
// behind. Fewer checkpoints also cost less: the pages every batch changes
// (the tails of the message table and its indexes) are copied back once
// per checkpoint rather than once per 1,000 pages of WAL (SQLite's
// default).
const autoCheckpoint = "PRAGMA wal_autocheckpoint = 50000"

var (
	installOnce sync.Once
	installErr  error
)

// Install installs the process-wide parts of tuning t, once: the page
// cache wrapper (process-wide SQLite configuration, which SQLite accepts
// only before it initializes), then the batching VFS (whose registration
// initializes SQLite). It must run
// before the process's first SQLite connection of any driver; after one,
// it fails and changes nothing that SQLite has not refused. The first
// call decides: later ones return its error.
func Install(t Tuning) error {
	installOnce.Do(func() { installErr = install(t) })
	return installErr
}

func install(t Tuning) error {
	if t.Uses(PageCache) {
		if err := installPageCache(); err != nil {
			return errors.Join(err, errors.New("sqlite: the tuning must be installed before the process opens any SQLite database"))
		}
	}
	if err := registerWALBatch(); err != nil {
		return err
	}
	sql.Register(DriverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(autoCheckpoint, nil)
		return err
	}})
	return nil
}

// Driver is the database/sql driver of connections with tuning t:
// DriverName, which holds the automatic checkpoint back, with the
// Checkpointer; go-sqlite3's own without it.
func Driver(t Tuning) string {
	if t.Uses(Checkpoint) {
		return DriverName
	}
	return StockDriverName
}

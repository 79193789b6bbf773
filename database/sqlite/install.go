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

// pragmas are the settings the DSN cannot carry, applied to every tuned
// connection:
//   - temp_store=MEMORY keeps statement journals and temporary tables in
//     memory: in a file, the first change of each page in each savepoint
//     was a write system call.
//   - the WAL is checkpointed once a second by the Checkpointer, off the
//     writer's path; the automatic checkpoint, inside a COMMIT, runs only
//     if that falls 50,000 pages (200 MiB) behind. Fewer checkpoints also
//     cost less: the pages every batch changes (the tails of the message
//     table and its indexes) are copied back once per checkpoint rather
//     than once per 1,000 pages of WAL (SQLite's default).
//     journal_size_limit cuts the WAL file back to 128 MiB when the writer
//     starts it over.
var pragmas = []string{
	"PRAGMA temp_store = MEMORY",
	"PRAGMA wal_autocheckpoint = 50000",
	"PRAGMA journal_size_limit = 134217728",
}

var (
	installOnce sync.Once
	installErr  error
)

// Install installs the tuning in the process, once: the page cache
// wrapper and the memory statistics setting (process-wide SQLite
// configuration, which SQLite accepts only before it initializes), then
// the batching VFS (whose registration initializes SQLite), then the
// DriverName driver. It must run before the process's first SQLite
// connection of any driver; after one, it fails and changes nothing that
// SQLite has not refused.
func Install() error {
	installOnce.Do(func() { installErr = install() })
	return installErr
}

func install() error {
	if err := installPageCache(); err != nil {
		return err
	}
	if err := turnOffMemoryStatistics(); err != nil {
		return errors.Join(err, errors.New("sqlite: the tuning must be installed before the process opens any SQLite database"))
	}
	if err := registerWALBatch(); err != nil {
		return err
	}
	sql.Register(DriverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range pragmas {
			if _, err := c.Exec(p, nil); err != nil {
				return err
			}
		}
		return nil
	}})
	return nil
}

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

// pragmas are the settings the DSN cannot carry, applied to every
// connection of tuning t:
//   - temp_store=MEMORY keeps statement journals and temporary tables in
//     memory: in a file, the first change of each page in each savepoint
//     was a write system call.
//   - journal_size_limit cuts the WAL file back to 128 MiB when the writer
//     starts it over.
//   - with the Checkpointer, which checkpoints the WAL off the writer's
//     path, the automatic checkpoint inside a COMMIT runs only if that
//     falls 50,000 pages (200 MiB) behind. Fewer checkpoints also cost
//     less: the pages every batch changes (the tails of the message table
//     and its indexes) are copied back once per checkpoint rather than
//     once per 1,000 pages of WAL (SQLite's default).
func pragmas(t Tuning) []string {
	var p []string
	if t.Uses(Pragmas) {
		p = append(p, "PRAGMA temp_store = MEMORY", "PRAGMA journal_size_limit = 134217728")
	}
	if t.Uses(Checkpoint) {
		p = append(p, "PRAGMA wal_autocheckpoint = 50000")
	}
	return p
}

var (
	installOnce sync.Once
	installErr  error
	drivers     sync.Map
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
	return registerWALBatch()
}

// Driver is the database/sql driver of connections with tuning t:
// DriverName with every pragma, go-sqlite3's own without any, another
// registered on first use for the ablation's other sets.
func Driver(t Tuning) string {
	p := pragmas(t)
	switch {
	case !t.On() || len(p) == 0:
		return StockDriverName
	case len(p) == len(pragmas(Tuning{})):
		return registered(DriverName, p)
	}
	return registered(DriverName+"_"+t.String(), p)
}

func registered(name string, pragmas []string) string {
	if _, loaded := drivers.LoadOrStore(name, true); !loaded {
		sql.Register(name, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			for _, p := range pragmas {
				if _, err := c.Exec(p, nil); err != nil {
					return err
				}
			}
			return nil
		}})
	}
	return name
}

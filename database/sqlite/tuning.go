// Package sqlite is Switchboard's tuning of SQLite: a VFS that writes the
// frames of one commit to the WAL at once (walbatch.c), a wrapper around
// SQLite's page cache (pagecache.c), memory statistics off, a writer
// connection that runs its statements on the driver itself (Writer), and
// a checkpointer that copies the WAL back on a thread of its own
// (Checkpointer), with the WAL's writeback started ahead of its syncs.
//
// Package database uses it only when it opens a SQLite database with the
// tuning on; a process that runs on PostgreSQL, or on stock SQLite, never
// installs any of it. The C parts need Linux and cgo: elsewhere Available
// is false and Install fails with ErrUnavailable.
package sqlite

import (
	"errors"
	"strings"
)

// DriverName is the database/sql driver of tuned connections, registered
// by Install. StockDriverName is go-sqlite3's own, with none of the tuning.
const (
	DriverName      = "sqlite3_switchboard"
	StockDriverName = "sqlite3"
)

// ErrUnavailable is Install's error in a build without the tuning.
var ErrUnavailable = errors.New("sqlite: the SQLite tuning needs Linux and cgo; this build has stock SQLite only")

// DSN is the go-sqlite3 data source for path: WAL with the given
// synchronous setting, foreign keys, a busy timeout, and write
// transactions that take the write lock at BEGIN (_txlock=immediate), so
// they never fail halfway with SQLITE_BUSY. Tuned, it names the batching
// VFS; extra ("&name=value…") is appended.
func DSN(path, synchronous string, tuned bool, extra string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_journal_mode=WAL&_synchronous=" + synchronous +
		"&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
	if tuned {
		dsn += "&vfs=" + VFS
	}
	return dsn + extra
}

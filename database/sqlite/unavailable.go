//go:build !(linux && cgo)

package sqlite

import (
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// Available says whether this build has the tuning.
const Available = false

// VFS is the batching VFS's name (walbatch.c), absent from this build.
const VFS = "switchboard-walbatch"

// Install fails: this build has no tuning.
func Install(Tuning) error { return ErrUnavailable }

// Driver is go-sqlite3's own driver: this build has no tuning.
func Driver(Tuning) string { return StockDriverName }

// Checkpointer is absent from this build.
type Checkpointer struct{}

// StartCheckpointer fails: this build has no tuning.
func StartCheckpointer(*sql.DB, sync.Locker, time.Duration, bool, bool, *slog.Logger) (*Checkpointer, error) {
	return nil, ErrUnavailable
}

// Close does nothing.
func (c *Checkpointer) Close() {}

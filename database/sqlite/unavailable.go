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
func Install() error { return ErrUnavailable }

// Checkpointer is absent from this build.
type Checkpointer struct{}

// StartCheckpointer fails: this build has no tuning.
func StartCheckpointer(*sql.DB, *sync.Mutex, time.Duration, bool, *slog.Logger) (*Checkpointer, error) {
	return nil, ErrUnavailable
}

// Close does nothing.
func (c *Checkpointer) Close() {}

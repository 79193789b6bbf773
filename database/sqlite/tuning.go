// Package sqlite is Switchboard's tuning of SQLite: a VFS that writes the
// frames of one commit to the WAL at once (walbatch.c), a wrapper around
// SQLite's page cache (pagecache.c), a writer
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
	"fmt"
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

// Mechanism is one part of the tuning, which Tuning can leave out: each
// must show what it buys in the benchmark's ablation (docs/performance.md),
// and leaving it out is how that is measured.
type Mechanism uint8

const (
	WALBatch   Mechanism = iota // the batching VFS (walbatch.go)
	PageCache                   // the page cache wrapper (pagecache.go)
	WriterConn                  // the writer's own connection and statements (prepared.go)
	Direct                      // its statements run on the driver (direct.go)
	Checkpoint                  // the Checkpointer, and the automatic checkpoint held back
	Writeback                   // the WAL's writeback ahead of its syncs (writeback.go)
	mechanisms
)

var mechanismNames = [mechanisms]string{"walbatch", "pagecache", "writer", "direct", "checkpointer", "writeback"}

func (m Mechanism) String() string { return mechanismNames[m] }

// Tuning is what the setting SWITCHBOARD_SQLITE_TUNING asks for: "on"
// (every mechanism; the zero Tuning), "off" (stock SQLite), or "on" with
// mechanisms left out ("on,-walbatch,-direct"), to measure what each buys.
type Tuning struct {
	stock   bool
	without uint16 // bit m: Mechanism m left out
}

// Stock is the Tuning "off": stock SQLite through the driver.
var Stock = Tuning{stock: true}

// ParseTuning reads the setting's value.
func ParseTuning(s string) (Tuning, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), ",")
	switch strings.TrimSpace(parts[0]) {
	case "off":
		if len(parts) == 1 {
			return Stock, nil
		}
	case "on", "":
		var t Tuning
		for _, p := range parts[1:] {
			m, ok := mechanismNamed(strings.TrimPrefix(strings.TrimSpace(p), "-"))
			if !ok || !strings.HasPrefix(strings.TrimSpace(p), "-") {
				return t, fmt.Errorf("%q: %q is not -mechanism (one of %s)", s, p, strings.Join(mechanismNames[:], ", "))
			}
			t.without |= 1 << m
		}
		return t, nil
	}
	return Tuning{}, fmt.Errorf("%q: want on, off, or on,-mechanism,… (mechanisms: %s)", s, strings.Join(mechanismNames[:], ", "))
}

func mechanismNamed(name string) (Mechanism, bool) {
	for m, n := range mechanismNames {
		if n == name {
			return Mechanism(m), true
		}
	}
	return 0, false
}

// On says whether the tuning is on at all (not "off").
func (t Tuning) On() bool { return !t.stock }

// Uses says whether the tuning has mechanism m. Direct needs WriterConn, and
// Writeback the Checkpointer.
func (t Tuning) Uses(m Mechanism) bool {
	switch m {
	case Direct:
		return t.has(WriterConn) && t.has(Direct)
	case Writeback:
		return t.has(Checkpoint) && t.has(Writeback)
	}
	return t.has(m)
}

func (t Tuning) has(m Mechanism) bool { return !t.stock && t.without&(1<<m) == 0 }

// Without is t with mechanism m left out.
func (t Tuning) Without(m Mechanism) Tuning {
	t.without |= 1 << m
	return t
}

// String is t as the setting writes it.
func (t Tuning) String() string {
	if t.stock {
		return "off"
	}
	s := "on"
	for m := range mechanisms {
		if t.without&(1<<m) != 0 {
			s += ",-" + m.String()
		}
	}
	return s
}

// DSN is the go-sqlite3 data source for path: WAL with the given
// synchronous setting, foreign keys, a busy timeout, and write
// transactions that take the write lock at BEGIN (_txlock=immediate), so
// they never fail halfway with SQLITE_BUSY. With the batching VFS, it
// names it; extra ("&name=value…") is appended.
func DSN(path, synchronous string, t Tuning, extra string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_journal_mode=WAL&_synchronous=" + synchronous +
		"&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
	if t.Uses(WALBatch) {
		dsn += "&vfs=" + VFS
	}
	return dsn + extra
}

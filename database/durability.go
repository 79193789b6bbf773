package database

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Durability says what an acknowledged write survives. Every mode survives
// the server's own death (kill -9, a crash, an out-of-memory kill): a
// commit is in the operating system's hands before it is acknowledged.
// The modes differ on power failure or an operating system crash.
type Durability string

const (
	// DurabilityFsync (the default) acknowledges a commit only once it is
	// on stable storage: on SQLite the writer's COMMIT syncs the WAL
	// (synchronous=FULL; a batch of group commit shares one sync), on
	// PostgreSQL the server flushes its WAL before it answers
	// (synchronous_commit=on). A power failure loses no acknowledged write.
	DurabilityFsync Durability = "fsync"
	// DurabilityOS acknowledges a commit once the operating system has it:
	// on SQLite the WAL is synced only by the checkpoints, about once a
	// second (synchronous=NORMAL), on PostgreSQL the server's WAL writer
	// flushes it within three wal_writer_delay (synchronous_commit=off).
	// A power failure or an operating system crash (and, on PostgreSQL, a
	// crash of the database server) loses the writes acknowledged in that
	// window; the database stays consistent.
	DurabilityOS Durability = "os"
)

// ParseDurability reads a Durability setting; "" is the default, fsync.
func ParseDurability(s string) (Durability, error) {
	switch d := Durability(strings.ToLower(strings.TrimSpace(s))); d {
	case "":
		return DurabilityFsync, nil
	case DurabilityFsync, DurabilityOS:
		return d, nil
	}
	return "", fmt.Errorf("durability %q: want %q (acks survive power loss) or %q (faster; a power loss may lose the last acknowledged writes)",
		s, DurabilityFsync, DurabilityOS)
}

// sqliteSynchronous is the writer's PRAGMA synchronous. In WAL mode FULL
// syncs the WAL at every COMMIT; NORMAL only at checkpoints.
func (d Durability) sqliteSynchronous() string {
	if d == DurabilityOS {
		return "NORMAL"
	}
	return "FULL"
}

// postgresSynchronousCommit is synchronous_commit for every connection,
// set in the URL so that a server or role default cannot weaken it.
func (d Durability) postgresSynchronousCommit() string {
	if d == DurabilityOS {
		return "off"
	}
	return "on"
}

// withSynchronousCommit returns the postgres URL u with
// synchronous_commit set for d: pgx sends parameters it does not know
// itself to the server as run-time settings of every connection.
func withSynchronousCommit(u string, d Durability) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	q, err := url.ParseQuery(parsed.RawQuery)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	q.Set("synchronous_commit", d.postgresSynchronousCommit())
	parsed.RawQuery = q.Encode()
	return parsed.String(), nil
}

// warnDurability warns at start when acknowledged writes are not
// synced: the faster mode gives up acknowledged writes on power loss.
func warnDurability(log *slog.Logger, db *DB) {
	if log == nil || db.Durability != DurabilityOS {
		return
	}
	log.Warn("durability os: an acknowledged write survives a server crash but not a power failure or an OS crash; "+
		"SWITCHBOARD_DURABILITY=fsync acknowledges only what is on stable storage",
		"dialect", db.Dialect)
}

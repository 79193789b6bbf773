//go:build linux && cgo

package database

import "github.com/switchboard-chat/switchboard/database/sqlite"

// walSyncs counts the WAL syncs of a tuned SQLite database (its VFS
// counts them); ok=false where nothing counts them (stock SQLite, or the
// tuning without the batching VFS).
func walSyncs(db *DB) (n int64, ok bool) {
	if !db.tuning.Uses(sqlite.WALBatch) {
		return 0, false
	}
	return sqlite.WALSyncs(), true
}

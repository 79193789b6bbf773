//go:build linux && cgo

package database

import "github.com/switchboard-chat/switchboard/database/sqlite"

// walSyncs counts the WAL syncs of a tuned SQLite database (its VFS
// counts them); ok=false where nothing counts them (stock SQLite).
func walSyncs(db *DB) (n int64, ok bool) {
	if !db.Tuned {
		return 0, false
	}
	return sqlite.WALSyncs(), true
}

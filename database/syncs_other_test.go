//go:build !(linux && cgo)

package database

// walSyncs: nothing counts the syncs of stock SQLite.
func walSyncs(*DB) (int64, bool) { return 0, false }

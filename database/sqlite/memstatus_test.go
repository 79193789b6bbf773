//go:build linux && cgo

package sqlite

import (
	"path/filepath"
	"testing"
)

// TestSQLiteCountsNoMemory: SQLite's memory statistics are off (their
// count costs a mutex for every allocation), so its count stays 0 while
// a database is open and written.
func TestSQLiteCountsNoMemory(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "count.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(`CREATE TABLE rows (n INTEGER PRIMARY KEY, s TEXT NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO rows (n, s) VALUES (1, 'one'), (2, 'two')`).Error; err != nil {
		t.Fatal(err)
	}
	if used := sqliteMemoryUsed(); used != 0 {
		t.Fatalf("SQLite counts %d bytes in use, want 0: its memory statistics are on", used)
	}
}

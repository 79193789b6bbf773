package database

import (
	"path/filepath"
	"strings"
	"testing"

	gormsqlite "gorm.io/driver/sqlite"

	"github.com/switchboard-chat/switchboard/database/sqlite"
)

// TestPlainSQLiteIsStock: sqlite.Stock opens SQLite through go-sqlite3's
// own driver with none of the tuning: no VFS of ours, SQLite's own
// checkpoints and temp store, gorm's transactions on the writer, no
// checkpointer; WAL and the durability's synchronous as always.
func TestPlainSQLiteIsStock(t *testing.T) {
	db, err := OpenWith(filepath.Join(t.TempDir(), "plain.db"), Options{SQLite: sqlite.Stock, Durability: DurabilityOS})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Tuned || db.writer != nil || db.ckpt != nil {
		t.Fatalf("plain SQLite: tuned %v, tuned writer %v, checkpointer %v", db.Tuned, db.writer != nil, db.ckpt != nil)
	}
	d := db.Writer.Dialector.(*gormsqlite.Dialector)
	if d.DriverName != "sqlite3" || strings.Contains(d.DSN, "vfs=") {
		t.Fatalf("plain SQLite's writer: driver %q, DSN %q; want go-sqlite3's own driver and VFS", d.DriverName, d.DSN)
	}
	for pragma, want := range map[string]string{
		"journal_mode":       "wal",
		"synchronous":        "1", // NORMAL: durability os
		"temp_store":         "0", // SQLite's default
		"wal_autocheckpoint": "1000",
	} {
		var got string
		if err := db.Writer.Raw("PRAGMA " + pragma).Row().Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("plain SQLite's writer: PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

//go:build linux && cgo

package database

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/database/sqlite"
)

// TestTuningLeavesOut: a database opened with one mechanism left out has
// none of it (no VFS in its DSN, no Writer, statements through
// database/sql, no Checkpointer and SQLite's own automatic checkpoints),
// and the rest; and it writes and reads back.
func TestTuningLeavesOut(t *testing.T) {
	if !testOptions(Options{}).SQLite.On() {
		// A stock process installed no tuning, and it cannot be installed
		// once SQLite runs: the test runs in a process of its own.
		cmd := exec.Command(os.Args[0], "-test.run=^TestTuningLeavesOut$")
		cmd.Env = append(os.Environ(), "SWITCHBOARD_SQLITE_TUNING=on")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	for _, c := range []struct {
		without sqlite.Mechanism
		check   func(t *testing.T, db *DB)
	}{
		{sqlite.WALBatch, func(t *testing.T, db *DB) {
			if dsn := db.Writer.Dialector.(*gormsqlite.Dialector).DSN; strings.Contains(dsn, "vfs=") {
				t.Errorf("the writer's DSN names a VFS: %s", dsn)
			}
		}},
		{sqlite.WriterConn, func(t *testing.T, db *DB) {
			if db.writer != nil || db.ckpt == nil {
				t.Errorf("a Writer %v, a Checkpointer %v; want only the Checkpointer", db.writer != nil, db.ckpt != nil)
			}
		}},
		{sqlite.Direct, func(t *testing.T, db *DB) {
			if db.writer == nil {
				t.Fatal("no Writer")
			}
			err := db.transaction(func(tx *gorm.DB) error {
				row := QueryRow(tx, "SELECT 1")
				if _, ok := row.(*sql.Row); !ok {
					t.Errorf("a query of the writer's transaction runs on the driver (%T)", row)
				}
				var one int
				return row.Scan(&one)
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
		{sqlite.Checkpoint, func(t *testing.T, db *DB) {
			if db.ckpt != nil {
				t.Error("a Checkpointer runs")
			}
			wantPragma(t, db, "wal_autocheckpoint", "1000")
		}},
	} {
		t.Run(c.without.String(), func(t *testing.T) {
			tuning := sqlite.Tuning{}.Without(c.without)
			db, err := OpenWith(filepath.Join(t.TempDir(), "t.db"), Options{SQLite: tuning})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if !db.Tuned {
				t.Fatalf("%v: not tuned", tuning)
			}
			c.check(t, db)
			err = db.transaction(func(tx *gorm.DB) error {
				_, err := Exec(tx, "CREATE TABLE kept (v TEXT)")
				if err == nil {
					_, err = Exec(tx, "INSERT INTO kept (v) VALUES (?)", "x")
				}
				return err
			})
			var v string
			if err == nil {
				err = db.Raw("SELECT v FROM kept").Row().Scan(&v)
			}
			if err != nil || v != "x" {
				t.Fatalf("%v: read back %q, %v", tuning, v, err)
			}
		})
	}
}

func wantPragma(t *testing.T, db *DB, pragma, want string) {
	t.Helper()
	var got string
	if err := db.Writer.Raw("PRAGMA " + pragma).Row().Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("the writer's PRAGMA %s = %s, want %s", pragma, got, want)
	}
}

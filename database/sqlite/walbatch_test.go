//go:build linux && cgo

package sqlite

import (
	"bytes"
	"path/filepath"
	"testing"

	"gorm.io/gorm"
)

// TestWALBatchWritesACommitAtOnce: a commit of many pages reaches the WAL
// in one write system call (SQLite asks for two per page), and what was
// committed is what a reader on another connection and a fresh open of
// the file find.
func TestWALBatchWritesACommitAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "batch.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`CREATE TABLE rows (n INTEGER PRIMARY KEY, b BLOB NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	row := func(n int) []byte { return bytes.Repeat([]byte{byte(n)}, 3000) } // most of a page each
	const perCommit, commits = 20, 20                                        // about 100 KiB of WAL a commit
	var writes, held int64
	for c := range commits {
		w0, h0 := walBatchCounts()
		err := db.Writer.Transaction(func(tx *gorm.DB) error {
			for i := range perCommit {
				n := c*perCommit + i
				if _, err := Exec(tx, `INSERT INTO rows (n, b) VALUES (?, ?)`, n, row(n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		w1, h1 := walBatchCounts()
		writes, held = writes+w1-w0, held+h1-h0
	}
	// Each commit: a header and a page for each of 20+ pages.
	if held < commits*perCommit*2 {
		t.Fatalf("%d WAL writes held over %d commits of %d rows: the VFS did not see them", held, commits, perCommit)
	}
	if writes > commits {
		t.Fatalf("%d WAL write system calls for %d commits (%d writes asked for), want one a commit", writes, commits, held)
	}
	t.Logf("%d commits: %d WAL writes asked for, %d made", commits, held, writes)
	check := func(what string, g *gorm.DB) {
		t.Helper()
		var bad, count int64
		if err := g.Raw(`SELECT count(*) FROM rows`).Row().Scan(&count); err != nil {
			t.Fatal(err)
		}
		for n := range commits * perCommit {
			var b []byte
			if err := g.Raw(`SELECT b FROM rows WHERE n = ?`, n).Row().Scan(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, row(n)) {
				bad++
			}
		}
		var integrity string
		if err := g.Raw(`PRAGMA integrity_check`).Row().Scan(&integrity); err != nil {
			t.Fatal(err)
		}
		if count != commits*perCommit || bad > 0 || integrity != "ok" {
			t.Fatalf("%s: %d rows, %d wrong, integrity %q", what, count, bad, integrity)
		}
	}
	check("a reader", db.DB)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	check("after reopening", again.DB)
}

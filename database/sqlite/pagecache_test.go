//go:build linux && cgo

package sqlite

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"gorm.io/gorm"
)

// randomID is a key that lands anywhere in an index, as message ids do,
// so that inserts split pages all over it.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func insertRows(tx *gorm.DB, n int) error {
	for range n {
		if _, err := Exec(tx, `INSERT INTO rows (id, body) VALUES (?, randomblob(200))`, randomID()); err != nil {
			return err
		}
	}
	return nil
}

func openRows(tb testing.TB) *DB {
	tb.Helper()
	return openWithTable(tb, `CREATE TABLE rows (id TEXT PRIMARY KEY, body BLOB NOT NULL)`)
}

// TestPageCacheTruncations: commits after page splits no longer hand
// their truncation to SQLite's cache, while a rolled-back transaction
// that grew the file (whole, or to a savepoint, as the Committer's
// batches do) still has its pages dropped: the file and the rows are what
// was committed.
func TestPageCacheTruncations(t *testing.T) {
	db := openRows(t)
	asked0, passed0 := pageCacheCounts()
	for range 200 {
		if err := db.Writer.Transaction(func(tx *gorm.DB) error { return insertRows(tx, 20) }); err != nil {
			t.Fatal(err)
		}
	}
	asked1, passed1 := pageCacheCounts()
	if asked1-asked0 < 200 {
		t.Fatalf("%d truncations asked for over 200 commits: SQLite does not use the wrapper", asked1-asked0)
	}
	if passed1-passed0 > (asked1-asked0)/10 {
		t.Fatalf("%d of %d truncations passed on to pcache1 over 200 commits of new rows", passed1-passed0, asked1-asked0)
	}
	t.Logf("200 commits of 20 rows: %d truncations asked for, %d passed on", asked1-asked0, passed1-passed0)

	// A transaction that grows the file by many pages, rolled back; and one
	// with such a savepoint rolled back, then rows committed.
	errRollback := errors.New("roll back")
	if err := db.Writer.Transaction(func(tx *gorm.DB) error {
		if err := insertRows(tx, 2000); err != nil {
			return err
		}
		return errRollback
	}); err != errRollback {
		t.Fatal(err)
	}
	err := db.Writer.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SAVEPOINT grow`).Error; err != nil {
			return err
		}
		if err := insertRows(tx, 2000); err != nil {
			return err
		}
		if err := tx.Exec(`ROLLBACK TO grow`).Error; err != nil {
			return err
		}
		if err := tx.Exec(`RELEASE grow`).Error; err != nil {
			return err
		}
		return insertRows(tx, 500)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, passed2 := pageCacheCounts(); passed2 == passed1 {
		t.Fatal("no truncation passed on after rolling back 2,000 rows: their pages stay in the cache")
	}
	// Pages past the end that a rollback left in the cache would be taken
	// for the new pages of these commits.
	for range 50 {
		if err := db.Writer.Transaction(func(tx *gorm.DB) error { return insertRows(tx, 100) }); err != nil {
			t.Fatal(err)
		}
	}
	var count int64
	var integrity string
	if err := db.Writer.Raw(`SELECT count(*) FROM rows`).Row().Scan(&count); err != nil {
		t.Fatal(err)
	}
	if err := db.Writer.Raw(`PRAGMA integrity_check`).Row().Scan(&integrity); err != nil {
		t.Fatal(err)
	}
	if want := int64(200*20 + 500 + 50*100); count != want || integrity != "ok" {
		t.Fatalf("%d rows (want %d), integrity %q", count, want, integrity)
	}
}

// BenchmarkCommitAfterSplits: a commit of two random-key rows on a
// database whose cache holds about 15,000 pages, with the wrapper and
// with every truncation passed on to pcache1 (SQLite's behaviour).
//
//	go test -run '^$' -bench CommitAfterSplits ./database
func BenchmarkCommitAfterSplits(b *testing.B) {
	db := openRows(b)
	for range 60 { // about 60 MiB of rows and index
		if err := db.Writer.Transaction(func(tx *gorm.DB) error { return insertRows(tx, 4000) }); err != nil {
			b.Fatal(err)
		}
	}
	for _, mode := range []struct {
		name    string
		passAll bool
	}{{"pcache1", true}, {"wrapper", false}} {
		b.Run(mode.name, func(b *testing.B) {
			passAllTruncations(mode.passAll)
			defer passAllTruncations(false)
			for range b.N {
				if err := db.Writer.Transaction(func(tx *gorm.DB) error { return insertRows(tx, 2) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

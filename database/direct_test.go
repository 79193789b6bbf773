package database_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

type level int

// TestWriterStatements: the write path's own statements in a Committer
// transaction (on SQLite, run on the driver connection itself: direct.go)
// read every type the services scan, report NULLs, missing rows and column
// mismatches, and tell an insert from a key already taken, on both
// dialects alike.
func TestWriterStatements(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		db, c, _ := setup(t, dialect, database.CommitterOptions{})
		run := func(op func(tx *gorm.DB) error) error {
			return c.Run(context.Background(), func(tx *gorm.DB) ([]switchboard.Event, error) { return nil, op(tx) })
		}
		if err := db.Exec(`CREATE TABLE kinds (k TEXT NOT NULL, n BIGINT NOT NULL, i INTEGER NOT NULL,
			b BOOLEAN NOT NULL, f DOUBLE PRECISION NOT NULL, lat DOUBLE PRECISION)`).Error; err != nil {
			t.Fatal(err)
		}
		err := run(func(tx *gorm.DB) error {
			id, inserted, err := database.Insert(tx, "id", `INSERT INTO items (v) VALUES (?) ON CONFLICT (v) DO NOTHING`, "a")
			if err != nil || !inserted || id <= 0 {
				t.Errorf("first insert: id %d, inserted %v, %v", id, inserted, err)
			}
			if _, inserted, err := database.Insert(tx, "id", `INSERT INTO items (v) VALUES (?) ON CONFLICT (v) DO NOTHING`, "a"); err != nil || inserted {
				t.Errorf("insert of a taken key: inserted %v, %v", inserted, err)
			}
			for _, lat := range []*float64{nil, ptr(52.5)} {
				if _, err := database.Exec(tx, `INSERT INTO kinds (k, n, i, b, f, lat) VALUES (?, ?, ?, ?, ?, ?)`,
					"text", int64(1)<<40, 7, true, 2.5, lat); err != nil {
					return err
				}
			}
			n, err := database.Exec(tx, `UPDATE kinds SET i = ? WHERE k = ?`, level(8), "text")
			if err != nil || n != 2 {
				t.Errorf("update: %d rows, %v", n, err)
			}
			var k string
			var big int64
			var i level
			var small int
			var b bool
			var f float64
			var lat *float64
			for _, want := range []*float64{nil, ptr(52.5)} {
				cond := "lat IS NULL"
				if want != nil {
					cond = "lat = 52.5"
				}
				if err := database.QueryRow(tx, `SELECT k, n, i, i, b, f, lat FROM kinds WHERE `+cond).
					Scan(&k, &big, &i, &small, &b, &f, &lat); err != nil {
					return err
				}
				if k != "text" || big != 1<<40 || i != 8 || small != 8 || !b || f != 2.5 || (lat == nil) != (want == nil) ||
					(lat != nil && *lat != *want) {
					t.Errorf("scanned %q %d %d %d %v %v %v, want lat %v", k, big, i, small, b, f, lat, want)
				}
			}
			if err := database.QueryRow(tx, `SELECT k FROM kinds WHERE k = ?`, "none").Scan(&k); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("no row: %v, want sql.ErrNoRows", err)
			}
			if err := database.QueryRow(tx, `SELECT k, n FROM kinds WHERE lat IS NULL`).Scan(&k); err == nil ||
				!strings.Contains(err.Error(), "2") {
				t.Errorf("two columns scanned into one: %v, want an error", err)
			}
			// More statement texts than the writer keeps prepared: the
			// rest still run.
			for i := range 600 {
				if _, err := database.Exec(tx, fmt.Sprintf(`INSERT INTO items (v) VALUES ('many-%d')`, i)); err != nil {
					return err
				}
			}
			var many int64
			if err := database.QueryRow(tx, `SELECT COUNT(*) FROM items WHERE v LIKE 'many-%'`).Scan(&many); err != nil || many != 600 {
				t.Errorf("%d of 600 distinct statements ran (%v)", many, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func ptr(f float64) *float64 { return &f }

//go:build linux && cgo

package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestWALWriteback: the writeback finds the WAL of the database its
// connection is open on, and starts its writeback without an error.
func TestWALWriteback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wb.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.pool().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	wb, err := newWALWriteback(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.close()
	if want, _ := filepath.EvalSymlinks(path); wb.path != path+"-wal" && wb.path != want+"-wal" {
		t.Fatalf("WAL path %q, want %q", wb.path, path+"-wal")
	}
	if err := db.Exec(`CREATE TABLE t (x TEXT)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := wb.start(); err != nil {
		t.Fatal(err)
	}
	if wb.file == nil {
		t.Fatal("the WAL was not opened")
	}
	if _, err := os.Stat(wb.path); err != nil {
		t.Fatal(err)
	}
}

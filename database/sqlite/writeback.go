//go:build linux && cgo

package sqlite

import (
	"context"
	"database/sql"
	"os"
	"time"
)

// writebackEvery is how often the kernel is asked to start writing the
// WAL's dirty pages to disk.
const writebackEvery = 50 * time.Millisecond

// walWriteback spreads the WAL's disk writes over the second between
// checkpoints. A checkpoint pass fsyncs the WAL first, and under load a
// second of WAL is tens of megabytes: that fsync wrote it all at once,
// the kernel's share of it ran on the server's core in one burst, and the
// Go scheduler stalled while it did, which showed in the ack p99
// (docs/performance-journal.md). Asking the kernel to start the writeback every
// writebackEvery (sync_file_range without waiting, as
// PostgreSQL's *_flush_after settings do) leaves each fsync little to
// write. It changes no durability: it waits for nothing, and the
// checkpoint still fsyncs before it copies. It runs only with durability
// os (synchronous=NORMAL): with fsync every COMMIT syncs the WAL, which
// leaves it nothing to write.
type walWriteback struct {
	path string // the WAL file's; "" for a database without one
	file *os.File
}

// newWALWriteback finds the WAL of the database conn is open on.
func newWALWriteback(conn *sql.Conn) (*walWriteback, error) {
	file, err := mainFile(conn)
	if err != nil || file == "" {
		return &walWriteback{}, err
	}
	return &walWriteback{path: file + "-wal"}, nil
}

// mainFile is the file of the database conn is open on; "" for one in
// memory.
func mainFile(conn *sql.Conn) (string, error) {
	rows, err := conn.QueryContext(context.Background(), "PRAGMA database_list")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	main := ""
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", err
		}
		if name == "main" {
			main = file
		}
	}
	return main, rows.Err()
}

// start asks the kernel to start writing the WAL's dirty pages, and does
// not wait for them. The file is opened on first use: SQLite creates it.
// SQLite takes no locks on the WAL file, so a descriptor of our own on it
// cannot release one of SQLite's when it is closed.
func (w *walWriteback) start() error {
	if w.path == "" {
		return nil
	}
	if w.file == nil {
		f, err := os.Open(w.path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		w.file = f
	}
	return startWriteback(w.file)
}

func (w *walWriteback) close() {
	if w.file != nil {
		w.file.Close()
	}
}

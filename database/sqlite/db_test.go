//go:build linux && cgo

package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"testing"

	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DB is a tuned SQLite database opened as package database opens one,
// without its migrations: a pool for reads, a Writer and a Checkpointer.
type DB struct {
	*gorm.DB
	Writer *gorm.DB
	writer *Writer
	ckpt   *Checkpointer
}

// TestMain installs the tuning before any test opens SQLite, or runs the
// install probe (TestInstallLeavesOut).
func TestMain(m *testing.M) {
	if setting := os.Getenv(installProbeEnv); setting != "" {
		out, err := installProbe(setting)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(out)
		os.Exit(0)
	}
	if err := Install(Tuning{}); err != nil {
		panic(err)
	}
	m.Run()
}

// Open opens path tuned, with durable commits (synchronous=FULL).
func Open(path string, _ any) (*DB, error) { return openSynchronous(path, "FULL") }

// openSynchronous opens path tuned, with the writer's PRAGMA synchronous
// (FULL: durability fsync, NORMAL: durability os).
func openSynchronous(path, synchronous string) (*DB, error) {
	pool, err := openGorm(DSN(path, synchronous, Tuning{}, ""))
	if err != nil {
		return nil, err
	}
	db := &DB{DB: pool}
	db.pool().SetMaxOpenConns(9)
	w, err := openGorm(DSN(path, synchronous, Tuning{}, "&_cache_size=-65536"))
	if err != nil {
		db.pool().Close()
		return nil, err
	}
	wdb, _ := w.DB()
	wdb.SetMaxOpenConns(1)
	if db.writer, err = NewWriter(wdb, w, Tuning{}); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	db.Writer = w
	if db.ckpt, err = StartCheckpointer(db.pool(), db.writer.Turn(), checkpointEvery, true, synchronous == "NORMAL", nil); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

func openGorm(dsn string) (*gorm.DB, error) {
	return gorm.Open(gormsqlite.New(gormsqlite.Config{DriverName: Driver(Tuning{}), DSN: dsn}),
		&gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
}

func (db *DB) pool() *sql.DB {
	p, _ := db.DB.DB()
	return p
}

// Close closes the checkpointer, the writer and the pool.
func (db *DB) Close() error {
	var errs []error
	if db.ckpt != nil {
		db.ckpt.Close()
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	return errors.Join(append(errs, db.pool().Close())...)
}

// Exec runs a statement on tx's connection pool as package database's
// Exec does, and reports the rows it changed.
func Exec(tx *gorm.DB, query string, args ...any) (int64, error) {
	res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

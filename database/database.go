// Package database opens Switchboard's store (SQLite by default, PostgreSQL
// by URL), applies the embedded migrations, and owns the one write path
// every service goes through: the Committer.
package database

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/mattn/go-sqlite3"

	"github.com/switchboard-chat/switchboard/migrations"
)

// DB is an open, migrated database.
type DB struct {
	// DB is the pool for reads (and for writes outside the Committer, such
	// as migrations).
	*gorm.DB
	// Writer is what the Committer writes through. On SQLite it is one
	// connection of its own with prepared statements, so that each
	// statement is compiled once instead of once per message; SQLite has one
	// writer at a time anyway. On PostgreSQL it is the pool.
	Writer *gorm.DB
	// Dialect is "sqlite" or "postgres".
	Dialect string

	writer *writerConn   // the SQLite writer's connection and statements
	ckpt   *checkpointer // the SQLite WAL's checkpoints
}

// Open opens url — a postgres:// or postgresql:// URL, or a SQLite file
// path (optionally prefixed with sqlite:) — and applies the migrations.
func Open(url string, log *slog.Logger) (*DB, error) {
	dialector, dialect := dialectorFor(url, "")
	gdb, err := open(dialector, false)
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", redact(url), err)
	}
	db := &DB{DB: gdb, Writer: gdb, Dialect: dialect}
	if dialect == "sqlite" {
		// WAL lets readers run beside the one writer: eight of them, and
		// the checkpointer's connection.
		db.pool().SetMaxOpenConns(9)
		db.pool().SetMaxIdleConns(9)
	} else {
		db.pool().SetMaxOpenConns(20)
		db.pool().SetMaxIdleConns(10)
	}
	db.pool().SetConnMaxIdleTime(5 * time.Minute)
	if err := migrations.Apply(gdb, dialect); err != nil {
		db.Close()
		return nil, err
	}
	if dialect == "sqlite" {
		// The writer's page cache holds the pages every message touches
		// (the message id index takes random keys): with SQLite's default
		// 2 MB most inserts read pages back from the file.
		wd, _ := dialectorFor(url, "&_cache_size=-65536")
		w, err := open(wd, false)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("database: open writer %s: %w", redact(url), err)
		}
		sqlDB, _ := w.DB()
		sqlDB.SetMaxOpenConns(1)
		if db.writer, err = newWriterConn(sqlDB, w); err != nil {
			sqlDB.Close()
			db.Close()
			return nil, fmt.Errorf("database: open writer %s: %w", redact(url), err)
		}
		db.Writer = w
		if db.ckpt, err = startCheckpointer(db.pool(), &db.writer.turn, checkpointEvery, log); err != nil {
			db.Close()
			return nil, fmt.Errorf("database: open checkpointer %s: %w", redact(url), err)
		}
	}
	if log != nil {
		log.Info("database ready", "dialect", dialect, "url", redact(url))
	}
	return db, nil
}

// transaction runs fc in a transaction of Writer: on SQLite the writer
// connection's own (writerConn.transaction), unless Writer has been given
// another connection pool (tests that record statements wrap it); else
// gorm's Transaction.
func (db *DB) transaction(fc func(tx *gorm.DB) error) error {
	if db.writer != nil && db.Writer.Statement.ConnPool == db.writer {
		return db.writer.transaction(fc)
	}
	return db.Writer.Transaction(fc)
}

func open(d gorm.Dialector, prepare bool) (*gorm.DB, error) {
	return gorm.Open(d, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // the Committer makes the transactions
		PrepareStmt:            prepare,
	})
}

func (db *DB) pool() *sql.DB {
	sqlDB, _ := db.DB.DB()
	return sqlDB
}

// Close closes the connections.
func (db *DB) Close() error {
	var errs []error
	db.ckpt.close()
	if db.writer != nil {
		errs = append(errs, db.writer.close())
	}
	errs = append(errs, db.pool().Close())
	return errors.Join(errs...)
}

// Ping checks the database answers (for /readyz).
func (db *DB) Ping() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Ping()
}

// dialectorFor returns the dialector for url; sqliteParams are extra DSN
// parameters ("&name=value…") for a SQLite file.
func dialectorFor(url, sqliteParams string) (gorm.Dialector, string) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return postgres.Open(url), "postgres"
	}
	path := strings.TrimPrefix(url, "sqlite:")
	if strings.HasPrefix(path, "//") {
		path = strings.TrimPrefix(path, "//")
	}
	// synchronous=NORMAL in WAL mode loses no committed transaction on a
	// process crash (only on power loss); _txlock=immediate makes a write
	// transaction take the write lock at BEGIN, so it never fails halfway
	// with SQLITE_BUSY.
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate&vfs=" +
		walBatchVFS + sqliteParams
	return sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: dsn}), "sqlite"
}

// sqliteDriver is SQLite with the settings the DSN cannot carry, applied
// to every new connection:
//   - temp_store=MEMORY keeps statement journals and temporary tables in
//     memory; in a file, the first change of each page in each savepoint
//     was a write system call, which made a one-row update in a savepoint
//     cost 8× more.
//   - the WAL is checkpointed once a second by the checkpointer
//     (checkpoint.go), off the writer's path; the automatic checkpoint,
//     inside a COMMIT, only if that falls 50,000 pages (200 MiB) behind.
//     Fewer checkpoints also cost less: the pages every batch changes (the
//     tails of the message table and its indexes, the sessions of the
//     conversations going on) are copied back once per checkpoint, not once
//     per 1,000 pages of WAL (SQLite's default). A message with its status
//     cost 71 → 53 µs of CPU in SQLite alone with checkpoints every 10,000
//     pages instead of 1,000 (batches of 20, 40,000 messages).
//     journal_size_limit cuts the WAL file back to 128 MiB when the writer
//     starts it over (checkpoint.go has it started over once it passes
//     64 MiB).
const sqliteDriver = "sqlite3_switchboard"

var sqlitePragmas = []string{
	"PRAGMA temp_store = MEMORY",
	"PRAGMA wal_autocheckpoint = 50000",
	"PRAGMA journal_size_limit = 134217728",
}

func init() {
	// These two first: SQLite initializes when a VFS registers.
	installPageCache()
	turnOffMemoryStatistics()
	registerWALBatch()
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range sqlitePragmas {
			if _, err := c.Exec(p, nil); err != nil {
				return err
			}
		}
		return nil
	}})
}

// redact hides a password in a database URL for logs.
func redact(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 {
		return url
	}
	userinfo := url[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return url[:scheme+3] + user + ":***" + url[at:]
	}
	return url
}

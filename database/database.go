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
	// Durability is what an acknowledged write survives.
	Durability Durability

	writer *writerConn   // the SQLite writer's connection and statements
	ckpt   *checkpointer // the SQLite WAL's checkpoints
}

// Options configures Open. Zero values work.
type Options struct {
	// Logger receives what Open says at start (nil: nothing).
	Logger *slog.Logger
	// Durability is what an acknowledged write survives (default fsync).
	Durability Durability
}

// Open opens url — a postgres:// or postgresql:// URL, or a SQLite file
// path (optionally prefixed with sqlite:) — and applies the migrations,
// with durable commits (DurabilityFsync).
func Open(url string, log *slog.Logger) (*DB, error) {
	return OpenWith(url, Options{Logger: log})
}

// OpenWith is Open with options.
func OpenWith(url string, opts Options) (*DB, error) {
	durability, err := ParseDurability(string(opts.Durability))
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	log := opts.Logger
	dialector, dialect, err := dialectorFor(url, durability, "")
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", redact(url), err)
	}
	gdb, err := open(dialector, false)
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", redact(url), err)
	}
	db := &DB{DB: gdb, Writer: gdb, Dialect: dialect, Durability: durability}
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
		if err := db.openSQLiteWriter(url, log); err != nil {
			db.Close()
			return nil, err
		}
	} else {
		db.warnUnsyncedServer(log)
	}
	if log != nil {
		log.Info("database ready", "dialect", dialect, "url", redact(url), "durability", string(durability))
	}
	warnDurability(log, db)
	return db, nil
}

// openSQLiteWriter opens the SQLite writer's connection and starts the
// checkpointer beside it.
func (db *DB) openSQLiteWriter(url string, log *slog.Logger) error {
	// The writer's page cache holds the pages every message touches
	// (the message id index takes random keys): with SQLite's default
	// 2 MB most inserts read pages back from the file.
	wd, _, _ := dialectorFor(url, db.Durability, "&_cache_size=-65536")
	w, err := open(wd, false)
	if err != nil {
		return fmt.Errorf("database: open writer %s: %w", redact(url), err)
	}
	sqlDB, _ := w.DB()
	sqlDB.SetMaxOpenConns(1)
	if db.writer, err = newWriterConn(sqlDB, w); err != nil {
		sqlDB.Close()
		return fmt.Errorf("database: open writer %s: %w", redact(url), err)
	}
	db.Writer = w
	// With every COMMIT synced the WAL has no dirty pages left for the
	// writeback to start on.
	writeback := db.Durability == DurabilityOS
	if db.ckpt, err = startCheckpointer(db.pool(), &db.writer.turn, checkpointEvery, writeback, log); err != nil {
		return fmt.Errorf("database: open checkpointer %s: %w", redact(url), err)
	}
	return nil
}

// warnUnsyncedServer warns when the PostgreSQL server itself does not
// flush its WAL (fsync=off): synchronous_commit=on then waits for a write
// that a power failure still loses.
func (db *DB) warnUnsyncedServer(log *slog.Logger) {
	if log == nil || db.Durability != DurabilityFsync {
		return
	}
	var fsync string
	if err := db.Raw("SHOW fsync").Row().Scan(&fsync); err == nil && fsync == "off" {
		log.Warn("the PostgreSQL server runs with fsync=off: a power failure can lose acknowledged writes, whatever SWITCHBOARD_DURABILITY says")
	}
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
func dialectorFor(url string, d Durability, sqliteParams string) (gorm.Dialector, string, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		u, err := withSynchronousCommit(url, d)
		if err != nil {
			return nil, "", err
		}
		return postgres.Open(u), "postgres", nil
	}
	path := strings.TrimPrefix(url, "sqlite:")
	if strings.HasPrefix(path, "//") {
		path = strings.TrimPrefix(path, "//")
	}
	// _synchronous is the durability (durability.go); _txlock=immediate
	// makes a write transaction take the write lock at BEGIN, so it never
	// fails halfway with SQLITE_BUSY.
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_journal_mode=WAL&_synchronous=" + d.sqliteSynchronous() +
		"&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate&vfs=" + walBatchVFS + sqliteParams
	return sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: dsn}), "sqlite", nil
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

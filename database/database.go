// Package database opens Switchboard's store (SQLite by default, PostgreSQL
// by URL), applies the embedded migrations, and owns the one write path
// every service goes through: the Committer.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/postgres"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchboard-chat/switchboard/database/sqlite"
	"github.com/switchboard-chat/switchboard/migrations"
)

// DB is an open, migrated database.
type DB struct {
	// DB is the pool for reads (and for writes outside the Committer, such
	// as migrations).
	*gorm.DB
	// Writer is what the Committer writes through. On SQLite it is one
	// connection of its own (SQLite has one writer at a time anyway); with
	// the tuning, one that keeps its statements prepared and runs them on
	// the driver itself (sqlite.Writer). On PostgreSQL it is the pool.
	Writer *gorm.DB
	// Dialect is "sqlite" or "postgres".
	Dialect string
	// Durability is what an acknowledged write survives.
	Durability Durability

	// Tuned says the SQLite tuning (package database/sqlite) is on;
	// tuning is which of its mechanisms.
	Tuned  bool
	tuning sqlite.Tuning

	writer *sqlite.Writer       // the tuned SQLite writer's connection and statements
	ckpt   *sqlite.Checkpointer // the tuned SQLite WAL's checkpoints
}

// Options configures Open. Zero values work.
type Options struct {
	// Logger receives what Open says at start (nil: nothing).
	Logger *slog.Logger
	// Durability is what an acknowledged write survives (default fsync).
	Durability Durability
	// SQLite is package sqlite's tuning of a SQLite database: the zero
	// value is all of it; sqlite.Stock opens stock SQLite through the
	// go-sqlite3 driver (the unix VFS, SQLite's own page cache and
	// checkpoints, gorm's statements). Where the build has no tuning (not
	// Linux, or no cgo), SQLite is always stock.
	SQLite sqlite.Tuning
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
	tuning := tuneSQLite(url, opts.SQLite, log)
	tuned := tuning.On()
	if tuned {
		if err := sqlite.Install(tuning); err != nil {
			return nil, fmt.Errorf("database: %w (SWITCHBOARD_SQLITE_TUNING=off opens stock SQLite)", err)
		}
	}
	dialector, dialect, err := dialectorFor(url, durability, tuning, "")
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", redact(url), err)
	}
	gdb, err := open(dialector, false)
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", redact(url), err)
	}
	db := &DB{DB: gdb, Writer: gdb, Dialect: dialect, Durability: durability, Tuned: tuned, tuning: tuning}
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
		log.Info("database ready", "dialect", dialect, "url", redact(url), "durability", string(durability), "sqlite_tuning", tuning.String())
	}
	warnDurability(log, db)
	return db, nil
}

// tuneSQLite is the tuning to open url with: t for a SQLite database
// where the build has it, else none. Asked for where the build lacks it,
// SQLite is stock, with a warning.
func tuneSQLite(url string, t sqlite.Tuning, log *slog.Logger) sqlite.Tuning {
	if !t.On() || isPostgres(url) {
		return sqlite.Stock
	}
	if !sqlite.Available {
		if log != nil {
			log.Warn("this build has no SQLite tuning (it needs Linux and cgo): stock SQLite")
		}
		return sqlite.Stock
	}
	return t
}

// openSQLiteWriter opens the SQLite writer's connection: with the tuning,
// a sqlite.Writer and the checkpointer beside it; stock, a pool of one
// connection with gorm's own statements and SQLite's own checkpoints.
func (db *DB) openSQLiteWriter(url string, log *slog.Logger) error {
	// The writer's page cache holds the pages every message touches
	// (the message id index takes random keys): with SQLite's default
	// 2 MB most inserts read pages back from the file.
	wd, _, _ := dialectorFor(url, db.Durability, db.tuning, "&_cache_size=-65536")
	w, err := open(wd, false)
	if err != nil {
		return fmt.Errorf("database: open writer %s: %w", redact(url), err)
	}
	sqlDB, _ := w.DB()
	sqlDB.SetMaxOpenConns(1)
	db.Writer = w
	var turn sync.Locker = &poolTurn{db: sqlDB}
	if db.tuning.Uses(sqlite.WriterConn) {
		if db.writer, err = sqlite.NewWriter(sqlDB, w, db.tuning); err != nil {
			sqlDB.Close()
			db.Writer = db.DB
			return fmt.Errorf("database: open writer %s: %w", redact(url), err)
		}
		turn = db.writer.Turn()
	}
	if !db.tuning.Uses(sqlite.Checkpoint) {
		return nil
	}
	// With every COMMIT synced the WAL has no dirty pages left for the
	// writeback to start on.
	writeback := db.Durability == DurabilityOS && db.tuning.Uses(sqlite.Writeback)
	if db.ckpt, err = sqlite.StartCheckpointer(db.pool(), turn, checkpointEvery, db.tuning.Uses(sqlite.WALBatch), writeback, log); err != nil {
		return fmt.Errorf("database: open checkpointer %s: %w", redact(url), err)
	}
	return nil
}

// checkpointEvery is how often the tuned SQLite's WAL is copied back
// into the database file.
const checkpointEvery = time.Second

// poolTurn holds a writer pool of one connection (the tuning without its
// Writer) by taking that connection, as the Checkpointer holds a Writer's
// turn.
type poolTurn struct {
	db   *sql.DB
	conn *sql.Conn
}

func (p *poolTurn) Lock() {
	// Without the connection, the pass runs beside the writer, and the
	// next one tries again.
	p.conn, _ = p.db.Conn(context.Background())
}

func (p *poolTurn) Unlock() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
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

// transaction runs fc in a transaction of Writer: on tuned SQLite the
// writer connection's own (sqlite.Writer.Transaction), unless Writer has been given
// another connection pool (tests that record statements wrap it); else
// gorm's Transaction.
func (db *DB) transaction(fc func(tx *gorm.DB) error) error {
	if db.writer != nil && db.writer.Owns(db.Writer.Statement.ConnPool) {
		return db.writer.Transaction(fc)
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

// SQLiteTuning is the tuning the database was opened with: sqlite.Stock
// for stock SQLite and for PostgreSQL.
func (db *DB) SQLiteTuning() sqlite.Tuning { return db.tuning }

// Close closes the connections.
func (db *DB) Close() error {
	var errs []error
	if db.ckpt != nil {
		db.ckpt.Close()
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	} else if db.Writer != db.DB {
		if w, err := db.Writer.DB(); err == nil {
			errs = append(errs, w.Close())
		}
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
// parameters ("&name=value…") for a SQLite file, tuned or stock.
func dialectorFor(url string, d Durability, t sqlite.Tuning, sqliteParams string) (gorm.Dialector, string, error) {
	if isPostgres(url) {
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
	// _synchronous is the durability (durability.go).
	dsn := sqlite.DSN(path, d.sqliteSynchronous(), t, sqliteParams)
	return gormsqlite.New(gormsqlite.Config{DriverName: sqlite.Driver(t), DSN: dsn}), "sqlite", nil
}

func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
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

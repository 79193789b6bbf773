// Package database opens Switchboard's store (SQLite by default, PostgreSQL
// by URL), applies the embedded migrations, and owns the one write path
// every service goes through: the Committer.
package database

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchboard-chat/switchboard/migrations"
)

// DB is an open, migrated database.
type DB struct {
	*gorm.DB
	// Dialect is "sqlite" or "postgres".
	Dialect string
}

// Open opens url — a postgres:// or postgresql:// URL, or a SQLite file
// path (optionally prefixed with sqlite:) — and applies the migrations.
func Open(url string, log *slog.Logger) (*DB, error) {
	dialector, dialect := dialectorFor(url)
	gdb, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // the Committer makes the transactions
		PrepareStmt:            true,
	})
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", redact(url), err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	if dialect == "sqlite" {
		// WAL lets readers run beside the one writer; the Committer is that
		// writer, so a handful of connections is plenty.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	} else {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := migrations.Apply(gdb, dialect); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if log != nil {
		log.Info("database ready", "dialect", dialect, "url", redact(url))
	}
	return &DB{DB: gdb, Dialect: dialect}, nil
}

// Close closes the connection pool.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks the database answers (for /readyz).
func (db *DB) Ping() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Ping()
}

func dialectorFor(url string) (gorm.Dialector, string) {
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
	dsn := path + sep + "_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
	return sqlite.Open(dsn), "sqlite"
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

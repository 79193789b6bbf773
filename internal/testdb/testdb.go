// Package testdb opens throwaway, migrated databases for tests: a SQLite
// file in the test's temporary directory, or a fresh PostgreSQL database
// that is dropped when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/database/sqlite"
)

// DefaultPostgres is the server tests use when SWITCHBOARD_TEST_POSTGRES is
// unset: a local PostgreSQL with trust authentication.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects lists the databases every store test runs on, as subtests.
func Dialects() []string { return []string{"sqlite", "postgres"} }

// Open returns a fresh, migrated database of dialect ("sqlite" or
// "postgres"), closed (and for PostgreSQL dropped) when the test ends.
// An unreachable PostgreSQL skips the test, unless CI is set: there it is
// a failure, so that a broken CI database cannot pass silently.
func Open(t testing.TB, dialect string) *database.DB {
	t.Helper()
	return OpenWith(t, dialect, database.Options{})
}

// OpenWith is Open with options (durability, a logger). SQLite
// databases have the tuning SWITCHBOARD_SQLITE_TUNING in the environment
// asks for, as the server reads it (database.Options.SQLite): "off" tests
// stock SQLite, "on,-walbatch" the tuning without the batching VFS.
func OpenWith(t testing.TB, dialect string, opts database.Options) *database.DB {
	t.Helper()
	tuning, err := sqlite.ParseTuning(os.Getenv("SWITCHBOARD_SQLITE_TUNING"))
	if err != nil {
		t.Fatalf("testdb: SWITCHBOARD_SQLITE_TUNING: %v", err)
	}
	opts.SQLite = tuning
	switch dialect {
	case "sqlite":
		db, err := database.OpenWith(filepath.Join(t.TempDir(), "switchboard.db"), opts)
		if err != nil {
			t.Fatalf("testdb: open sqlite: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	case "postgres":
		return openPostgres(t, opts)
	}
	t.Fatalf("testdb: unknown dialect %q", dialect)
	return nil
}

func openPostgres(t testing.TB, opts database.Options) *database.DB {
	t.Helper()
	base := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("testdb: PostgreSQL unavailable: "+format, args...)
		}
		t.Skipf("testdb: PostgreSQL unavailable (set CI to make this fail): "+format, args...)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: SWITCHBOARD_TEST_POSTGRES: %v", err)
	}
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard, DisableAutomaticPing: true})
	if err != nil {
		unavailable("%v", err)
	}
	adminSQL, err := admin.DB()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := adminSQL.PingContext(ctx); err != nil {
		_ = adminSQL.Close()
		unavailable("%v", err)
	}
	name := "sb_test_" + randomHex(8)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		_ = adminSQL.Close()
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	drop := func() {
		if err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
		_ = adminSQL.Close()
	}
	u.Path = "/" + name
	db, err := database.OpenWith(u.String(), opts)
	if err != nil {
		drop()
		t.Fatalf("testdb: open %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = db.Close()
		drop()
	})
	return db
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

package testdb

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// PostgresURL creates an empty database on the test PostgreSQL, dropped
// when the test ends, and returns its URL: for a server process of the
// test's own, which migrates it itself. Without PostgreSQL the test
// skips, or fails in CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: SWITCHBOARD_TEST_POSTGRES: %v", err)
	}
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard, DisableAutomaticPing: true})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = admin.Exec("SELECT 1").WithContext(ctx).Error
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("testdb: PostgreSQL unavailable: %v", err)
		}
		t.Skipf("testdb: PostgreSQL unavailable (set CI to make this fail): %v", err)
	}
	name := "sb_test_" + randomHex(8)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
		if sqlDB, err := admin.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	u.Path = "/" + name
	return u.String()
}

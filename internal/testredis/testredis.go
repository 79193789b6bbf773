// Package testredis gives a test the Redis at 127.0.0.1:6379 (or
// SWITCHBOARD_TEST_REDIS) under a key prefix of its own, whose keys are
// deleted when the test ends.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the Redis tests use when SWITCHBOARD_TEST_REDIS is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Open returns Redis's URL and a fresh prefix ("sbtest:<random>:") for
// the test's keys and channels. An unreachable Redis skips the test,
// unless CI is set: there it fails.
func Open(t testing.TB) (url, prefix string) {
	t.Helper()
	url = os.Getenv("SWITCHBOARD_TEST_REDIS")
	if url == "" {
		url = DefaultURL
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("testredis: SWITCHBOARD_TEST_REDIS: %v", err)
	}
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		if os.Getenv("CI") != "" {
			t.Fatalf("testredis: Redis unavailable: %v", err)
		}
		t.Skipf("testredis: Redis unavailable (set CI to make this fail): %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix = "sbtest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("testredis: clean %s*: %v", prefix, err)
		}
	})
	return url, prefix
}

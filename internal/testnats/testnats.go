// Package testnats gives tests the NATS server (with JetStream) they
// publish to: SWITCHBOARD_TEST_NATS, else the one at 127.0.0.1:4222 that
// scripts/test.sh makes sure of. Each test names a stream of its own and
// deletes it after.
package testnats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultURL is the server the tests use without SWITCHBOARD_TEST_NATS.
const DefaultURL = "nats://127.0.0.1:4222"

// URL is the server's URL. Without one answering, the test is skipped on
// a developer's machine and fails in CI (CI set).
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("SWITCHBOARD_TEST_NATS")
	if url == "" {
		url = DefaultURL
	}
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "nats://"), time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("NATS unavailable at %s: %v", url, err)
		}
		t.Skipf("NATS unavailable at %s (set CI to make this fail): %v", url, err)
	}
	conn.Close()
	return url
}

// Unique is prefix with random hex after it: a namespace or stream name
// no other test run uses.
func Unique(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// JetStream connects to url and deletes stream when the test ends.
func JetStream(t testing.TB, url, stream string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = js.DeleteStream(context.Background(), stream)
		nc.Close()
	})
	return js
}

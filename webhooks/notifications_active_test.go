package webhooks_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/webhooks"
)

// TestWriterIdleUntilRegistered: with no webhook registered anywhere the
// committer reports no streaming, so services build no stream event for
// webhooks; once one is (at start, or told), it does.
func TestWriterIdleUntilRegistered(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	w := webhooks.NewWriter(nil)
	c := database.NewCommitter(db, nil, database.CommitterOptions{Outbox: w})
	t.Cleanup(c.Close)
	if any, err := webhooks.AnyRegistered(db); err != nil || any {
		t.Fatalf("AnyRegistered on an empty database: %v, %v", any, err)
	}
	if c.Streaming() {
		t.Fatal("streaming with no webhook registered")
	}
	w.SetRegistered(true)
	if !c.Streaming() {
		t.Fatal("not streaming with a webhook registered")
	}
	if err := db.Exec(`INSERT INTO webhooks (tenant, program_id, url, secret, events, failures, created_at, updated_at)
		VALUES ('t', 'p', 'https://example.com/hook', 'sixteen-bytes-ok', '', 0, 0, 0)`).Error; err != nil {
		t.Fatal(err)
	}
	if any, err := webhooks.AnyRegistered(db); err != nil || !any {
		t.Fatalf("AnyRegistered with one webhook: %v, %v", any, err)
	}
}

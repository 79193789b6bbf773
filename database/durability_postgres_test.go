package database_test

import (
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// TestPostgresSynchronousCommit: every PostgreSQL connection, the
// Committer's and the pool's, runs with synchronous_commit on for
// durability fsync (the default) and off for os.
func TestPostgresSynchronousCommit(t *testing.T) {
	for durability, want := range map[database.Durability]string{"": "on", database.DurabilityFsync: "on", database.DurabilityOS: "off"} {
		t.Run(fmt.Sprintf("durability=%q", durability), func(t *testing.T) {
			db := testdb.OpenWith(t, "postgres", database.Options{Durability: durability})
			// A transaction holds a connection, so the query beside it
			// runs on another: each connection must have the setting.
			tx := db.Begin()
			defer tx.Rollback()
			for conn, g := range map[string]*gorm.DB{"writer": db.Writer, "pool": db.DB, "a second pool connection": tx} {
				var got string
				if err := g.Raw("SHOW synchronous_commit").Row().Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("%s: synchronous_commit = %q, want %q", conn, got, want)
				}
			}
		})
	}
}

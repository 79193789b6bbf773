package database

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// TestDurableAcksSyncTheWAL: with durability fsync, each of a run of
// sequential acknowledged commits (each waits for its ack before the next
// is submitted, as one client sending messages one at a time) syncs the
// WAL before its ack; with durability os they are acknowledged without
// one. PRAGMA synchronous on the writer says the same.
func TestDurableAcksSyncTheWAL(t *testing.T) {
	const commits = 40
	for _, tc := range []struct {
		durability  Durability
		synchronous int // PRAGMA synchronous: 2 FULL, 1 NORMAL
	}{
		{"", 2}, // the default
		{DurabilityFsync, 2},
		{DurabilityOS, 1},
	} {
		t.Run(fmt.Sprintf("durability=%q", tc.durability), func(t *testing.T) {
			db, err := OpenWith(filepath.Join(t.TempDir(), "acks.db"), testOptions(Options{Durability: tc.durability}))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			stopCheckpointer(db) // its syncs are not the commits'
			var synchronous int
			if err := db.Writer.Raw("PRAGMA synchronous").Row().Scan(&synchronous); err != nil {
				t.Fatal(err)
			}
			if synchronous != tc.synchronous {
				t.Fatalf("the writer's PRAGMA synchronous = %d, want %d", synchronous, tc.synchronous)
			}
			if err := db.Exec(`CREATE TABLE acks (n INTEGER PRIMARY KEY)`).Error; err != nil {
				t.Fatal(err)
			}
			c := NewCommitter(db, nil, CommitterOptions{})
			defer c.Close()
			insert := func(n int) Op {
				return func(tx *gorm.DB) ([]switchboard.Event, error) {
					_, err := Exec(tx, `INSERT INTO acks (n) VALUES (?)`, n)
					return nil, err
				}
			}
			if err := c.Run(context.Background(), insert(-1)); err != nil { // the WAL's start
				t.Fatal(err)
			}
			before, counted := walSyncs(db)
			for n := range commits {
				if err := c.Run(context.Background(), insert(n)); err != nil {
					t.Fatal(err)
				}
			}
			if !counted {
				t.Logf("stock SQLite: its syncs are not counted; PRAGMA synchronous = %d", synchronous)
				return
			}
			after, _ := walSyncs(db)
			syncs := after - before
			t.Logf("%d sequential acknowledged commits: %d WAL syncs", commits, syncs)
			if tc.synchronous == 2 && syncs < commits {
				t.Fatalf("%d WAL syncs for %d sequential acknowledged commits: some were acknowledged before they were on disk", syncs, commits)
			}
			if tc.synchronous == 1 && syncs >= commits/4 {
				t.Fatalf("%d WAL syncs for %d commits with durability os: the commits still sync", syncs, commits)
			}
			if tc.synchronous == 2 {
				groupShareASync(t, c, insert)
			}
		})
	}
}

// TestParseDurability: the setting's values, and a clear error for any
// other.
func TestParseDurability(t *testing.T) {
	for in, want := range map[string]Durability{"": DurabilityFsync, "fsync": DurabilityFsync, " OS ": DurabilityOS, "os": DurabilityOS} {
		if got, err := ParseDurability(in); err != nil || got != want {
			t.Errorf("ParseDurability(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"full", "normal", "off", "fsync,os"} {
		if _, err := ParseDurability(in); err == nil {
			t.Errorf("ParseDurability(%q) took it", in)
		}
	}
	if _, err := OpenWith(filepath.Join(t.TempDir(), "x.db"), testOptions(Options{Durability: "sometimes"})); err == nil {
		t.Error("OpenWith took durability \"sometimes\"")
	}
}

// groupShareASync: Ops queued together commit in batches of one sync
// each, not one sync an Op.
func groupShareASync(t *testing.T, c *Committer, insert func(int) Op) {
	t.Helper()
	const ops = 200
	before, _ := walSyncs(c.db)
	stats := c.Stats()
	done := make(chan error, ops)
	for n := range ops {
		c.Submit(insert(1000+n), func(err error) { done <- err })
	}
	for range ops {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	after, _ := walSyncs(c.db)
	batches := c.Stats().Batches - stats.Batches
	t.Logf("%d Ops queued at once: %d batches, %d WAL syncs", ops, batches, after-before)
	if after-before > batches || after-before > ops/2 {
		t.Fatalf("%d WAL syncs for %d Ops in %d batches: a batch should share one", after-before, ops, batches)
	}
}

// TestSynchronousCommitInURL: the durability's synchronous_commit
// replaces one the URL carries, and the rest of the URL stays.
func TestSynchronousCommitInURL(t *testing.T) {
	got, err := withSynchronousCommit("postgres://u:p@h:5432/db?sslmode=disable&synchronous_commit=off", DurabilityFsync)
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://u:p@h:5432/db?sslmode=disable&synchronous_commit=on"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if _, err := withSynchronousCommit("postgres://h/db?%zz", DurabilityOS); err == nil {
		t.Fatal("a malformed URL was taken")
	}
}

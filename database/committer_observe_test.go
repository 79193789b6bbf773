package database_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/database"
)

// Observe hears of every batch with its Ops, so that the batches'
// sizes add up to the Ops run, and only after the batch has committed.
func TestCommitterObservesEachBatch(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		var mu sync.Mutex
		var batches, ops int
		var took time.Duration
		var db *database.DB
		rowsSeen := -1
		observe := func(n int, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			batches, ops, took = batches+1, ops+n, took+d
			var count int64
			if err := db.Raw("SELECT COUNT(*) FROM items").Scan(&count).Error; err == nil {
				rowsSeen = int(count)
			}
		}
		db = openItems(t, dialect)
		c := database.NewCommitter(db, &journal{}, database.CommitterOptions{Observe: observe})
		t.Cleanup(c.Close)
		ch := make(chan error, 3)
		for _, v := range []string{"a", "b", "c"} {
			c.Submit(insert(v), func(err error) { ch <- err })
		}
		for range 3 {
			if err := wait(t, ch); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Run(context.Background(), insert("d")); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if ops != 4 || batches < 2 || batches > 4 || took <= 0 {
			t.Fatalf("observed %d batches of %d ops in %s, want 2 to 4 batches of 4 ops", batches, ops, took)
		}
		if rowsSeen != 4 {
			t.Fatalf("the last batch was observed with %d rows committed, want 4", rowsSeen)
		}
	})
}

package database_test

import (
	"sort"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// TestClockNumbersCommitsInCommitOrder: two nodes' Committers on one
// PostgreSQL database write one row at once, each Op adding one to it.
// The row's lock makes the value an Op read the order of its commit; the
// clock's numbers, across both nodes, follow that order exactly and leave
// no gap. Ops without events for sockets take no number.
func TestClockNumbersCommitsInCommitOrder(t *testing.T) {
	url := testdb.PostgresURL(t)
	type seen struct{ seq, n uint64 }
	var mu sync.Mutex
	var got []seen
	publisher := switchboard.PublisherFunc(func(evs []switchboard.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			got = append(got, seen{e.Seq, e.Args[0].(uint64)})
		}
	})
	var committers []*database.Committer
	for range 2 {
		db, err := database.Open(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		committers = append(committers, database.NewCommitter(db, publisher, database.CommitterOptions{Sequence: true}))
	}
	if err := committers[0].Run(t.Context(), func(tx *gorm.DB) ([]switchboard.Event, error) {
		return nil, tx.Exec(`CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0)`).Error
	}); err != nil {
		t.Fatal(err)
	}
	const each = 400
	var wg sync.WaitGroup
	for _, c := range committers {
		for i := range each {
			wg.Add(1)
			c.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
				var n uint64
				if err := database.QueryRow(tx, `UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n`).Scan(&n); err != nil {
					return nil, err
				}
				if i%5 == 0 { // no audience: not numbered
					return []switchboard.Event{{Protocol: switchboard.ProtocolStream, Name: "x", Args: []any{n}}}, nil
				}
				return []switchboard.Event{{Name: "counted", Args: []any{n}, To: []string{"room"}}}, nil
			}, func(err error) {
				if err != nil {
					t.Error(err)
				}
				wg.Done()
			})
		}
	}
	wg.Wait()
	for _, c := range committers {
		c.Close()
	}
	var numbered []seen
	for _, s := range got {
		if s.seq != 0 {
			numbered = append(numbered, s)
		}
	}
	if want := 2 * each * 4 / 5; len(numbered) != want {
		t.Fatalf("%d numbered events, want %d", len(numbered), want)
	}
	sort.Slice(numbered, func(i, j int) bool { return numbered[i].seq < numbered[j].seq })
	for i, s := range numbered {
		if s.seq != uint64(i+1) {
			t.Fatalf("number %d at place %d: a gap or a repeat", s.seq, i)
		}
		if i > 0 && s.n <= numbered[i-1].n {
			t.Fatalf("number %d committed as %d, before number %d (%d)", s.seq, s.n, numbered[i-1].seq, numbered[i-1].n)
		}
	}
	db, err := database.Open(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if last, err := db.Clock(); err != nil || last != uint64(len(numbered)) {
		t.Fatalf("clock at %d (%v), want %d", last, err, len(numbered))
	}
}

// TestCommitterRunsDeadlockLosersAgain: two nodes' Committers take the
// same two rows in opposite orders at the same time, so PostgreSQL
// detects a deadlock and aborts one of them. The loser runs again instead
// of failing its client: both Ops succeed and both increments are there.
func TestCommitterRunsDeadlockLosersAgain(t *testing.T) {
	url := testdb.PostgresURL(t)
	var committers []*database.Committer
	var dbs []*database.DB
	for range 2 {
		db, err := database.Open(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs = append(dbs, db)
		c := database.NewCommitter(db, switchboard.PublisherFunc(func([]switchboard.Event) {}), database.CommitterOptions{})
		t.Cleanup(c.Close)
		committers = append(committers, c)
	}
	if err := dbs[0].Exec("CREATE TABLE pair (id TEXT PRIMARY KEY, n INTEGER NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	if err := dbs[0].Exec("INSERT INTO pair VALUES ('a', 0), ('b', 0)").Error; err != nil {
		t.Fatal(err)
	}
	// Each Op, on its first run only, takes its first row, waits until the
	// other has taken its own, then takes the other's: a deadlock.
	var first sync.WaitGroup
	first.Add(2)
	op := func(x, y string) database.Op {
		var once sync.Once
		return func(tx *gorm.DB) ([]switchboard.Event, error) {
			if err := tx.Exec("UPDATE pair SET n = n + 1 WHERE id = ?", x).Error; err != nil {
				return nil, err
			}
			once.Do(func() { first.Done(); first.Wait() })
			return nil, tx.Exec("UPDATE pair SET n = n + 1 WHERE id = ?", y).Error
		}
	}
	errs := make(chan error, 2)
	committers[0].Submit(op("a", "b"), func(err error) { errs <- err })
	committers[1].Submit(op("b", "a"), func(err error) { errs <- err })
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatalf("an Op failed: %v (a deadlock's loser must run again)", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no outcome")
		}
	}
	var ns []int
	if err := dbs[0].Raw("SELECT n FROM pair ORDER BY id").Scan(&ns).Error; err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2 || ns[0] != 2 || ns[1] != 2 {
		t.Fatalf("rows = %v, want [2 2]", ns)
	}
}

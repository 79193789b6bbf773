package database_test

import (
	"sort"
	"sync"
	"testing"

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

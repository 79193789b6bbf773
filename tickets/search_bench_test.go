package tickets_test

import (
	"context"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/tickets"
)

// BenchmarkSearchTickets searches 5,000 tickets of 4 messages each (a
// vocabulary of 500 words, so that a word is in about 1 message in 50),
// on both databases: a page of 20 by two words, with the matches, and
// the same narrowed to one owner.
//
//	go test -run '^$' -bench SearchTickets -benchtime 200x ./tickets/
func BenchmarkSearchTickets(b *testing.B) {
	for _, dialect := range testdb.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			db := testdb.Open(b, dialect)
			c := database.NewCommitter(db, &recorder{}, database.CommitterOptions{})
			b.Cleanup(c.Close)
			svc := tickets.NewService(db, c, tickets.Options{})
			seedSearch(b, db, 5000, 4)
			op := operator("a")
			for _, q := range []tickets.TicketQuery{{Text: "w7 w13"}, {Text: "w7", User: "u-42"}} {
				b.Run(fmt.Sprintf("q=%s/user=%s", q.Text, q.User), func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						if _, _, err := svc.SearchTickets(context.Background(), op, q); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// seedSearch stores n tickets of tenant's owners u-0…u-99 with per
// messages each, in one transaction.
func seedSearch(b *testing.B, db *database.DB, n, per int) {
	b.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("t-%05d", i)
			if err := tx.Exec(`INSERT INTO tickets (id, tenant, status, owner_id, owner_name, created_at, updated_at)
				VALUES (?, ?, 100, ?, ?, ?, ?)`, id, tenant, fmt.Sprintf("u-%d", i%100), "Owner", i+1, i+1).Error; err != nil {
				return err
			}
			for j := 0; j < per; j++ {
				k := i*per + j
				text := fmt.Sprintf("hello w%d and w%d, about order %d", k%500, (k*7)%500, k)
				if err := tx.Exec(`INSERT INTO messages (id, session_id, tenant, type, content, sender_id, created_at)
					VALUES (?, ?, ?, 1, ?, 'x', ?)`, fmt.Sprintf("m-%d", k), id, tenant, text, k+1).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if db.Dialect == "postgres" {
		// As autovacuum would: the GIN index's pending entries merged
		// (otherwise every search reads them all), the statistics taken.
		if err := db.Exec(`VACUUM ANALYZE messages`).Error; err != nil {
			b.Fatal(err)
		}
	}
}

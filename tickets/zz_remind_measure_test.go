package tickets

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

func TestZZMeasureRemind(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		db := testdb.Open(t, dialect)
		const tickets, per = 2000, 10
		err := db.Transaction(func(tx *gorm.DB) error {
			for i := range tickets {
				id := fmt.Sprintf("t%05d", i)
				if err := tx.Exec(`INSERT INTO tickets (id, tenant, status, owner_id, handler_id, created_at, updated_at) VALUES (?, 'acme', 200, ?, 'bob', 1, 1)`, id, "u"+id).Error; err != nil {
					return err
				}
				for j := range per {
					sender := "u" + id
					if j%3 == 1 {
						sender = "bob"
					}
					if err := tx.Exec(`INSERT INTO messages (id, session_id, tenant, kind, type, content, sender_id, created_at) VALUES (?, ?, 'acme', 'USER', 1, 'x', ?, ?)`,
						fmt.Sprintf("%s-%d", id, j), id, sender, 1000+j).Error; err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		s := &Service{}
		for run := range 3 {
			start := time.Now()
			var n int
			err := db.Transaction(func(tx *gorm.DB) error {
				var evs []switchboard.Event
				var err error
				evs, n, err = s.Remind(tx, time.UnixMilli(10_000_000), time.Minute, AutomationBatch)
				_ = evs
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s run %d: %d reminded in %s", dialect, run, n, time.Since(start))
		}
	}
}

package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/reports"
	"github.com/switchboard-chat/switchboard/tickets"
)

// BenchmarkReport30Days reads a 30-day report over 10,000 tickets (a
// first answer each, most closed and rated): the cost of a supervisor
// opening the reports page.
//
//	go test -run '^$' -bench Report30Days ./reports/
func BenchmarkReport30Days(b *testing.B) {
	for _, dialect := range testdb.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			db := testdb.Open(b, dialect)
			start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			const n = 10000
			ts := make([]tickets.Ticket, 0, 500)
			flush := func() {
				if err := db.CreateInBatches(ts, 100).Error; err != nil {
					b.Fatal(err)
				}
				ts = ts[:0]
			}
			for i := range n {
				created := start.Add(time.Duration(i) * (30 * 24 * time.Hour / n)).UnixMilli()
				t := tickets.Ticket{ID: fmt.Sprintf("t%05d", i), Tenant: "t", OwnerID: fmt.Sprintf("u%d", i),
					HandlerID: fmt.Sprintf("op-%d", i%20), HandlerName: "Operator", Team: []string{"", "sales", "support"}[i%3],
					Status: tickets.StatusOpen, CreatedAt: created, UpdatedAt: created}
				if i%4 != 0 {
					t.Status, t.ClosedAt = tickets.StatusClosed, created+int64(i%3600)*1000
					t.RatingScore, t.RatedAt = 1+i%5, t.ClosedAt+1000
				}
				ts = append(ts, t)
				if err := db.Exec(`INSERT INTO messages (id, session_id, tenant, kind, type, content, sender_id, created_at)
					VALUES (?, ?, 't', 'USER', 1, 'hi', ?, ?)`, t.ID+"-m", t.ID, t.HandlerID, created+int64(i%600)*1000).Error; err != nil {
					b.Fatal(err)
				}
				if len(ts) == cap(ts) {
					flush()
				}
			}
			flush()
			svc := reports.NewService(db, reports.Options{})
			req := reports.Request{From: "2026-03-01", To: "2026-03-30"}
			b.ResetTimer()
			for b.Loop() {
				r, err := svc.Report(context.Background(), roles["supervisor"], req)
				if err != nil || r.FirstResponse.Count != n {
					b.Fatalf("%v, %d first responses", err, r.FirstResponse.Count)
				}
			}
		})
	}
}

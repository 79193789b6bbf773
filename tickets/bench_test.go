package tickets

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/metrics"
	"github.com/switchboard-chat/switchboard/outbox"
	"github.com/switchboard-chat/switchboard/webhooks"
)

// BenchmarkSendMessage measures what one message costs end to end through
// the write path on SQLite (authorize against the stored ticket, insert,
// commit, publish, ack), with many clients sending at once so that group
// commit can batch, against the baseline of one transaction per message.
// SWITCHBOARD_DURABILITY=os measures the faster durability (the default
// is the server's, fsync: a sync per commit); SWITCHBOARD_BENCH_OUTBOX=on
// adds the domain event stream's outbox row to every message;
// SWITCHBOARD_BENCH_WEBHOOKS=on the webhooks' writer (the ticket is no
// program's: what every change about no program pays).
//
//	go test -run '^$' -bench SendMessage -benchtime 5000x ./tickets/
func BenchmarkSendMessage(b *testing.B) {
	benchSendMessage(b, "sqlite")
	b.Run("baseline/tx-per-message", func(b *testing.B) {
		db, _, svc := benchService(b, "sqlite")
		_, _, ticket := benchTicket(b, svc)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			err := db.Transaction(func(tx *gorm.DB) error {
				_, err := chat.InsertMessage(tx, &chat.Message{ID: fmt.Sprintf("b-%d", i), SessionID: ticket, Tenant: "default",
					Kind: chat.KindUser, Type: 1, Content: "hello there", Encoding: "utf-8", SenderID: "user-1", StatusID: 1, CreatedAt: int64(i + 1)})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSendMessagePostgres is BenchmarkSendMessage on PostgreSQL
// (testdb's server), where a message's cost is mostly its statements'
// round trips and the commit's WAL flush.
//
//	go test -run '^$' -bench SendMessagePostgres -benchtime 3000x ./tickets/
func BenchmarkSendMessagePostgres(b *testing.B) {
	benchSendMessage(b, "postgres")
}

// benchSendMessage sends messages both ways on one ticket, from one
// sender and from 64 at once.
func benchSendMessage(b *testing.B, dialect string) {
	for _, senders := range []int{1, 64} {
		b.Run(fmt.Sprintf("service/senders=%d", senders), func(b *testing.B) {
			_, committer, svc := benchService(b, dialect)
			owner, handler, ticket := benchTicket(b, svc)
			var n atomic.Int64
			b.SetParallelism(senders)
			if senders == 1 {
				b.SetParallelism(1)
			}
			before := committer.Stats()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					from := owner
					if i%2 == 0 {
						from = handler
					}
					err := run(func(done database.Done) {
						svc.SendMessage(from, ticket, fmt.Sprintf("m-%d", i), MessageInput{Type: 1, Content: "hello there", Encoding: "utf-8"}, done)
					})
					if err != nil {
						b.Error(err)
					}
				}
			})
			b.StopTimer()
			after := committer.Stats()
			b.ReportMetric(float64(after.Ops-before.Ops)/float64(max(1, after.Batches-before.Batches)), "msgs/commit")
		})
	}
}

// benchService opens a fresh database of dialect (testdb: closed, and on
// PostgreSQL dropped, when the benchmark ends) with the durability
// SWITCHBOARD_DURABILITY names, as the server would, and a Service on it
// (with the outbox when SWITCHBOARD_BENCH_OUTBOX is set).
func benchService(b *testing.B, dialect string) (*database.DB, *database.Committer, *Service) {
	durability, err := database.ParseDurability(os.Getenv("SWITCHBOARD_DURABILITY"))
	if err != nil {
		b.Fatal(err)
	}
	db := testdb.OpenWith(b, dialect, database.Options{Durability: durability})
	var box database.Outbox
	if os.Getenv("SWITCHBOARD_BENCH_OUTBOX") != "" {
		box = outbox.NewWriter(outbox.WriterOptions{}) // rows written, none published
	}
	if os.Getenv("SWITCHBOARD_BENCH_WEBHOOKS") != "" {
		w := webhooks.NewWriter(nil)
		w.SetRegistered(true) // as with a webhook registered
		box = w
	}
	// The server's commit metrics, as it reports them.
	committer := database.NewCommitter(db, nil, database.CommitterOptions{Outbox: box, Observe: metrics.New().ObserveCommit})
	svc := NewService(db, committer, Options{})
	b.Cleanup(func() { svc.Close(); committer.Close() })
	return db, committer, svc
}

// benchTicket opens and accepts a ticket between user-1 and operator-1.
func benchTicket(b *testing.B, svc *Service) (owner, handler Caller, id string) {
	owner = Caller{Principal: switchboard.Principal{ID: "user-1", Role: switchboard.RoleUser, Tenant: "default"}, UserID: "user-1", Name: "User One"}
	handler = Caller{Principal: switchboard.Principal{ID: "operator-1", Role: switchboard.RoleOperator, Tenant: "default"}, UserID: "operator-1", Name: "Operator One"}
	id = "bench-ticket"
	for _, step := range []func(database.Done){
		func(d database.Done) { svc.CreateTicket(owner, id, TicketInput{TicketName: "bench"}, d) },
		func(d database.Done) { svc.AcceptTicket(handler, id, d) },
	} {
		if err := run(step); err != nil {
			b.Fatal(err)
		}
	}
	return owner, handler, id
}

// run calls a callback-style command and waits for its outcome.
func run(cmd func(database.Done)) error {
	ch := make(chan error, 1)
	cmd(func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-context.Background().Done():
		return nil
	}
}

// BenchmarkUpdateMessageStatus measures the operator's delivered receipt
// for a user's message (updateMessageStatus(id, 2)) through the write
// path on SQLite, one receipt at a time: the messages are stored before
// the timer starts.
//
//	go test -run '^$' -bench UpdateMessageStatus -benchmem ./tickets/
func BenchmarkUpdateMessageStatus(b *testing.B) {
	_, _, svc := benchService(b, "sqlite")
	owner, handler, ticket := benchTicket(b, svc)
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("s-%d", i)
		err := run(func(done database.Done) {
			svc.SendMessage(owner, ticket, ids[i], MessageInput{Type: 1, Content: "hello there", Encoding: "utf-8"}, done)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for _, id := range ids {
		if err := run(func(done database.Done) {
			svc.UpdateMessageStatus(handler, id, chat.StatusDelivered, owner.UserID, true, done)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

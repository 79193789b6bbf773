package chat_test

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// TestMessageSeqFollowsCommitOrder: two transactions, as two nodes run
// them, add a message each to one session. The second must not draw its
// seq until the first has committed, so that seq order is commit order
// within a session and the catch-up (messages after since=) misses none.
// The session's updated_at is set ahead, so that the touch of the
// session (which takes the same lock when it changes the row) does not
// do it for the insert.
func TestMessageSeqFollowsCommitOrder(t *testing.T) {
	db := testdb.Open(t, "postgres").DB
	must(t, db.Exec(`INSERT INTO chat_sessions (id, tenant, type, creator_id, created_at, updated_at) VALUES ('s1', 'acme', 'GROUP', 'u1', 1, ?)`,
		time.Now().Add(time.Hour).UnixMilli()).Error)
	msg := func(id string) *chat.Message {
		return &chat.Message{ID: id, SessionID: "s1", Tenant: "acme", Kind: chat.KindUser, Type: 1,
			SenderID: "u1", Content: id, StatusID: 1, CreatedAt: time.Now().UnixMilli()}
	}
	first := db.Begin()
	defer first.Rollback()
	a := msg("a")
	if ok, err := chat.InsertMessage(first, a); !ok || err != nil {
		t.Fatalf("InsertMessage(a) = %v, %v", ok, err)
	}
	second := make(chan *chat.Message, 1)
	go func() {
		tx := db.Begin()
		defer tx.Rollback()
		b := msg("b")
		if ok, err := chat.InsertMessage(tx, b); !ok || err != nil {
			t.Errorf("InsertMessage(b) = %v, %v", ok, err)
		}
		if err := tx.Commit().Error; err != nil {
			t.Error(err)
		}
		second <- b
	}()
	select {
	case b := <-second:
		t.Fatalf("b (seq %d) committed while a (seq %d) had not: a client that saw b would never get a", b.Seq, a.Seq)
	case <-time.After(300 * time.Millisecond):
	}
	must(t, first.Commit().Error)
	if b := <-second; b.Seq <= a.Seq {
		t.Fatalf("b committed after a with seq %d <= %d", b.Seq, a.Seq)
	}
}

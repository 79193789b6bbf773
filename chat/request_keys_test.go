package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// stored counts the messages of a session as a member sees them.
func stored(t *testing.T, svc *chat.Service, c chat.Caller, sessionID string) int64 {
	t.Helper()
	m, err := svc.ChatMessages(context.Background(), c, sessionID, chat.Page{})
	must(t, err)
	return m["count"].(int64)
}

func TestSendMsgKeyStoresOnce(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			w := newWorld(t, d)
			svc := w.open
			sess, err := svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"bob"}})
			must(t, err)
			w.rec.take()
			first, err := svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: sess.ChatSessionID, Content: "hi", Key: "k1"})
			must(t, err)
			pushed := len(w.rec.take())
			again, err := svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: sess.ChatSessionID, Content: "hi", Key: "k1"})
			must(t, err)
			if again.MsgID != first.MsgID || again.Content != "hi" || again.Sender != "ann" {
				t.Fatalf("retry answered %+v, first %+v", again, first)
			}
			if n := stored(t, svc, w.ann, sess.ChatSessionID); n != 1 {
				t.Fatalf("%d messages stored for one key", n)
			}
			if pushed == 0 || len(w.rec.take()) != 0 {
				t.Fatal("the first send pushes, the retry must not")
			}

			// Another user's same key is another message; so is no key.
			other, err := svc.SendMsg(ctx, w.bob, chat.SendMsgInput{SessionID: sess.ChatSessionID, Content: "yo", Key: "k1"})
			must(t, err)
			if other.MsgID == first.MsgID {
				t.Fatal("bob's k1 answered with ann's message")
			}
			for range 2 {
				_, err = svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: sess.ChatSessionID, Content: "no key"})
				must(t, err)
			}
			if n := stored(t, svc, w.ann, sess.ChatSessionID); n != 4 {
				t.Fatalf("%d messages, want 4", n)
			}

			// A key is the user's name for one message, in one session.
			g, err := svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"op"}})
			must(t, err)
			_, err = svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: g.ChatSessionID, Content: "hi", Key: "k1"})
			wantCode(t, "chatMsg", err, "INVALID_REQUEST")
			if n := stored(t, svc, w.ann, g.ChatSessionID); n != 0 {
				t.Fatalf("%d messages stored under a reused key", n)
			}
		})
	}
}

func TestCreateChatKeyCreatesOnce(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			w := newWorld(t, d)
			svc := w.closed
			in := chat.CreateChatInput{Members: []string{"op"}, Title: "help", Key: "s1"}
			first, err := svc.CreateChat(ctx, w.ann, in)
			must(t, err)
			again, err := svc.CreateChat(ctx, w.ann, in)
			must(t, err)
			if again.ChatSessionID != first.ChatSessionID || again.Title != "help" || len(again.Members) != 2 {
				t.Fatalf("retry answered %+v, first %+v", again, first)
			}
			l, err := svc.Sessions(ctx, w.op, chat.AgeRecent, chat.Page{}, chat.Page{})
			must(t, err)
			if l.Count != 1 {
				t.Fatalf("%d sessions for one key", l.Count)
			}
			// The same key of another user is its own.
			theirs, err := svc.CreateChat(ctx, w.bob, chat.CreateChatInput{Members: []string{"op"}, Key: "s1"})
			must(t, err)
			if theirs.ChatSessionID == first.ChatSessionID {
				t.Fatal("bob's s1 answered with ann's session")
			}
		})
	}
}

func TestWriteTimeoutIsOutcomeUnknown(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			w := newWorld(t, d)
			svc := w.open
			sess, err := svc.CreateChat(context.Background(), w.ann, chat.CreateChatInput{Members: []string{"bob"}})
			must(t, err)

			// The writer is busy with another transaction past the
			// send's deadline.
			release, busy := make(chan struct{}), make(chan struct{})
			w.committer.Submit(func(*gorm.DB) ([]switchboard.Event, error) {
				close(busy)
				<-release
				return nil, nil
			}, nil)
			<-busy
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			in := chat.SendMsgInput{SessionID: sess.ChatSessionID, Content: "hi", Key: "k1"}
			_, err = svc.SendMsg(ctx, w.ann, in)
			cancel()
			close(release)
			wantCode(t, "chatMsg", err, "OUTCOME_UNKNOWN")
			if msg := switchboard.ErrorMessage(err); !strings.Contains(msg, "clientMsgId") {
				t.Fatalf("outcome unknown reads %q", msg)
			}

			// The retry with its key stores it, once, whatever became of
			// the first.
			m, err := svc.SendMsg(context.Background(), w.ann, in)
			must(t, err)
			if again, err := svc.SendMsg(context.Background(), w.ann, in); err != nil || again.MsgID != m.MsgID {
				t.Fatalf("second retry: %v %v", again.MsgID, err)
			}
			if n := stored(t, svc, w.ann, sess.ChatSessionID); n != 1 {
				t.Fatalf("%d messages stored", n)
			}
		})
	}
}

// A key is forgotten after RequestKeyLife, and only then: the table does
// not grow without end, and a retry within the day still stores once.
func TestPruneRequestKeysForgetsOldKeysOnly(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			w := newWorld(t, d)
			svc := w.open
			sess, err := svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"bob"}})
			must(t, err)
			send := func() string {
				m, err := svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: sess.ChatSessionID, Content: "hi", Key: "k1"})
				must(t, err)
				return m.MsgID
			}
			prune := func(at time.Time) int64 {
				var n int64
				must(t, w.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
					var err error
					n, err = chat.PruneRequestKeys(tx, at)
					return nil, err
				}))
				return n
			}
			first := send()
			if n := prune(time.Now().Add(chat.RequestKeyLife - time.Minute)); n != 0 {
				t.Fatalf("pruned %d keys younger than a day", n)
			}
			if again := send(); again != first {
				t.Fatalf("a retry within the key's life stored %s, first %s", again, first)
			}
			if n := prune(time.Now().Add(chat.RequestKeyLife + time.Minute)); n != 1 {
				t.Fatalf("pruned %d keys past their life, want 1", n)
			}
			if late := send(); late == first {
				t.Fatal("a forgotten key still answered with its old message")
			}
		})
	}
}

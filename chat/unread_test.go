package chat_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// A member's stored count follows messages, a removal and a read: the
// count pushed to bob after each message equals the recount of his
// unread messages (the session list's), and its oldest message is the
// first he has not read, a removed one no longer.
func TestStoredUnreadCounts(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ann, bob := f.user(t, "acme", "ann"), f.user(t, "acme", "bob")
			c, err := f.svc.CreateChat(ctx, ann, chat.CreateChatInput{Members: []string{"bob"}, Title: "t"})
			must(t, err)
			id := c.ChatSessionID
			send := func(text string) string {
				m, err := f.svc.SendMsg(ctx, ann, chat.SendMsgInput{SessionID: id, Content: text})
				must(t, err)
				return m.MsgID
			}
			check := func(step string, count int64, oldest string) {
				t.Helper()
				var last *chat.UnreadCount
				for _, ev := range f.rec.take() {
					if ev.Name == chat.EventUnreadCount && slices.Contains(ev.To, "chat:user:acme:bob") {
						b, _ := json.Marshal(ev.Args[0])
						var w struct{ Payload chat.UnreadCount }
						must(t, json.Unmarshal(b, &w))
						last = &w.Payload
					}
				}
				if last == nil || last.Count != count || last.Total != count || last.OldestID != oldest {
					t.Fatalf("%s: pushed %+v, want %d from %q", step, last, count, oldest)
				}
				list, err := f.svc.Sessions(ctx, bob, chat.AgeRecent, chat.Page{}, chat.Page{Limit: 5})
				must(t, err)
				if list.Sessions[0].UnreadCount != count {
					t.Fatalf("%s: stored unread %d, pushed %d", step, list.Sessions[0].UnreadCount, count)
				}
			}
			m1 := send("one")
			check("first", 1, m1)
			m2 := send("two")
			m3 := send("three")
			check("third", 3, m1)
			_, err = f.svc.RemoveMsg(ctx, ann, id, m1)
			must(t, err)
			m4 := send("four")
			check("after a removal", 3, m2)
			_, err = f.svc.MarkMsgRead(ctx, bob, id, []string{m2})
			must(t, err)
			check("after a read", 2, m3)
			_, err = f.svc.SendMsg(ctx, bob, chat.SendMsgInput{SessionID: id, Content: "mine"})
			must(t, err)
			_, err = f.svc.MarkMsgRead(ctx, bob, id, []string{m3, m4})
			must(t, err)
			check("all read", 0, "")
			m5 := send("five")
			check("after all read", 1, m5)
		})
	}
}

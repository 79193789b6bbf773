package tickets_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/tickets"
)

// unreadOf is who an unread-count push of livechat is for and what it says.
type unreadOf struct {
	to    string
	count chat.LivechatUnreadCount
}

func livechatUnread(evs []switchboard.Event) []unreadOf {
	var out []unreadOf
	for _, ev := range evs {
		if ev.Protocol == switchboard.ProtocolLivechat {
			out = append(out, unreadOf{ev.To[0], ev.Args[0].(chat.LivechatUnreadCount)})
		}
	}
	return out
}

// A ticket's unread counts are pushed, in the commit that changes them,
// to whom they changed for: the owner when the accept's system message
// arrives, the new handler on accept, the recipient of a message, the
// reader of a message.
func TestUnreadCountsPushed(t *testing.T) {
	forDialects(t, func(t *testing.T, e *env) {
		u, op := user("u1"), operator("op1")
		e.create(u, "t1")
		mark := len(e.pub.unreadSince(0))
		e.accept(op, "t1")
		got := livechatUnread(e.pub.unreadSince(mark))
		if len(got) != 2 || got[0].to != uRoom("u1") || got[0].count.Count != 1 || got[0].count.Total != 1 ||
			got[1].to != uRoom("op1") || got[1].count.Count != 0 {
			t.Fatalf("accept: %+v", got)
		}

		mark = len(e.pub.unreadSince(0))
		e.ok("send", func(done database.Done) {
			e.svc.SendMessage(u, "t1", "m1", tickets.MessageInput{Type: 1, Content: "hi", Encoding: "utf-8"}, done)
		})
		got = livechatUnread(e.pub.unreadSince(mark))
		want := chat.LivechatUnreadCount{TicketID: "t1", Count: 1, Total: 1, OldestID: "m1"}
		if len(got) != 1 || got[0].to != uRoom("op1") || got[0].count != want {
			t.Fatalf("a message to op1: %+v, want %+v", got, want)
		}

		mark = len(e.pub.unreadSince(0))
		e.ok("read", func(done database.Done) { e.svc.UpdateMessageStatus(op, "m1", 3, "", false, done) })
		got = livechatUnread(e.pub.unreadSince(mark))
		want = chat.LivechatUnreadCount{TicketID: "t1"}
		if len(got) != 1 || got[0].to != uRoom("op1") || got[0].count != want {
			t.Fatalf("op1 read m1: %+v, want %+v", got, want)
		}
		chatCopies := 0
		for _, ev := range e.pub.unreadSince(mark) {
			if ev.Protocol == switchboard.ProtocolChat && ev.To[0] == switchboard.ChatUserRoom(tenant, "op1") {
				chatCopies++
			}
		}
		if chatCopies != 1 {
			t.Fatalf("the chat protocol's copy of the read's count: %d", chatCopies)
		}
	})
}

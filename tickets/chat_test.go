package tickets_test

import (
	"context"
	"slices"
	"testing"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/tickets"
)

// newCrossEnv is env with the chat service wired to the tickets, as the
// application wires them.
func newCrossEnv(t *testing.T, dialect string) (*env, *chat.Service) {
	t.Helper()
	e := newEnv(t, dialect)
	chatSvc := chat.NewService(e.db, e.c, chat.ServiceOptions{Publisher: e.pub, Now: e.clock.Now,
		Tickets: tickets.NewChatSessions(e.db, e.clock.Now)})
	e.svc = tickets.NewService(e.db, e.c, tickets.Options{Chat: chatSvc, Now: e.clock.Now})
	t.Cleanup(e.svc.Close)
	return e, chatSvc
}

func chatCaller(c tickets.Caller) chat.Caller {
	return switchboard.CallerOf(c.Principal, "chat-"+c.UserID)
}

// named lists "<event> → <rooms>" of events, to compare audiences.
func named(evs []switchboard.Event) []string {
	var out []string
	for _, ev := range evs {
		to := slices.Clone(ev.To)
		slices.Sort(to)
		out = append(out, ev.Name+" → "+joinRooms(to))
	}
	return out
}

func joinRooms(rooms []string) string {
	s := ""
	for i, r := range rooms {
		if i > 0 {
			s += ","
		}
		s += r
	}
	return s
}

func chatRoom(id string) string { return switchboard.ChatUserRoom(tenant, id) }

func TestTicketIsAChatSession(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			e, cs := newCrossEnv(t, d)
			u1, op1 := user("u1"), operator("op1")
			for _, c := range []tickets.Caller{u1, op1} {
				if err := e.do(func(done database.Done) { e.svc.EnsureUser(c.Principal, done) }); err != nil {
					t.Fatal(err)
				}
			}
			mark := len(e.pub.chatEvents())
			e.create(u1, "t1")
			if got := named(e.pub.chatEvents()[mark:]); !slices.Equal(got, []string{"chatCreated → " + chatRoom("u1")}) {
				t.Fatalf("create: chat events %v", got)
			}
			mark = len(e.pub.chatEvents())
			e.accept(op1, "t1")
			want := []string{"chatCreated → " + chatRoom("op1"), "chatMsg → " + chatRoom("op1") + "," + chatRoom("u1")}
			if got := named(e.pub.chatEvents()[mark:]); !slices.Equal(got, want) {
				t.Fatalf("accept: chat events %v, want %v", got, want)
			}

			// Listed for the owner and the handler, as a ONETOONE session.
			for _, c := range []tickets.Caller{u1, op1} {
				l, err := cs.Sessions(ctx, chatCaller(c), chat.AgeRecent, chat.Page{}, chat.Page{Limit: 5})
				if err != nil || l.Count != 1 || l.Sessions[0].ChatSessionID != "t1" || l.Sessions[0].SessionType != "ONETOONE" {
					t.Fatalf("%s's sessions: %+v, %v", c.UserID, l, err)
				}
				if len(l.Sessions[0].Members) != 2 || l.Sessions[0].Messages[0].MsgType != "SYSNOTIF" {
					t.Fatalf("%s sees %+v", c.UserID, l.Sessions[0])
				}
			}

			// A chat message in the ticket reaches the handler's livechat sockets.
			mark = e.pub.len()
			m, err := cs.SendMsg(ctx, chatCaller(u1), chat.SendMsgInput{SessionID: "t1", Content: "from chat"})
			if err != nil {
				t.Fatal(err)
			}
			lc := e.pub.since(mark)
			if len(lc) != 1 || lc[0].Name != "messageUpdated" || !slices.Contains(lc[0].To, oRoom("op1")) {
				t.Fatalf("livechat events of a chat message: %+v", lc)
			}
			if stored := e.message(m.MsgID); stored.RecipientID != "op1" || stored.Kind != chat.KindUser {
				t.Fatalf("stored %+v", stored)
			}

			// A livechat message reaches the owner's chat sockets.
			mark = len(e.pub.chatEvents())
			e.send(op1, "t1", "m-op", "from livechat")
			got := named(e.pub.chatEvents()[mark:])
			if !slices.Contains(got, "chatMsg → "+chatRoom("u1")) {
				t.Fatalf("chat events of a livechat message: %v", got)
			}

			// Reading through chat is reading through livechat.
			mark = e.pub.len()
			r, err := cs.MarkMsgRead(ctx, chatCaller(u1), "t1", []string{"m-op"})
			if err != nil || r["msgCount"] != 1 {
				t.Fatalf("markMsgRead = %+v, %v", r, err)
			}
			if e.message("m-op").StatusID != chat.StatusRead {
				t.Fatal("the ticket message is not read")
			}
			if lc := e.pub.since(mark); len(lc) != 1 || lc[0].Name != "messageStatusUpdated" || lc[0].To[0] != oRoom("op1") {
				t.Fatalf("livechat events of a chat read: %+v", lc)
			}

			// The ticket's rules hold through chat.
			_, err = cs.EditMsg(ctx, chatCaller(u1), "t1", m.MsgID, "changed")
			if code := chat.ResultCode("msgEdited", err); code != "UNAUTHORIZED" {
				t.Fatalf("editing a ticket message: %s (%v)", code, err)
			}
			_, err = cs.SetChatDetails(ctx, chatCaller(op1), "t1", strPtr("x"), nil)
			if code := chat.ResultCode("chatDetailsSet", err); code != "INVALID_REQUEST" {
				t.Fatalf("renaming a ticket: %s (%v)", code, err)
			}
			e.ok("close", func(d database.Done) { e.svc.UpdateTicketStatus(op1, "t1", tickets.StatusClosed, d) })
			_, err = cs.SendMsg(ctx, chatCaller(u1), chat.SendMsgInput{SessionID: "t1", Content: "late"})
			if code := chat.ResultCode("chatMsg", err); code != "INVALID_REQUEST" {
				t.Fatalf("writing to a closed ticket: %s (%v)", code, err)
			}

			// Livechat's own history has no system notes; chat's has them.
			ms, _, err := e.svc.Messages(ctx, u1, "t1", "", 0)
			if err != nil || len(ms) != 2 {
				t.Fatalf("livechat history: %d messages, %v", len(ms), err)
			}
			h, err := cs.ChatMessages(ctx, chatCaller(u1), "t1", chat.Page{})
			if err != nil || h["count"] != int64(4) {
				t.Fatalf("chat history: %+v, %v", h, err)
			}
		})
	}
}

func strPtr(s string) *string { return &s }

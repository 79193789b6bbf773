package app

import (
	"fmt"
	"testing"
	"time"
)

// TestClusterRTMAcrossNodes: an operator's RTM socket on node B follows
// a ticket whose user and whose operator's livechat socket are on node
// A: the accept as a bot message, the user's message with its sender's
// name, the unread count, the user's typing and a reaction's alert, all
// committed on A; the RTM read, committed on B, shows as read to the
// user on A.
func TestClusterRTMAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	opToken := a.token(t, "operator-1")
	opR := rtmDial(t, b, opToken)
	op, _ := dial(t, a, opToken)
	user, userEv := dial(t, a, a.token(t, "user-1"))
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1", "fullNm": "Ann Example"})
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketId": "t-1", "ticketNm": "Printer"})
	mustAck(t, op, "acceptTicket", "t-1", map[string]any{"ticketId": "t-1"}, "user-1")

	if ch := opR.next(t, "channel.create")["channel"].(map[string]any); ch["id"] != "t-1" || len(ch["members"].([]any)) != 2 {
		t.Fatalf("channel.create %v", ch)
	}
	bot := message(opR.next(t, "chat.postMessage"))
	content, _ := bot["content"].(map[string]any)
	if bot["message_type"] != float64(5) || content["type"] != float64(2) || content["bot_message"] != "@operator-1 accepted the ticket" {
		t.Fatalf("the accept as a bot message: %v", bot)
	}

	mustAck(t, user, "updateMessage", "t-1", "m-1", map[string]any{"content": "hello", "type": 1}, "operator-1")
	msg := message(opR.next(t, "chat.postMessage"))
	if msg["id"] != "m-1" || msg["channel_id"] != "t-1" || msg["user_id"] != "user-1" || msg["content"] != "hello" ||
		msg["display_name"] != "User One" || msg["message_type"] != float64(1) || msg["created_on_ts"] == float64(0) ||
		msg["is_edited"] != false {
		t.Fatalf("chat.postMessage %v", msg)
	}
	unread := opR.until(t, "channel.unreadCountUpdate", func(p map[string]any) bool { return p["channel_unread_count"] != float64(0) })
	if unread["channel_id"] != "t-1" || unread["channel_unread_count"] != float64(1) || unread["oldest_unread_message_id"] != "m-1" {
		t.Fatalf("channel.unreadCountUpdate %v", unread)
	}

	mustAck(t, user, "typing", "t-1", "operator-1")
	if p := opR.next(t, "chat.userTyping"); p["channel_id"] != "t-1" || p["user"].(map[string]any)["id"] != "user-1" {
		t.Fatalf("chat.userTyping %v", p)
	}

	mustAck(t, op, "updateMessage", "t-1", "from-op", map[string]any{"content": "Try turning it off and on", "type": 1}, "user-1")
	mustAck(t, user, "addReaction", "from-op", "🎉")
	al := opR.next(t, "alert.notification")
	if from, _ := al["from"].([]any); al["alert_type"] != "reaction" || al["message_id"] != "from-op" || al["channel_id"] != "t-1" ||
		len(from) != 1 || from[0].(map[string]any)["id"] != "user-1" {
		t.Fatalf("alert.notification %v", al)
	}

	opR.cmd(t, map[string]any{"command": "ws_read_notification", "channel_id": "t-1", "message_id": "m-1"})
	if got := userEv.next(t, "messageStatusUpdated"); got[0] != "m-1" || got[1] != float64(3) {
		t.Fatalf("the RTM read on B as the livechat receipt on A: %v", got)
	}
	if p := opR.until(t, "channel.unreadCountUpdate", func(p map[string]any) bool { return p["channel_id"] == "t-1" }); p["channel_unread_count"] != float64(0) {
		t.Fatalf("after the read: %v", p)
	}
}

// TestClusterRTMOrder: the user on node A and the operator on node B
// write into one ticket at once. RTM sockets of the operator on both
// nodes receive the messages in the order a livechat socket does: the
// order of the commits, whichever node made them.
func TestClusterRTMOrder(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	opTok, userTok := a.token(t, "operator-1"), a.token(t, "user-1")
	rOnA, rOnB := rtmDial(t, a, opTok), rtmDial(t, b, opTok)
	op, _ := dial(t, b, opTok)
	user, _ := dial(t, a, userTok)
	userOnB, userOnBEv := dial(t, b, userTok)
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1"})
	mustAck(t, userOnB, "subscribe", map[string]any{"userId": "user-1"})
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketId": "t-1", "ticketNm": "Race"})
	mustAck(t, op, "acceptTicket", "t-1", map[string]any{"ticketId": "t-1"}, "user-1")

	const each = 60
	send := func(s interface {
		Emit(string, ...any) error
	}, from, to string) <-chan any {
		acks := make(chan any, each)
		for i := range each {
			id := fmt.Sprintf("%s-%03d", from, i)
			if err := s.Emit("updateMessage", "t-1", id, map[string]any{"content": id, "type": 1}, to,
				func(a []any, _ error) { acks <- a[0] }); err != nil {
				t.Errorf("emit: %v", err)
			}
		}
		return acks
	}
	userAcks, opAcks := send(user, "u", "operator-1"), send(op, "o", "user-1")
	for _, acks := range []<-chan any{userAcks, opAcks} {
		for range each {
			select {
			case v := <-acks:
				if v != nil {
					t.Fatalf("updateMessage: %v", v)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("acks missing")
			}
		}
	}
	var livechat []string
	for len(livechat) < 2*each {
		select {
		case got := <-userOnBEv.of("messageUpdated"):
			livechat = append(livechat, got[0].(map[string]any)["content"].(string))
		case <-time.After(10 * time.Second):
			t.Fatalf("%d messages of %d on livechat", len(livechat), 2*each)
		}
	}
	for name, r := range map[string]*rtmClient{"A": rOnA, "B": rOnB} {
		var got []string
		for len(got) < 2*each {
			if m := message(r.next(t, "chat.postMessage")); m["message_type"] == float64(1) {
				got = append(got, m["content"].(string))
			}
		}
		for i := range got {
			if got[i] != livechat[i] {
				t.Fatalf("message %d: %s on RTM on node %s, %s on livechat\nRTM: %v\nlivechat: %v", i, got[i], name, livechat[i], got, livechat)
			}
		}
	}
}

package app

import (
	"fmt"
	"math/rand"
	"net/http"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
)

// unreadSeen is the last count each socket was pushed, per ticket, and
// the total that came with it.
type unreadSeen struct {
	count map[string]float64
	total float64
}

// TestUnreadCountsProperty: after a random sequence of sends, reads and
// take-overs over the three protocols and REST, by two end users and an
// operator with two RTM sockets, a livechat and a chat socket (and a
// second operator who takes tickets over and loses them), the counts last
// pushed to every socket of every user equal the stored unread messages
// (as the chat protocol's session list reads them), and each total is
// the sum of the user's counts.
func TestUnreadCountsProperty(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	n := startNode(t, t.TempDir())
	opToken := n.token(t, "operator-1")
	r1, r2 := rtmDial(t, n, opToken), rtmDial(t, n, opToken)
	op, opEv := livechatAs(t, n, opToken)
	opChat, opChatEv := chatAs(t, n, opToken)
	mustAck(t, op, "subscribeOperator")
	op2Token := n.token(t, "operator-2")
	op2, op2Ev := livechatAs(t, n, op2Token)
	op2Chat, op2ChatEv := chatAs(t, n, op2Token)
	mustAck(t, op2, "subscribeOperator")
	type party struct {
		id     string
		ticket string
		lc     *client.Socket
		lcEv   *events
		chat   *client.Socket
		chatEv *events
	}
	users := []*party{{id: "user-1", ticket: "t-a"}, {id: "user-2", ticket: "t-b"}}
	for _, u := range users {
		tok := n.token(t, u.id)
		u.lc, u.lcEv = livechatAs(t, n, tok)
		u.chat, u.chatEv = chatAs(t, n, tok)
		mustAck(t, u.lc, "subscribe", map[string]any{"userId": u.id})
		mustAck(t, u.lc, "createTicket", u.ticket, map[string]any{"ticketId": u.ticket})
		mustAck(t, op, "acceptTicket", u.ticket, map[string]any{"ticketId": u.ticket}, u.id)
	}
	var fromUsers []string // ids of the users' messages, for the operator's reads
	seq := 0
	newID := func() string { seq++; return fmt.Sprintf("m-%d", seq) }
	steps := []func(){
		func() { // an end user sends over livechat
			u := users[rng.Intn(2)]
			id := newID()
			mustAck(t, u.lc, "updateMessage", u.ticket, id, map[string]any{"content": id, "type": 1}, "operator-1")
			fromUsers = append(fromUsers, id)
		},
		func() { // an end user sends over the chat protocol
			u := users[rng.Intn(2)]
			p := chatPayload(t, chatRequest(t, u.chat, "sendMsg", map[string]any{"chatSessionId": u.ticket, "msg": "via chat"}))
			fromUsers = append(fromUsers, p["msgId"].(string))
		},
		func() { // the operator answers over livechat
			u := users[rng.Intn(2)]
			id := newID()
			mustAck(t, op, "updateMessage", u.ticket, id, map[string]any{"content": id, "type": 1}, u.id)
		},
		func() { // the operator answers over REST
			u := users[rng.Intn(2)]
			if status, body := rest(t, n, http.MethodPost, "/api/v1/tickets/"+u.ticket+"/messages", opToken,
				`{"content":"via REST","type":1}`); status != http.StatusCreated {
				t.Fatalf("REST send: %d %v", status, body)
			}
		},
		func() { // the operator reads one message over RTM, on either socket
			if len(fromUsers) > 0 {
				id := fromUsers[rng.Intn(len(fromUsers))]
				[]*rtmClient{r1, r2}[rng.Intn(2)].cmd(t, map[string]any{"command": "ws_read_notification",
					"channel_id": ticketOf(t, n, opToken, id), "message_id": id})
			}
		},
		func() { // the operator reads a whole ticket over RTM
			[]*rtmClient{r1, r2}[rng.Intn(2)].cmd(t, map[string]any{"command": "ws_all_read_notification",
				"channel_id": users[rng.Intn(2)].ticket})
		},
		func() { // the operator reads one message over livechat
			if len(fromUsers) > 0 {
				emitAck(t, op, "updateMessageStatus", fromUsers[rng.Intn(len(fromUsers))], 3, "", "", false)
			}
		},
		func() { // the operator reads a ticket over the chat protocol
			chatRequest(t, opChat, "markSessionRead", map[string]any{"chatSessionId": users[rng.Intn(2)].ticket})
		},
		func() { // an end user reads its ticket over the chat protocol
			u := users[rng.Intn(2)]
			chatRequest(t, u.chat, "markSessionRead", map[string]any{"chatSessionId": u.ticket})
		},
		func() { // operator-2 takes a ticket over, and operator-1 takes it back
			u := users[rng.Intn(2)]
			mustAck(t, op2, "assignTicket", map[string]any{"ticketId": u.ticket, "handleById": nil})
			mustAck(t, op, "assignTicket", map[string]any{"ticketId": u.ticket, "handleById": nil})
		},
		func() { // an end user reads everything from the operator over livechat
			u := users[rng.Intn(2)]
			emitAck(t, u.lc, "updateMessageStatus", "all", 3, "", "operator-1", false)
		},
	}
	for range 60 {
		steps[rng.Intn(len(steps))]()
	}
	// Each RTM socket runs its commands in order, each after the one
	// before committed: a reaction heard on livechat means all have.
	for i, r := range []*rtmClient{r1, r2} {
		emoji := fmt.Sprintf("barrier-%d", i)
		mustAck(t, users[0].lc, "updateMessage", "t-a", "last-"+emoji, map[string]any{"content": "x", "type": 1}, "operator-1")
		r.cmd(t, map[string]any{"command": "ws_add_reaction", "message_id": "last-" + emoji, "emoji_value": emoji})
		for {
			p := awaitEvent(t, users[0].lcEv, "messageReactionsUpdated")[0].(map[string]any)
			if p["messageId"] == "last-"+emoji {
				break
			}
		}
	}
	time.Sleep(300 * time.Millisecond) // the last pushes are on their way

	check := func(who string, stored map[string]float64, seen map[string]*unreadSeen) {
		var sum float64
		for _, c := range stored {
			sum += c
		}
		for socket, s := range seen {
			for ticket, want := range stored {
				if got, ok := s.count[ticket]; (ok || want != 0) && got != want {
					t.Errorf("%s %s: last pushed %v unread in %s, stored %v", who, socket, got, ticket, want)
				}
			}
			if len(s.count) > 0 && s.total != sum {
				t.Errorf("%s %s: last pushed total %v, stored %v", who, socket, s.total, sum)
			}
		}
	}
	opSeen := map[string]*unreadSeen{"rtm 1": drainRTM(r1), "rtm 2": drainRTM(r2),
		"livechat": drainLivechat(opEv), "chat": drainChat(opChatEv)}
	if len(opSeen["rtm 1"].count) == 0 || len(opSeen["livechat"].count) == 0 {
		t.Fatalf("the operator was pushed no counts: %+v", opSeen)
	}
	check("operator-1", storedUnread(t, opChat), opSeen)
	check("operator-2", storedUnread(t, op2Chat), map[string]*unreadSeen{"livechat": drainLivechat(op2Ev), "chat": drainChat(op2ChatEv)})
	for _, u := range users {
		check(u.id, storedUnread(t, u.chat), map[string]*unreadSeen{"livechat": drainLivechat(u.lcEv), "chat": drainChat(u.chatEv)})
	}
}

// ticketOf is the ticket of a message the operator can see.
func ticketOf(t *testing.T, n *node, token, id string) string {
	t.Helper()
	for _, ticket := range []string{"t-a", "t-b"} {
		_, body := rest(t, n, http.MethodGet, "/api/v1/tickets/"+ticket+"/messages", token, "")
		list, _ := body.([]any)
		if m, ok := body.(map[string]any); ok {
			list, _ = m["messages"].([]any)
		}
		for _, m := range list {
			if m.(map[string]any)["messageId"] == id {
				return ticket
			}
		}
	}
	t.Fatalf("message %s is in no ticket", id)
	return ""
}

// storedUnread is the unread count of each session of the chat socket's
// user, as its session list reads them from the database.
func storedUnread(t *testing.T, s *client.Socket) map[string]float64 {
	t.Helper()
	p := chatPayload(t, chatRequest(t, s, "getChatSessions", map[string]any{"offset": 0, "numOfRes": 100}))
	out := map[string]float64{}
	for _, sess := range p["sessions"].([]any) {
		m := sess.(map[string]any)
		out[m["chatSessionId"].(string)] = m["unreadCount"].(float64)
	}
	return out
}

func newSeen() *unreadSeen { return &unreadSeen{count: map[string]float64{}} }

func drainRTM(c *rtmClient) *unreadSeen {
	s := newSeen()
	for {
		select {
		case p := <-c.of("channel.unreadCountUpdate"):
			s.count[p["channel_id"].(string)] = p["channel_unread_count"].(float64)
			s.total = p["total_unread_count"].(float64)
		default:
			return s
		}
	}
}

func drainLivechat(ev *events) *unreadSeen {
	s := newSeen()
	for {
		select {
		case a := <-ev.of("unreadCountUpdated"):
			p := a[0].(map[string]any)
			s.count[p["ticketId"].(string)] = p["unreadCount"].(float64)
			s.total = p["totalUnreadCount"].(float64)
		default:
			return s
		}
	}
}

func drainChat(ev *events) *unreadSeen {
	s := newSeen()
	for {
		select {
		case a := <-ev.of("unreadCountUpdated"):
			p := a[0].(map[string]any)["payload"].(map[string]any)
			s.count[p["chatSessionId"].(string)] = p["unreadCount"].(float64)
			s.total = p["totalUnreadCount"].(float64)
		default:
			return s
		}
	}
}

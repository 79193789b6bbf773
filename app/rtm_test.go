package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rtmClient is a plain WebSocket client of the RTM endpoint: it queues
// every frame it receives by event and records how the server closed it.
type rtmClient struct {
	ws     *websocket.Conn
	mu     sync.Mutex
	ch     map[string]chan map[string]any
	closed chan *websocket.CloseError
	write  sync.Mutex
	pings  chan struct{} // a token per ping received
	mute   atomic.Bool   // set: pings go unanswered
}

// rtmConnect asks POST /api/v1/rtm/connect for a socket token with an
// access token.
func rtmConnect(t *testing.T, n *node, token string) (endpoint, wsToken string) {
	t.Helper()
	status, body := rest(t, n, http.MethodPost, "/api/v1/rtm/connect", token, "")
	m, _ := body.(map[string]any)
	if status != http.StatusOK || m["meta"].(map[string]any)["ok"] != true {
		t.Fatalf("rtm.connect: %d %v", status, body)
	}
	r := m["rtm"].(map[string]any)
	return r["ws_endpoint"].(string), r["ws_token"].(string)
}

// rtmOpen opens a WebSocket to the endpoint without authenticating.
func rtmOpen(t *testing.T, endpoint string) *rtmClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &rtmClient{ws: ws, ch: map[string]chan map[string]any{}, closed: make(chan *websocket.CloseError, 1),
		pings: make(chan struct{}, 1000)}
	t.Cleanup(func() { ws.Close() })
	ws.SetPingHandler(func(data string) error {
		select {
		case c.pings <- struct{}{}:
		default:
		}
		if c.mute.Load() {
			return nil
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) {
					ce = &websocket.CloseError{Code: websocket.CloseAbnormalClosure, Text: err.Error()}
				}
				c.closed <- ce
				return
			}
			var f map[string]any
			if err := json.Unmarshal(data, &f); err != nil {
				c.closed <- &websocket.CloseError{Code: -1, Text: "not JSON: " + string(data)}
				return
			}
			meta, _ := f["meta"].(map[string]any)
			if meta["api"] != "v1" {
				c.closed <- &websocket.CloseError{Code: -1, Text: "no meta.api v1: " + string(data)}
				return
			}
			name, _ := f["event"].(string)
			payload, _ := f["payload"].(map[string]any)
			select {
			case c.of(name) <- payload:
			default:
			}
		}
	}()
	return c
}

// rtmDial connects as the holder of token and waits for the handshake's
// last frame (user.online about itself).
func rtmDial(t *testing.T, n *node, token string) *rtmClient {
	t.Helper()
	endpoint, wsToken := rtmConnect(t, n, token)
	c := rtmOpen(t, endpoint)
	c.cmd(t, map[string]any{"command": "ws_auth", "auth_token": wsToken})
	c.next(t, "user.online")
	return c
}

func (c *rtmClient) of(event string) chan map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch[event] == nil {
		c.ch[event] = make(chan map[string]any, 1000)
	}
	return c.ch[event]
}

func (c *rtmClient) cmd(t *testing.T, v map[string]any) {
	t.Helper()
	c.write.Lock()
	defer c.write.Unlock()
	if err := c.ws.WriteJSON(v); err != nil {
		t.Fatalf("send %v: %v", v, err)
	}
}

// next returns the payload of the next frame of event.
func (c *rtmClient) next(t *testing.T, event string) map[string]any {
	t.Helper()
	select { // frames received before a close come first
	case p := <-c.of(event):
		return p
	default:
	}
	select {
	case p := <-c.of(event):
		return p
	case ce := <-c.closed:
		c.closed <- ce
		select { // frames received before the close come first
		case p := <-c.of(event):
			return p
		default:
		}
		t.Fatalf("closed (%v) while waiting for %s", ce, event)
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s frame", event)
	}
	return nil
}

// until returns the first frame of event whose payload ok accepts.
func (c *rtmClient) until(t *testing.T, event string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		if p := c.next(t, event); ok(p) {
			return p
		}
	}
}

// closedWith waits for the server to close the socket and returns how.
func (c *rtmClient) closedWith(t *testing.T, within time.Duration) *websocket.CloseError {
	t.Helper()
	select {
	case ce := <-c.closed:
		return ce
	case <-time.After(within):
		t.Fatalf("the socket was not closed within %v", within)
		return nil
	}
}

func message(p map[string]any) map[string]any { m, _ := p["message"].(map[string]any); return m }

// TestRTMFirstFrameRule: a socket whose first frame is not ws_auth, or
// that sends nothing within the grace, or an unknown command after it,
// is closed; a socket token works once and a Socket.IO client may use
// one in its handshake; an access token is no socket token.
func TestRTMFirstFrameRule(t *testing.T) {
	n := startNodeEnv(t, t.TempDir(), map[string]string{"SWITCHBOARD_AUTH_GRACE": "1s"})
	access := n.token(t, "operator-1")
	endpoint, wsToken := rtmConnect(t, n, access)
	if !strings.HasPrefix(endpoint, "ws://") || !strings.HasSuffix(endpoint, "/rtm") {
		t.Fatalf("ws_endpoint %q", endpoint)
	}

	early := rtmOpen(t, endpoint)
	early.cmd(t, map[string]any{"command": "ws_read_notification", "channel_id": "x", "message_id": "y"})
	if ce := early.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("a command before ws_auth: closed with %v", ce)
	}
	silent := rtmOpen(t, endpoint)
	if ce := silent.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("nothing sent: closed with %v", ce)
	}
	garbage := rtmOpen(t, endpoint)
	_ = garbage.ws.WriteMessage(websocket.TextMessage, []byte("hello"))
	if ce := garbage.closedWith(t, 5*time.Second); ce.Code != websocket.CloseUnsupportedData {
		t.Fatalf("not JSON: closed with %v", ce)
	}
	withAccess := rtmOpen(t, endpoint)
	withAccess.cmd(t, map[string]any{"command": "ws_auth", "auth_token": access})
	if ce := withAccess.closedWith(t, 5*time.Second); !strings.HasPrefix(ce.Text, "TOKEN_INVALID") {
		t.Fatalf("an access token in ws_auth: closed with %v", ce)
	}

	first := rtmOpen(t, endpoint)
	first.cmd(t, map[string]any{"command": "ws_auth", "auth_token": wsToken})
	if me := first.next(t, "user.online")["user"].(map[string]any); me["id"] != "operator-1" || me["online_status"] != true {
		t.Fatalf("user.online %v", me)
	}
	reused := rtmOpen(t, endpoint)
	reused.cmd(t, map[string]any{"command": "ws_auth", "auth_token": wsToken})
	if ce := reused.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation || !strings.HasPrefix(ce.Text, "TOKEN_INVALID") {
		t.Fatalf("a reused ws_token: closed with %v", ce)
	}
	first.cmd(t, map[string]any{"command": "ws_auth", "auth_token": wsToken})
	if ce := first.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("a second ws_auth: closed with %v", ce)
	}
	other := rtmDial(t, n, access)
	other.cmd(t, map[string]any{"command": "ws_dance"})
	if ce := other.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "unknown command") {
		t.Fatalf("an unknown command: closed with %v", ce)
	}

	// Both Socket.IO protocols take a socket token once.
	_, sioToken := rtmConnect(t, n, access)
	lc, lcEv := sockConnect(t, n, "", map[string]any{"accessToken": sioToken})
	if p := awaitEvent(t, lcEv, "authenticated")[0].(map[string]any); p["userId"] != "operator-1" {
		t.Fatalf("livechat with a socket token: %v", p)
	}
	lc.Disconnect()
	_, lcEv2 := sockConnect(t, n, "", map[string]any{"accessToken": sioToken})
	if p := awaitEvent(t, lcEv2, "unauthenticated")[0].(map[string]any); p["code"] != "TOKEN_INVALID" {
		t.Fatalf("livechat with a used socket token: %v", p)
	}
	_, chatToken := rtmConnect(t, n, access)
	chatAs(t, n, chatToken) // fails unless clientReady takes it
}

// TestRTMTicketAcrossProtocols: a ticket seen by an RTM client (its
// handler) while the end user speaks livechat. The ticket arrives as
// channel.create, its accept as a bot message, the user's message as
// chat.postMessage with the unread count; the RTM client's reads show as
// read to the livechat sender; its typing and reactions reach livechat,
// and the user's reactions reach RTM.
func TestRTMTicketAcrossProtocols(t *testing.T) {
	n := startNode(t, t.TempDir())
	opToken := n.token(t, "operator-1")
	opR := rtmDial(t, n, opToken)
	op, _ := livechatAs(t, n, opToken)
	user, userEv := livechatAs(t, n, n.token(t, "user-1"))
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1"})
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketId": "t-1", "ticketNm": "Printer"})
	mustAck(t, op, "acceptTicket", "t-1", map[string]any{"ticketId": "t-1"}, "user-1")

	ch := opR.next(t, "channel.create")["channel"].(map[string]any)
	if ch["id"] != "t-1" || len(ch["members"].([]any)) != 2 {
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
		msg["message_type"] != float64(1) || msg["created_on_ts"] == float64(0) {
		t.Fatalf("chat.postMessage %v", msg)
	}
	unread := opR.until(t, "channel.unreadCountUpdate", func(p map[string]any) bool { return p["channel_unread_count"] != float64(0) })
	if unread["channel_id"] != "t-1" || unread["channel_unread_count"] != float64(1) || unread["total_unread_count"] != float64(1) ||
		unread["oldest_unread_message_id"] != "m-1" {
		t.Fatalf("channel.unreadCountUpdate %v", unread)
	}

	opR.cmd(t, map[string]any{"command": "ws_read_notification", "channel_id": "t-1", "message_id": "m-1"})
	if got := userEv.next(t, "messageStatusUpdated"); got[0] != "m-1" || got[1] != float64(3) {
		t.Fatalf("the RTM read as livechat's receipt: %v", got)
	}
	if p := opR.next(t, "channel.unreadCountUpdate"); p["channel_unread_count"] != float64(0) || p["total_unread_count"] != float64(0) {
		t.Fatalf("after the read: %v", p)
	}

	opR.cmd(t, map[string]any{"command": "ws_ephemeral_typing", "channel_id": "t-1"})
	if got := userEv.next(t, "typing"); got[0] != "t-1" {
		t.Fatalf("typing %v", got)
	}

	opR.cmd(t, map[string]any{"command": "ws_add_reaction", "message_id": "m-1", "emoji_value": "U 1F600"})
	reacted := userEv.next(t, "messageReactionsUpdated")[0].(map[string]any)
	rs := reacted["reactions"].([]any)
	if reacted["ticketId"] != "t-1" || reacted["messageId"] != "m-1" || len(rs) != 1 ||
		rs[0].(map[string]any)["userId"] != "operator-1" || rs[0].(map[string]any)["emoji"] != "U 1F600" {
		t.Fatalf("messageReactionsUpdated %v", reacted)
	}
	up := message(opR.next(t, "chat.updateMessage"))
	if emo := up["emoticons"].([]any); up["id"] != "m-1" || len(emo) != 1 || emo[0].(map[string]any)["uid"] != "operator-1" ||
		emo[0].(map[string]any)["ev"] != "U 1F600" {
		t.Fatalf("chat.updateMessage after ws_add_reaction: %v", up)
	}
	mustAck(t, user, "addReaction", "m-1", "👍")
	up = message(opR.next(t, "chat.updateMessage"))
	if emo := up["emoticons"].([]any); len(emo) != 2 || emo[1].(map[string]any)["uid"] != "user-1" {
		t.Fatalf("chat.updateMessage after livechat addReaction: %v", up)
	}
	mustAck(t, user, "addReaction", "m-1", "👍") // one per user per emoji: no change, no push
	opR.cmd(t, map[string]any{"command": "ws_remove_reaction", "message_id": "m-1", "emoji_value": "U 1F600"})
	up = message(opR.next(t, "chat.updateMessage"))
	if emo := up["emoticons"].([]any); len(emo) != 1 || emo[0].(map[string]any)["uid"] != "user-1" {
		t.Fatalf("chat.updateMessage after ws_remove_reaction: %v", up)
	}
	_, history := rest(t, n, http.MethodGet, "/api/v1/tickets/t-1/messages", n.token(t, "user-1"), "")
	first := history.([]any)[0].(map[string]any)
	if rs, _ := first["reactions"].([]any); first["messageId"] != "m-1" || len(rs) != 1 || rs[0].(map[string]any)["emoji"] != "👍" {
		t.Fatalf("the history's reactions: %v", first)
	}
	if v := emitAck(t, user, "addReaction", "nope", "👍"); v == nil || v.(map[string]any)["code"] != "NOT_FOUND" {
		t.Fatalf("a reaction to an unknown message: %v", v)
	}
	opR.cmd(t, map[string]any{"command": "ws_add_reaction", "message_id": "m-1"})
	if e := opR.next(t, "error"); e["command"] != "ws_add_reaction" || e["code"] != "INVALID_REQUEST" {
		t.Fatalf("a reaction without emoji_value: %v", e)
	}

	for _, id := range []string{"m-2", "m-3"} {
		mustAck(t, user, "updateMessage", "t-1", id, map[string]any{"content": id, "type": 1}, "operator-1")
	}
	opR.until(t, "channel.unreadCountUpdate", func(p map[string]any) bool { return p["channel_unread_count"] == float64(2) })
	opR.cmd(t, map[string]any{"command": "ws_all_read_notification", "channel_id": "t-1"})
	for _, id := range []string{"m-2", "m-3"} {
		if got := userEv.next(t, "messageStatusUpdated"); got[0] != id || got[1] != float64(3) {
			t.Fatalf("ws_all_read_notification as livechat receipts: %v", got)
		}
	}
	if p := opR.next(t, "channel.unreadCountUpdate"); p["channel_unread_count"] != float64(0) {
		t.Fatalf("after ws_all_read_notification: %v", p)
	}
}

// TestRTMChatSessionEvents: a chat session seen by an RTM client while
// the other members speak the chat protocol: every channel, message,
// member, typing and presence event of the source.
func TestRTMChatSessionEvents(t *testing.T) {
	n := startNode(t, t.TempDir())
	op1 := n.token(t, "operator-1")
	r := rtmDial(t, n, op1)
	own, _ := chatAs(t, n, op1) // operator-1's own chat socket
	two, _ := chatAs(t, n, n.token(t, "operator-2"))
	three, _ := chatAs(t, n, n.token(t, "operator-3"))

	created := chatPayload(t, chatRequest(t, two, "createChat", map[string]any{"members": []any{"operator-1"}, "title": "Night shift", "sesType": "ONETOMANY"}))
	id := created["chatSessionId"].(string)
	if ch := r.next(t, "channel.create")["channel"].(map[string]any); ch["id"] != id || ch["channel_name"] != "Night shift" {
		t.Fatalf("channel.create %v", ch)
	}
	sent := chatPayload(t, chatRequest(t, two, "sendMsg", map[string]any{"chatSessionId": id, "msg": "hi all"}))
	msgID := sent["msgId"].(string)
	if m := message(r.next(t, "chat.postMessage")); m["id"] != msgID || m["content"] != "hi all" || m["user_id"] != "operator-2" {
		t.Fatalf("chat.postMessage %v", m)
	}
	if p := r.next(t, "channel.unreadCountUpdate"); p["channel_id"] != id || p["channel_unread_count"] != float64(1) {
		t.Fatalf("channel.unreadCountUpdate %v", p)
	}
	chatPayload(t, chatRequest(t, two, "editMsg", map[string]any{"chatSessionId": id, "msgId": msgID, "msg": "hi everyone"}))
	if m := message(r.next(t, "chat.updateMessage")); m["id"] != msgID || m["content"] != "hi everyone" || m["is_edited"] != true {
		t.Fatalf("chat.updateMessage %v", m)
	}
	chatPayload(t, chatRequest(t, two, "removeMsg", map[string]any{"chatSessionId": id, "msgId": msgID}))
	if p := r.next(t, "chat.deleteMessage"); p["message_id"] != msgID || p["channel_id"] != id {
		t.Fatalf("chat.deleteMessage %v", p)
	}
	chatPayload(t, chatRequest(t, two, "setChatDetails", map[string]any{"chatSessionId": id, "title": "Day shift"}))
	if ch := r.next(t, "channel.update")["channel"].(map[string]any); ch["channel_name"] != "Day shift" {
		t.Fatalf("channel.update %v", ch)
	}
	chatPayload(t, chatRequest(t, two, "addMembers", map[string]any{"chatSessionId": id, "members": []any{"operator-3"}}))
	if p := r.next(t, "user_added.channel"); p["channel_id"] != id || p["user"].(map[string]any)["id"] != "operator-3" {
		t.Fatalf("user_added.channel %v", p)
	}
	chatPayload(t, chatRequest(t, three, "leaveChat", map[string]any{"chatSessionId": id}))
	if p := r.next(t, "user_removed.channel"); p["removed_user_id"] != "operator-3" || p["channel_id"] != id {
		t.Fatalf("user_removed.channel %v", p)
	}
	chatPayload(t, chatRequest(t, two, "sendUserAction", map[string]any{"chatSessionId": id, "action": "TYPING"}))
	if p := r.next(t, "chat.userTyping"); p["channel_id"] != id || p["user"].(map[string]any)["id"] != "operator-2" {
		t.Fatalf("chat.userTyping %v", p)
	}
	chatPayload(t, chatRequest(t, two, "setStatus", map[string]any{"status": "BUSY", "statusMsg": "lunch"}))
	if p := r.next(t, "user.profileUpdate"); p["user"].(map[string]any)["id"] != "operator-2" {
		t.Fatalf("user.profileUpdate %v", p)
	}
	two.Disconnect()
	if p := r.until(t, "user.offline", func(p map[string]any) bool { return p["user"].(map[string]any)["id"] == "operator-2" }); p["user"].(map[string]any)["online_status"] != false {
		t.Fatalf("user.offline %v", p)
	}
	chatAs(t, n, n.token(t, "operator-2"))
	r.until(t, "user.online", func(p map[string]any) bool { return p["user"].(map[string]any)["id"] == "operator-2" })
	chatPayload(t, chatRequest(t, own, "leaveChat", map[string]any{"chatSessionId": id}))
	if p := r.next(t, "channel.remove"); p["channel_id"] != id {
		t.Fatalf("channel.remove %v", p)
	}
}

// TestBotMessages: the ticket life cycle's system messages are bot
// messages on RTM, and a program posts bot messages into its users'
// tickets over REST, which every protocol shows as such.
func TestBotMessages(t *testing.T) {
	n := startNode(t, t.TempDir())
	opToken, progToken := n.token(t, "operator-1"), n.token(t, "program-42")
	opR := rtmDial(t, n, opToken)
	op, opEv := livechatAs(t, n, opToken)
	prog, progEv := livechatAs(t, n, progToken)
	mustAck(t, op, "subscribeOperator")
	mustAck(t, prog, "subscribe", map[string]any{"userId": "42", "programId": "program-42"})
	mustAck(t, prog, "createTicket", "pt-1", map[string]any{"ticketId": "pt-1"})
	mustAck(t, op, "acceptTicket", "pt-1", map[string]any{"ticketId": "pt-1"}, "")
	mustAck(t, op, "updateTicketStatus", "pt-1", map[string]any{}, 10000, "")
	mustAck(t, op, "updateTicketStatus", "pt-1", map[string]any{}, 200, "")
	for _, want := range []struct {
		botType float64
		text    string
	}{{2, "@operator-1 accepted the ticket"}, {3, "@operator-1 closed the ticket"}, {2, "@operator-1 reopened the ticket"}} {
		m := message(opR.next(t, "chat.postMessage"))
		c, _ := m["content"].(map[string]any)
		if m["message_type"] != float64(5) || c["type"] != want.botType || c["bot_message"] != want.text {
			t.Fatalf("system message as a bot message: %v, want %v", m, want)
		}
	}

	body := `{"messageId":"bot-1","type":7,"botMessage":"@operator-1 your parcel left the warehouse"}`
	status, out := rest(t, n, http.MethodPost, "/api/v1/tickets/pt-1/bot-messages", progToken, body)
	if got := out.(map[string]any); status != http.StatusCreated || got["type"] != float64(5) || got["senderId"] != "program-42" {
		t.Fatalf("bot message: %d %v", status, out)
	}
	m := message(opR.next(t, "chat.postMessage"))
	if c, _ := m["content"].(map[string]any); m["message_type"] != float64(5) || c["type"] != float64(7) ||
		c["bot_message"] != "@operator-1 your parcel left the warehouse" || m["user_id"] != "program-42" {
		t.Fatalf("the program's bot message on RTM: %v", m)
	}
	for _, ev := range []*events{opEv, progEv} {
		for {
			got := awaitEvent(t, ev, "messageUpdated")[0].(map[string]any)
			if got["messageId"] == "bot-1" {
				if got["type"] != float64(5) || got["content"] != "@operator-1 your parcel left the warehouse" {
					t.Fatalf("livechat messageUpdated %v", got)
				}
				break
			}
		}
	}
	if status, _ := rest(t, n, http.MethodPost, "/api/v1/tickets/pt-1/bot-messages", progToken, body); status != http.StatusOK {
		t.Fatalf("a retry: %d, want 200", status)
	}
	for who, want := range map[string]int{"operator-1": http.StatusForbidden, "program-7": http.StatusNotFound} {
		if status, out := rest(t, n, http.MethodPost, "/api/v1/tickets/pt-1/bot-messages", n.token(t, who),
			`{"botMessage":"hi"}`); status != want {
			t.Fatalf("%s: %d %v, want %d", who, status, out, want)
		}
	}
	if status, _ := rest(t, n, http.MethodPost, "/api/v1/tickets/pt-1/bot-messages", progToken, `{"botMessage":"x","type":0}`); status != http.StatusBadRequest {
		t.Fatalf("type 0: %d, want 400", status)
	}
}

// TestRTMPingPong: the server pings every interval; a client that
// answers stays, one that does not is closed.
func TestRTMPingPong(t *testing.T) {
	n := startNodeEnv(t, t.TempDir(), map[string]string{"SWITCHBOARD_RTM_PING_INTERVAL": "300ms"})
	token := n.token(t, "operator-1")
	alive := rtmDial(t, n, token)
	mute := rtmDial(t, n, token)
	mute.mute.Store(true)
	if ce := mute.closedWith(t, 5*time.Second); ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "pong") {
		t.Fatalf("no pong: closed with %v", ce)
	}
	for range 4 {
		select {
		case <-alive.pings:
		case <-time.After(5 * time.Second):
			t.Fatal("no ping")
		}
	}
	select {
	case ce := <-alive.closed:
		t.Fatalf("a client that pongs was closed: %v", ce)
	default:
	}
}

// TestReactionAlerts: a reaction to an operator's ticket message alerts
// that operator (RTM alert.notification, livechat alert, REST list); a
// reaction to one's own message, to an end user's message or a removal
// alerts no one.
func TestReactionAlerts(t *testing.T) {
	n := startNode(t, t.TempDir())
	opToken := n.token(t, "operator-1")
	opR := rtmDial(t, n, opToken)
	op, opEv := livechatAs(t, n, opToken)
	user, _ := livechatAs(t, n, n.token(t, "user-1"))
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1"})
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketId": "t-1"})
	mustAck(t, op, "acceptTicket", "t-1", map[string]any{"ticketId": "t-1"}, "user-1")
	mustAck(t, op, "updateMessage", "t-1", "from-op", map[string]any{"content": "Try turning it off and on", "type": 1}, "user-1")
	mustAck(t, user, "updateMessage", "t-1", "from-user", map[string]any{"content": "ok", "type": 1}, "operator-1")

	mustAck(t, op, "addReaction", "from-op", "👍")   // one's own message
	mustAck(t, op, "addReaction", "from-user", "👍") // an end user's message
	mustAck(t, user, "addReaction", "from-op", "🎉")
	a := opR.next(t, "alert.notification")
	from, _ := a["from"].([]any)
	if a["alert_type"] != "reaction" || a["message_id"] != "from-op" || a["channel_id"] != "t-1" || len(from) != 1 ||
		from[0].(map[string]any)["id"] != "user-1" || !strings.HasPrefix(a["alert_text"].(string), "🎉") || a["is_read"] != false {
		t.Fatalf("alert.notification %v", a)
	}
	if got := awaitEvent(t, opEv, "alert")[0].(map[string]any); got["kind"] != "reaction" || got["messageId"] != "from-op" {
		t.Fatalf("livechat alert %v", got)
	}
	mustAck(t, user, "removeReaction", "from-op", "🎉")
	_, body := rest(t, n, http.MethodGet, "/api/v1/alerts", opToken, "")
	items, _ := body.(map[string]any)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["kind"] != "reaction" {
		t.Fatalf("operator-1's alerts: %v", body)
	}
}

// TestRTMLimits: RTM commands count against the principal's event bucket
// shared with the Socket.IO protocols (refused: an error frame
// RATE_LIMITED; refused again and again: closed), and a frame over the
// size limit closes the socket that sent it.
func TestRTMLimits(t *testing.T) {
	n := startLimitedNode(t, func(l *Limits) { l.EventBurst, l.EventRate, l.AbuseRefusals = 3, 1, 5 })
	token := n.token(t, "operator-1")
	r := rtmDial(t, n, token)
	for range 12 { // the server may close the socket before the last ones are written
		_ = r.ws.WriteJSON(map[string]any{"command": "ws_all_read_notification", "channel_id": "none"})
	}
	limited := r.until(t, "error", func(p map[string]any) bool { return p["code"] == "RATE_LIMITED" })
	if limited["command"] != "ws_all_read_notification" {
		t.Fatalf("error frame %v", limited)
	}
	if ce := r.closedWith(t, 10*time.Second); ce.Code != websocket.ClosePolicyViolation || !strings.HasPrefix(ce.Text, "RATE_LIMITED") {
		t.Fatalf("a flood: closed with %v", ce)
	}

	big := rtmDial(t, n, n.token(t, "operator-2"))
	_ = big.ws.WriteMessage(websocket.TextMessage, []byte(`{"command":"ws_ephemeral_typing","channel_id":"`+strings.Repeat("x", 100<<10)+`"}`))
	if ce := big.closedWith(t, 5*time.Second); ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("a 100 KiB frame: closed with %v", ce)
	}
}

package rtm

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// The RTM wire (docs/rtm.md), exactly as the AirSend realtime document
// has it: every server frame is {meta:{api:"v1"}, event, payload}; a
// ticket or chat session is a channel, a Switchboard user (end user,
// operator, program) a user. Ids stay Switchboard's strings.

// frame is one server frame.
type frame struct {
	Meta    frameMeta `json:"meta"`
	Event   string    `json:"event"`
	Payload any       `json:"payload"`
}

type frameMeta struct {
	API string `json:"api"`
}

func newFrame(event string, payload any) frame {
	return frame{Meta: frameMeta{API: "v1"}, Event: event, Payload: payload}
}

// sourceTime is the source's "2019-10-17 16:44:32" (UTC).
const sourceTime = "2006-01-02 15:04:05"

func onTime(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(sourceTime)
}

// chatMillis reads a chat-protocol time back ("" is 0).
func chatMillis(s string) int64 {
	t, err := time.Parse(chat.TimeFormat, s)
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

// Message types of the wire: 1 a person's message, 5 a bot message.
const (
	messageTypeText = 1
	messageTypeBot  = 5
)

// message is the source's message object.
type message struct {
	ID            string     `json:"id"`
	UserID        string     `json:"user_id"`
	ChannelID     string     `json:"channel_id"`
	DisplayName   string     `json:"display_name"`
	Attachments   []any      `json:"attachments"`
	MessageType   int        `json:"message_type"`
	IsEdited      bool       `json:"is_edited"`
	ParentMessage []any      `json:"parent_message"`
	Emoticons     []emoticon `json:"emoticons"`
	CreatedOn     string     `json:"created_on"`
	CreatedOnTS   int64      `json:"created_on_ts"`
	Content       any        `json:"content"`
	ReadUserCount string     `json:"read_user_count"`
	ReadUsers     []any      `json:"read_users"`
}

// emoticon is one reaction: who (uid, dn) reacted with what (ev).
type emoticon struct {
	UID string `json:"uid"`
	DN  string `json:"dn"`
	EV  string `json:"ev"`
}

// botContent is a bot message's content: its type and its text with
// @-references (@<user id>) the client resolves to names.
type botContent struct {
	Type       int    `json:"type"`
	BotMessage string `json:"bot_message"`
}

// Bot message types: 1 and 2 are the source's; the rest Switchboard's.
const (
	BotFile          = 1               // a file was added or updated
	BotUserAdded     = 2               // someone joined the channel (accepted, assigned, took over, reopened)
	BotStatusChanged = 3               // the ticket was closed, rejected, declined, escalated
	BotProgram       = chat.BotProgram // a program's own bot message naming no type
)

// botTypes maps the ticket actions of system notifications to bot types.
var botTypes = map[string]int{
	"accept": BotUserAdded, "assign": BotUserAdded, "hijack": BotUserAdded, "transfer": BotUserAdded,
	"reopen": BotUserAdded, "addMembers": BotUserAdded,
}

// messageOf is m in the source's shape. A system notification is a bot
// message: its text with the actor's name replaced by @<actor id>. A
// program's bot message (chat.BotContent) keeps its own type and text.
func messageOf(m chat.Message) message {
	out := message{ID: m.ID, UserID: m.SenderID, ChannelID: m.SessionID, DisplayName: m.SenderName,
		Attachments: []any{}, MessageType: messageTypeText, IsEdited: m.EditedAt != 0, ParentMessage: []any{},
		Emoticons: []emoticon{}, CreatedOn: onTime(m.CreatedAt), CreatedOnTS: m.CreatedAt / 1000,
		Content: m.Content, ReadUserCount: "0", ReadUsers: []any{}}
	if m.RemovedAt != 0 {
		out.Content = ""
	}
	if _, _, bot := chat.BotContent(m); bot || m.Kind == chat.KindSysNotif {
		out.MessageType = messageTypeBot
		out.Content = botOf(m)
	}
	return out
}

func botOf(m chat.Message) botContent {
	if t, text, ok := chat.BotContent(m); ok {
		return botContent{Type: t, BotMessage: text}
	}
	event := chat.NotificationEvent(m)
	t, ok := botTypes[event]
	if !ok {
		t = BotStatusChanged
	}
	text := m.Content
	for _, actor := range []string{m.SenderName, m.SenderID} {
		if rest, ok := strings.CutPrefix(text, actor); ok && actor != "" {
			text = "@" + m.SenderID + rest
			break
		}
	}
	return botContent{Type: t, BotMessage: text}
}

// user is the source's user object.
type user struct {
	ID             string `json:"id"`
	Email          string `json:"email"`
	DisplayName    string `json:"display_name"`
	LastActiveOn   string `json:"last_active_on"`
	OnlineStatus   bool   `json:"online_status"`
	LastActiveOnTS int64  `json:"last_active_on_ts"`
	HasAvatar      bool   `json:"has_avatar"`
}

func userOf(d chat.UserDetails) user {
	seen := chatMillis(d.LastSeen)
	return user{ID: d.Username, DisplayName: d.FullName, LastActiveOn: onTime(seen), OnlineStatus: d.Online,
		LastActiveOnTS: seen / 1000, HasAvatar: d.AvatarURL != ""}
}

// channel is the source's channel object.
type channel struct {
	ID             string `json:"id"`
	ChannelName    string `json:"channel_name"`
	ChannelDesc    string `json:"channel_desc"`
	ChannelType    string `json:"channel_type"`
	CreatedBy      string `json:"created_by"`
	CreatedOn      string `json:"created_on"`
	CreatedOnTS    int64  `json:"created_on_ts"`
	LastActiveOn   string `json:"last_active_on"`
	LastActiveOnTS int64  `json:"last_active_on_ts"`
	LatestMessage  any    `json:"latest_message"`
	Members        []user `json:"members"`
}

func channelOf(b chat.SessionBasic) channel {
	created, active := chatMillis(b.CreatedTS), chatMillis(b.LastUpdatedTS)
	members := make([]user, len(b.Members))
	for i, m := range b.Members {
		members[i] = userOf(m)
	}
	return channel{ID: b.ChatSessionID, ChannelName: b.Title, ChannelDesc: b.Desc, ChannelType: b.SessionType,
		CreatedBy: b.Creator, CreatedOn: onTime(created), CreatedOnTS: created / 1000, LastActiveOn: onTime(active),
		LastActiveOnTS: active / 1000, Members: members}
}

// payloadOf decodes the payload of a chat-protocol event's body into v.
func payloadOf(ev switchboard.Event, v any) bool {
	var body struct {
		Payload json.RawMessage `json:"payload"`
	}
	return argOf(ev, &body) && json.Unmarshal(body.Payload, v) == nil
}

// argOf decodes the JSON of ev's one argument into v.
func argOf(ev switchboard.Event, v any) bool {
	if len(ev.Args) != 1 {
		return false
	}
	b, err := json.Marshal(ev.Args[0])
	return err == nil && json.Unmarshal(b, v) == nil
}

// framesOf translates one chat-protocol event into the RTM frames that
// tell the same, as viewer (the receiving socket's user) sees them. The
// events RTM has no word for (the answers to another socket's commands)
// give none.
func framesOf(ev switchboard.Event, viewer string) []frame {
	switch ev.Name {
	case "chatMsg", "msgEdited":
		m, ok := chat.EventMessage(ev)
		if !ok {
			return reactionFrames(ev)
		}
		name := "chat.postMessage"
		if ev.Name == "msgEdited" {
			name = "chat.updateMessage"
		}
		return []frame{newFrame(name, map[string]any{"message": messageOf(m)})}
	case "msgRemoved":
		m, ok := chat.EventMessage(ev)
		if !ok {
			return nil
		}
		return []frame{newFrame("chat.deleteMessage", map[string]any{"message_id": m.ID, "channel_id": m.SessionID})}
	case "msgMarkedRead":
		return readFrames(ev)
	case "chatCreated":
		var b chat.SessionBasic
		if !payloadOf(ev, &b) {
			return nil
		}
		return []frame{newFrame("channel.create", map[string]any{"channel": channelOf(b)})}
	case "chatDetailsSet":
		// The details that changed: the client refreshes the rest.
		var p struct {
			ID    string `json:"chatSessionId"`
			Title string `json:"title"`
			Desc  string `json:"desc"`
		}
		if !payloadOf(ev, &p) {
			return nil
		}
		return []frame{newFrame("channel.update", map[string]any{"channel": channelOf(chat.SessionBasic{
			ChatSessionID: p.ID, Title: p.Title, Desc: p.Desc})})}
	case "membersAdded":
		return membersAddedFrames(ev)
	case "chatLeft":
		return leftFrames(ev, viewer)
	case "userAction":
		return typingFrames(ev)
	case "userOnline", "userDisconnected", "statusChanged", "userDetailsUpdated":
		return userFrames(ev)
	case chat.EventUnreadCount:
		var u chat.UnreadCount
		if !payloadOf(ev, &u) {
			return nil
		}
		return []frame{newFrame("channel.unreadCountUpdate", map[string]any{"total_unread_count": u.Total,
			"channel_id": u.SessionID, "channel_unread_count": u.Count, "oldest_unread_message_id": u.OldestID})}
	}
	return nil
}

func membersAddedFrames(ev switchboard.Event) []frame {
	var p struct {
		Session chat.SessionBasic `json:"session"`
		Added   []string          `json:"added"`
	}
	if !payloadOf(ev, &p) {
		return nil
	}
	byID := map[string]chat.UserDetails{}
	for _, m := range p.Session.Members {
		byID[m.Username] = m
	}
	out := make([]frame, 0, len(p.Added)+1)
	for _, id := range p.Added {
		d, ok := byID[id]
		if !ok {
			d = chat.UserDetails{Username: id}
		}
		out = append(out, newFrame("user_added.channel", map[string]any{"channel_id": p.Session.ChatSessionID, "user": userOf(d)}))
	}
	return append(out, newFrame("channel.update", map[string]any{"channel": channelOf(p.Session)}))
}

// leftFrames: the members hear user_removed.channel; the one who left
// (its other sockets) hears channel.remove, the channel being gone for it.
func leftFrames(ev switchboard.Event, viewer string) []frame {
	var p struct {
		Session chat.SessionBasic `json:"session"`
	}
	if !payloadOf(ev, &p) || p.Session.UserThatLeftForLast == nil {
		return nil
	}
	left := p.Session.UserThatLeftForLast.Username
	if left == viewer {
		return []frame{newFrame("channel.remove", map[string]any{"channel_id": p.Session.ChatSessionID})}
	}
	return []frame{newFrame("user_removed.channel", map[string]any{"removed_user_id": left,
		"removed_by_user_id": left, "channel_id": p.Session.ChatSessionID})}
}

func typingFrames(ev switchboard.Event) []frame {
	var p struct {
		Username      string `json:"username"`
		ChatSessionID string `json:"chatSessionId"`
		Action        string `json:"action"`
	}
	if !payloadOf(ev, &p) || p.Action != chat.ActionTyping {
		return nil
	}
	return []frame{newFrame("chat.userTyping", map[string]any{"channel_id": p.ChatSessionID,
		"user": user{ID: p.Username, OnlineStatus: true}})}
}

func userFrames(ev switchboard.Event) []frame {
	var d chat.UserDetails
	if !payloadOf(ev, &d) || d.Username == "" {
		return nil
	}
	name := "user.profileUpdate"
	switch ev.Name {
	case "userOnline":
		name = "user.online"
	case "userDisconnected":
		name, d.Online = "user.offline", false
	}
	return []frame{newFrame(name, map[string]any{"user": userOf(d)})}
}

// readFrames: a read receipt is a chat.updateMessage of each message read,
// carrying who read it (read_users); the message's other fields are not
// in the receipt, and a client merges what it has.
func readFrames(ev switchboard.Event) []frame {
	var p struct {
		ChatSessionID string   `json:"chatSessionId"`
		Messages      []string `json:"messages"`
		Username      string   `json:"username"`
	}
	if !payloadOf(ev, &p) {
		return nil
	}
	out := make([]frame, 0, len(p.Messages))
	for _, id := range p.Messages {
		out = append(out, newFrame("chat.updateMessage", map[string]any{"message": map[string]any{
			"id": id, "channel_id": p.ChatSessionID, "read_user_count": "1",
			"read_users": []user{{ID: p.Username}}}}))
	}
	return out
}

// reactionFrames: a reactions update (chat.ReactionsPayload, pushed as
// msgEdited) is a chat.updateMessage whose emoticons are the message's
// reactions.
func reactionFrames(ev switchboard.Event) []frame {
	var p chat.ReactionsPayload
	if !payloadOf(ev, &p) || p.MsgID == "" {
		return nil
	}
	out := messageOf(chat.Message{ID: p.MsgID, SessionID: p.ChatSessionID, SenderID: p.Sender,
		SenderName: p.SenderName, Content: p.Content, CreatedAt: chatMillis(p.SentTS), Kind: p.MsgType})
	for _, r := range p.Reactions {
		out.Emoticons = append(out.Emoticons, emoticon{UID: r.UserID, DN: r.UserName, EV: r.Emoji})
	}
	return []frame{newFrame("chat.updateMessage", map[string]any{"message": out})}
}

// alertEvent is the livechat push of a new alert (package alerts), which
// RTM tells as alert.notification.
const alertEvent = "alert"

// alertFrames: an alert is alert.notification, its sender the one user
// of from.
func alertFrames(ev switchboard.Event) []frame {
	var a map[string]any // the alert's wire form, made here or read back (another node's)
	if !argOf(ev, &a) {
		return nil
	}
	str := func(k string) string { s, _ := a[k].(string); return s }
	return []frame{newFrame("alert.notification", map[string]any{"alert_id": str("id"), "alert_type": str("kind"),
		"from": []user{{ID: str("byId"), DisplayName: str("byNm")}}, "message_id": str("messageId"),
		"alert_text": str("text"), "channel_id": str("ticketId"), "is_read": false})}
}

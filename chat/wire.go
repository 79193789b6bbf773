package chat

import (
	"encoding/json"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
)

// The chat protocol's payload classes (spec/chat.md, from the THRON
// realtime events manager): every server event is an envelope
// {headers, payload, errorDescription?, resultCode}. Strings the server has
// no value for are "", optional objects are null, lists are [] (never
// null).

// Result codes: exactly the source's enumerations.
const (
	ResultOK                    = "OK"
	ResultException             = "EXCEPTION"
	ResultAuthenticationError   = "AUTHENTICATION_ERROR"
	ResultInvalidRequest        = "INVALID_REQUEST"
	ResultChatNotFound          = "CHAT_NOT_FOUND"
	ResultChatsNotFound         = "CHATS_NOT_FOUND"
	ResultMsgNotFound           = "MSG_NOT_FOUND"
	ResultUnauthorized          = "UNAUTHORIZED"
	ResultNotMemberOfChat       = "NOT_MEMBER_OF_CHAT"
	ResultUserOffline           = "USER_OFFLINE"
	ResultConnectionAlreadyOpen = "CONNECTION_ALREADY_OPEN"
	// ResultOutcomeUnknown is Switchboard's own: a write that did not
	// answer in time may still commit (see request_keys.go). No source
	// code says "retry this with its key", and EXCEPTION would read as
	// "not stored".
	ResultOutcomeUnknown = "OUTCOME_UNKNOWN"
)

// Error codes of the chat service beyond the shared ones; each is the
// result code of the same name.
const (
	ECHATNOTFOUND   = ResultChatNotFound
	ECHATSNOTFOUND  = ResultChatsNotFound
	EMSGNOTFOUND    = ResultMsgNotFound
	ENOTMEMBER      = ResultNotMemberOfChat
	EALREADYOPEN    = ResultConnectionAlreadyOpen
	EUSEROFFLINE    = ResultUserOffline
	EAUTHENTICATION = ResultAuthenticationError
)

// resultCodes lists, per server event, the result codes its enumeration
// allows besides OK and EXCEPTION. chatCreated, chatDetailsSet and
// membersAdded also answer UNAUTHORIZED, which the source gives only to
// message events: the directory policy (Directory) refuses them for whom
// the caller may not reach, and that is neither an invalid request nor a
// missing chat.
var resultCodes = map[string][]string{
	"serverReady":             {},
	"userOnline":              {ResultInvalidRequest, ResultAuthenticationError, ResultConnectionAlreadyOpen},
	"chatCreated":             {ResultAuthenticationError, ResultInvalidRequest, ResultUnauthorized},
	"chatDetailsSet":          {ResultAuthenticationError, ResultInvalidRequest, ResultChatNotFound, ResultUnauthorized},
	"membersAdded":            {ResultAuthenticationError, ResultInvalidRequest, ResultChatNotFound, ResultUnauthorized},
	"chatLeft":                {ResultAuthenticationError, ResultInvalidRequest, ResultChatNotFound},
	"chatMsg":                 {ResultAuthenticationError, ResultInvalidRequest, ResultChatNotFound, ResultUnauthorized},
	"msgEdited":               {ResultAuthenticationError, ResultInvalidRequest, ResultChatNotFound, ResultMsgNotFound, ResultUnauthorized},
	"msgRemoved":              {ResultAuthenticationError, ResultInvalidRequest, ResultChatNotFound, ResultMsgNotFound, ResultUnauthorized},
	"msgMarkedRead":           {ResultAuthenticationError, ResultInvalidRequest, ResultChatNotFound},
	"sessionMarkedRead":       {ResultAuthenticationError, ResultInvalidRequest, ResultChatNotFound},
	"allSessionsMarkedRead":   {ResultInvalidRequest, ResultAuthenticationError},
	"recentMessages":          {ResultAuthenticationError, ResultInvalidRequest, ResultNotMemberOfChat},
	"recentSessions":          {ResultAuthenticationError, ResultInvalidRequest},
	"archivedSessions":        {ResultAuthenticationError, ResultInvalidRequest},
	"aggregatedUsersSessions": {ResultAuthenticationError, ResultInvalidRequest},
	"chatUsers":               {ResultAuthenticationError, ResultInvalidRequest},
	"searchResults":           {ResultAuthenticationError, ResultInvalidRequest},
	"sessionsStarred":         {ResultAuthenticationError, ResultInvalidRequest, ResultChatsNotFound},
	"sessionsArchived":        {ResultAuthenticationError, ResultInvalidRequest, ResultChatsNotFound},
	"statusChanged":           {ResultAuthenticationError, ResultInvalidRequest, ResultUserOffline},
	"userAction":              {ResultInvalidRequest, ResultAuthenticationError},
	"userDisconnected":        {},
	"userDetailsUpdated":      {ResultAuthenticationError},
}

// ResultCode maps an error to the result code of the server event that
// reports it: the service's code when that event's enumeration has it,
// else the nearest code it has.
func ResultCode(event string, err error) string {
	if err == nil {
		return ResultOK
	}
	code := switchboard.ErrorCode(err)
	switch code {
	case switchboard.EUNAUTHENTICATED, switchboard.ETOKENMISSING, switchboard.ETOKENINVALID, switchboard.ETOKENEXPIRED:
		code = ResultAuthenticationError
	case switchboard.EFORBIDDEN:
		code = ResultUnauthorized
	case switchboard.ENOTFOUND:
		code = ResultChatNotFound
	case switchboard.EINVALID, switchboard.ECONFLICT, switchboard.EINVALIDTRANSITION, switchboard.ETICKETCLOSED,
		switchboard.ERATELIMITED:
		code = ResultInvalidRequest
	case switchboard.EINTERNAL:
		return ResultException
	case EOUTCOMEUNKNOWN:
		return ResultOutcomeUnknown // any write's
	}
	allowed, known := resultCodes[event]
	if !known {
		return code
	}
	has := func(c string) bool {
		for _, a := range allowed {
			if a == c {
				return true
			}
		}
		return false
	}
	if has(code) {
		return code
	}
	// The nearest code the event has: a session the caller may not use is
	// not found, or not its own, or simply an invalid request.
	for _, alt := range []string{ResultChatNotFound, ResultNotMemberOfChat, ResultChatsNotFound, ResultInvalidRequest} {
		if code != ResultException && code != ResultAuthenticationError && has(alt) {
			return alt
		}
	}
	return ResultException
}

// Reply is a successful server event body, the JSON object
// {"headers": {}, "payload": …, "resultCode": "OK"}: a struct, not a map,
// because one goes with every chat-protocol copy of a message (a map
// costs two allocations and json.Marshal sorts its keys).
type Reply struct {
	Headers    struct{} `json:"headers"`
	Payload    any      `json:"payload"`
	ResultCode string   `json:"resultCode"`
}

// Envelope is a server event body.
func Envelope(payload any) Reply {
	return Reply{Payload: payload, ResultCode: ResultOK}
}

// ErrorEnvelope is a server event body reporting err.
func ErrorEnvelope(event string, err error) map[string]any {
	return map[string]any{"headers": map[string]any{}, "payload": nil, "resultCode": ResultCode(event, err),
		"errorDescription": switchboard.ErrorMessage(err)}
}

// push is an event to the chat-protocol sockets of rooms.
func push(name string, payload any, sessionID, exceptSocket string, rooms ...string) switchboard.Event {
	return pushBody(name, Envelope(payload), sessionID, exceptSocket, rooms...)
}

// pushBody is push with the whole event body given.
func pushBody(name string, body any, sessionID, exceptSocket string, rooms ...string) switchboard.Event {
	return switchboard.Event{Protocol: switchboard.ProtocolChat, Name: name, Args: []any{body},
		To: rooms, ExceptSocket: exceptSocket, SessionID: sessionID}
}

// messageBody is the body of a message event as viewer sees it (the
// Envelope of its MsgPayload), rendered when it is encoded. Every ticket
// message is also pushed to the chat protocol's rooms, which seldom hold a
// socket: the encoder runs only for a socket that receives the event
// (internal/fanout's adapter), so most copies are never rendered. The copies of
// one message share m, which nothing changes after the event is made.
type messageBody struct {
	m      *Message
	viewer string
}

func (b messageBody) MarshalJSON() ([]byte, error) {
	return json.Marshal(Envelope(msgPayload(*b.m, b.viewer)))
}

// UserDetails is MChatUserDetails (also the payload of userOnline and
// statusChanged).
type UserDetails struct {
	ClientID  string `json:"clientId"`
	Username  string `json:"username"`
	FullName  string `json:"fullName"`
	AvatarURL string `json:"avatarURL"`
	LastSeen  string `json:"lastSeen"`
	Online    bool   `json:"online"`
	Status    string `json:"status"`
	StatusMsg string `json:"statusMsg"`
}

// userDetails is u as viewer sees it: an INVISIBLE user looks offline
// (and AVAILABLE) to everyone but itself.
func userDetails(u User, online bool, viewer string) UserDetails {
	status := u.Status
	if status == "" {
		status = "AVAILABLE"
	}
	if status == Invisible && u.ID != viewer {
		online, status = false, "AVAILABLE"
	}
	return UserDetails{ClientID: u.Tenant, Username: u.ID, FullName: u.DisplayName(),
		LastSeen: FormatMillis(u.LastSeen), Online: online, Status: status, StatusMsg: u.StatusMessage}
}

// NameValue is MChatNotificationMetadata.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// storedMetadata is what the metadata column holds.
type storedMetadata struct {
	Chat   json.RawMessage `json:"chat,omitempty"`
	Notify []NameValue     `json:"notify,omitempty"`
}

func encodeMetadata(chat json.RawMessage, notify []NameValue) string {
	if len(chat) == 0 && len(notify) == 0 {
		return ""
	}
	b, _ := json.Marshal(storedMetadata{Chat: chat, Notify: notify})
	return string(b)
}

func decodeMetadata(s string) (chat any, notify []NameValue) {
	notify = []NameValue{}
	if s == "" {
		return nil, notify
	}
	var m storedMetadata
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil, notify
	}
	if len(m.Chat) > 0 {
		_ = json.Unmarshal(m.Chat, &chat)
	}
	if m.Notify != nil {
		notify = m.Notify
	}
	return chat, notify
}

// Message statuses of the wire (MEChatMsgStatus, which the source names
// but does not list): null for a message as sent.
const (
	msgEdited  = "EDITED"
	msgRemoved = "REMOVED"
)

func msgStatus(m Message) any {
	switch {
	case m.RemovedAt != 0:
		return msgRemoved
	case m.EditedAt != 0:
		return msgEdited
	}
	return nil
}

// MessageDetails is MChatMessageDetails.
type MessageDetails struct {
	ChatMsgID     string      `json:"chatMsgId"`
	ChatSessionID string      `json:"chatSessionId"`
	Sender        string      `json:"sender"`
	SentTS        string      `json:"sent_ts"`
	Read          bool        `json:"read"`
	ReadTS        string      `json:"read_ts"`
	Content       string      `json:"content"`
	MsgType       string      `json:"msgType"`
	Status        any         `json:"status"`
	Receivers     []any       `json:"receivers"`
	ChatMetadata  any         `json:"chatMetadata"`
	Metadata      []NameValue `json:"metadata"`
}

func messageDetails(m Message, readAt int64) MessageDetails {
	chat, notify := decodeMetadata(m.Metadata)
	kind := m.Kind
	if kind == "" {
		kind = KindUser
	}
	return MessageDetails{ChatMsgID: m.ID, ChatSessionID: m.SessionID, Sender: m.SenderID,
		SentTS: FormatMillis(m.CreatedAt), Read: readAt != 0, ReadTS: FormatMillis(readAt), Content: m.Content,
		MsgType: kind, Status: msgStatus(m), Receivers: []any{}, ChatMetadata: chat, Metadata: notify}
}

// MsgPayload is MChatMsgPayload (also MMsgEditedPayload and
// MMsgRemovedPayload).
type MsgPayload struct {
	ClientID      string      `json:"clientId"`
	ChatSessionID string      `json:"chatSessionId"`
	MsgID         string      `json:"msgId"`
	Content       string      `json:"content"`
	MsgType       string      `json:"msgType"`
	Sender        string      `json:"sender"`
	Read          bool        `json:"read"`
	ReadTS        string      `json:"read_ts"`
	SentTS        string      `json:"sent_ts"`
	Status        any         `json:"status"`
	Receivers     []any       `json:"receivers"`
	ChatMetadata  any         `json:"chatMetadata"`
	Metadata      []NameValue `json:"metadata"`
}

// msgPayload is m as viewer sees it; a message is read by its sender.
func msgPayload(m Message, viewer string) MsgPayload {
	d := messageDetails(m, 0)
	p := MsgPayload{ClientID: m.Tenant, ChatSessionID: m.SessionID, MsgID: m.ID, Content: m.Content,
		MsgType: d.MsgType, Sender: m.SenderID, SentTS: d.SentTS, Status: d.Status, Receivers: []any{},
		ChatMetadata: d.ChatMetadata, Metadata: d.Metadata}
	if m.SenderID == viewer {
		p.Read, p.ReadTS = true, d.SentTS
	}
	return p
}

// SessionBasic is MChatSessionBasicDetails.
type SessionBasic struct {
	ClientID            string        `json:"clientId"`
	ChatSessionID       string        `json:"chatSessionId"`
	Title               string        `json:"title"`
	Desc                string        `json:"desc"`
	SessionType         string        `json:"sessionType"`
	Creator             string        `json:"creator"`
	CreatedTS           string        `json:"created_ts"`
	LastUpdatedTS       string        `json:"lastUpdated_ts"`
	Members             []UserDetails `json:"members"`
	UserThatLeftForLast *UserDetails  `json:"userThatLeftForLast"`
}

// SessionDetails is MChatSessionDetails: a session as one member sees it.
type SessionDetails struct {
	SessionBasic
	Messages    []MessageDetails `json:"messages"`
	Starred     bool             `json:"starred"`
	Archived    bool             `json:"archived"`
	Count       int64            `json:"count"`
	UnreadCount int64            `json:"unreadCount"`
}

// ChatCreated is MChatCreatedPayload.
type ChatCreated struct {
	SessionBasic
	Username string `json:"username"`
	Starred  bool   `json:"starred"`
	Archived bool   `json:"archived"`
}

// SessionList is the payload of recentSessions, archivedSessions and
// searchResults (and the sessions part of aggregatedUsersSessions).
type SessionList struct {
	Count    int64            `json:"count"`
	Sessions []SessionDetails `json:"sessions"`
}

// UserList is the users part of aggregatedUsersSessions.
type UserList struct {
	Count int64         `json:"count"`
	Users []UserDetails `json:"users"`
}

// EventMessage is the message a message event (chatMsg, msgEdited,
// msgRemoved) pushes, for a binding that shows it in its own shape (the
// RTM binding); ok is false for any other event.
func EventMessage(ev switchboard.Event) (m Message, ok bool) {
	if len(ev.Args) != 1 {
		return Message{}, false
	}
	switch b := ev.Args[0].(type) {
	case messageBody:
		return *b.m, true
	case fanout.Received:
		return receivedMessage(b) // committed on another node
	}
	return Message{}, false
}

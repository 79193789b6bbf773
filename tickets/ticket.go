// Package tickets layers support tickets on chat sessions: the ticket state
// machine (new → open → closed, accept, assign, hijack, reopen), its store,
// the service that authorizes and applies every command, and the livechat
// protocol binding (Socket.IO) and REST handlers.
package tickets

import "github.com/switchboard-chat/switchboard/chat"

// Status is a ticket's state, numbered as the livechat protocol does.
type Status int

const (
	StatusNew    Status = 100
	StatusOpen   Status = 200
	StatusClosed Status = 10000
)

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool { return s == StatusNew || s == StatusOpen || s == StatusClosed }

// Ticket is a support request: a ONETOONE chat session (same id) between
// its owner (an end user, possibly a program's) and its handler (the
// operator working on it, "" until one accepts).
type Ticket struct {
	ID               string `gorm:"column:id;primaryKey"`
	Tenant           string `gorm:"column:tenant"`
	Status           Status `gorm:"column:status"`
	OwnerID          string `gorm:"column:owner_id"`
	OwnerName        string `gorm:"column:owner_name"`
	HandlerID        string `gorm:"column:handler_id"`
	HandlerName      string `gorm:"column:handler_name"`
	ProgramID        string `gorm:"column:program_id"`
	IsExternal       bool   `gorm:"column:is_external"`
	DisplayName      string `gorm:"column:display_name"`
	TicketName       string `gorm:"column:ticket_name"`
	AwaitingResponse bool   `gorm:"column:awaiting_response"`
	CreatedAt        int64  `gorm:"column:created_at;autoCreateTime:milli"`
	AcceptedAt       int64  `gorm:"column:accepted_at"`
	ClosedAt         int64  `gorm:"column:closed_at"`
	LastResponseAt   int64  `gorm:"column:last_response_at"`
	UpdatedAt        int64  `gorm:"column:updated_at;autoUpdateTime:milli"`
	// VisitorContext is the widget's VisitorContext, stored as JSON.
	VisitorContext string `gorm:"column:visitor_context"`
	// Team is the team the ticket is for ("" = none): routing gives it
	// only to the team's members while it waits.
	Team string `gorm:"column:team_id"`
	// The owner's rating once the ticket is closed (RatedAt 0: none).
	RatingScore   int    `gorm:"column:rating_score"`
	RatingComment string `gorm:"column:rating_comment"`
	RatedAt       int64  `gorm:"column:rated_at"`
	// Labels are the ids of the labels it carries, loaded only for
	// operators (nil: not loaded, and then not on the wire).
	Labels []string `gorm:"-"`
}

// TableName maps Ticket to its table.
func (Ticket) TableName() string { return "tickets" }

// members are the ticket session's active members without a query: its
// owner and, once it has one, its handler. changeHandler keeps
// chat_members the same, and a ticket's members cannot leave it.
func (t Ticket) members() []chat.Member {
	ms := []chat.Member{{SessionID: t.ID, UserID: t.OwnerID, Role: chat.MemberOwner}}
	if t.HandlerID != "" {
		ms = append(ms, chat.Member{SessionID: t.ID, UserID: t.HandlerID, Role: chat.MemberHandler})
	}
	return ms
}

// Wire is the ticket object of the livechat protocol.
func (t Ticket) Wire() map[string]any {
	w := map[string]any{
		"ticketId":       t.ID,
		"displayNm":      t.DisplayName,
		"ticketNm":       t.TicketName,
		"statusId":       int(t.Status),
		"createdAt":      chat.FormatMillis(t.CreatedAt),
		"handleById":     t.HandlerID,
		"handleByNm":     t.HandlerName,
		"lastResponseAt": chat.FormatMillis(t.LastResponseAt),
		"ownerId":        t.OwnerID,
		"ownerNm":        t.OwnerName,
		"programId":      t.ProgramID,
		"isExternal":     t.IsExternal,
	}
	// Only tickets that have one carry it: the protocol's object is
	// otherwise unchanged.
	if ctx := decodeContext(t.VisitorContext); ctx != nil {
		w["visitorContext"] = ctx
	}
	if t.Team != "" {
		w["teamId"] = t.Team
	}
	if t.Labels != nil {
		w["labels"] = t.Labels
	}
	w["rating"] = t.rating()
	return w
}

// Message is the message object of the livechat protocol: a struct, not
// a map, because one goes with every message sent (a map costs more to
// build and json.Marshal sorts its keys).
type Message struct {
	TicketID    string `json:"ticketId"`
	RecipientID string `json:"recipientId"`
	RecipientNm string `json:"recipientNm"`
	MessageID   string `json:"messageId"`
	Content     string `json:"content"`
	Type        int    `json:"type"`
	Encoding    string `json:"encoding"`
	CreatedAt   string `json:"createdAt"`
	StatusID    int    `json:"statusId"`
	SenderID    string `json:"senderId"`
	SenderNm    string `json:"senderNm"`
	ProgramID   string `json:"programId"`
}

// MessageWire is m as the livechat protocol's message object.
func MessageWire(m chat.Message) Message {
	return Message{TicketID: m.SessionID, RecipientID: m.RecipientID, RecipientNm: m.RecipientName,
		MessageID: m.ID, Content: m.Content, Type: m.Type, Encoding: m.Encoding,
		CreatedAt: chat.FormatMillis(m.CreatedAt), StatusID: m.StatusID, SenderID: m.SenderID,
		SenderNm: m.SenderName, ProgramID: m.ProgramID}
}

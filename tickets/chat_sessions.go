package tickets

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/alerts"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// ChatSessions is the ticket side of ticket sessions for the chat
// protocol (chat.TicketSessions): a chat user writing, reading or typing
// in a ticket's session does so under the ticket's rules, and the livechat
// sockets hear of it as they would of a livechat command. It needs no
// Service, so it is made before the chat service that takes it and the
// ticket service that takes that.
type ChatSessions struct {
	db  *database.DB
	now func() time.Time
}

// NewChatSessions returns the ticket rules for the chat protocol, reading
// on db's read pool; now may be nil.
func NewChatSessions(db *database.DB, now func() time.Time) ChatSessions {
	if now == nil {
		now = time.Now
	}
	return ChatSessions{db: db, now: now}
}

var _ chat.TicketSessions = ChatSessions{}

// callerOf is the ticket caller a chat user is: itself, by its principal
// (a chat caller never acts for another user), with no livechat socket.
func callerOf(c chat.Caller) Caller {
	return switchboard.CallerOf(c.Principal, "")
}

// IsTicket sets *is to whether a session is a ticket's.
func (b ChatSessions) IsTicket(sessionID string, is *bool) database.Op {
	return func(tx *gorm.DB) ([]switchboard.Event, error) {
		var n int64
		err := tx.Model(&Ticket{}).Where("id = ?", sessionID).Count(&n).Error
		*is = n > 0
		return nil, err
	}
}

// SendMessage stores a chat user's text message in a ticket, as the
// livechat updateMessage would.
func (b ChatSessions) SendMessage(c chat.Caller, sessionID, messageID, content string, sent *chat.Message) database.Op {
	return func(tx *gorm.DB) ([]switchboard.Event, error) {
		in := MessageInput{Type: chat.TypeText, Content: content, Encoding: "utf-8"}
		m, evs, err := sendMessage(tx, callerOf(c), sessionID, messageID, in, c.Socket, b.now().UnixMilli())
		*sent = m
		return evs, err
	}
}

// ReadEvents tell the livechat senders of ticket messages that c read
// them (messageStatusUpdated 3), and the operators that a ticket was
// responded to when its handler has now read everything.
func (b ChatSessions) ReadEvents(c chat.Caller, read []chat.Message) database.Op {
	return func(tx *gorm.DB) ([]switchboard.Event, error) {
		caller := callerOf(c)
		evs := make([]switchboard.Event, 0, len(read))
		for _, m := range read {
			evs = append(evs, switchboard.Event{Name: "messageStatusUpdated", Args: []any{m.ID, chat.StatusRead},
				To: []string{senderRoom(caller, m)}, SessionID: m.SessionID})
		}
		if !isOperator(caller) {
			return evs, nil
		}
		more, err := respondedByReading(tx, caller, read, b.now().UnixMilli())
		return append(evs, more...), err
	}
}

// TypingEvents tell a ticket's other party, on livechat, that c is
// typing; none if the session is no ticket or c is not one of its parties.
func (b ChatSessions) TypingEvents(ctx context.Context, c chat.Caller, sessionID string) ([]switchboard.Event, error) {
	caller := callerOf(c)
	t, found, err := findTicket(b.db.WithContext(ctx), c.Tenant(), sessionID)
	if err != nil || !found {
		return nil, err
	}
	other, _, err := party(caller, t)
	if err != nil || other == "" {
		return nil, nil
	}
	return []switchboard.Event{{Name: "typing", Args: []any{t.ID, caller.Name}, To: []string{other}, SessionID: t.ID}}, nil
}

// Reacted alerts the operator who sent m that c reacted to it with
// emoji. End users and programs have no alerts (alerts.Alert), so only a
// message of an operator (not the ticket's owner, not a program's bot
// message) makes one.
func (b ChatSessions) Reacted(c chat.Caller, m chat.Message, emoji string) database.Op {
	return func(tx *gorm.DB) ([]switchboard.Event, error) {
		t, found, err := findTicket(tx, c.Tenant(), m.SessionID)
		if err != nil || !found || m.SenderID == t.OwnerID || m.Type == TypeBot || m.Kind != chat.KindUser {
			return nil, err
		}
		ev, err := alerts.Create(tx, alerts.Alert{Tenant: t.Tenant, RecipientID: m.SenderID, Kind: alerts.KindReaction,
			TicketID: t.ID, MessageID: m.ID, ByID: c.UserID, ByName: c.Name, Text: emoji + " " + m.Content,
			CreatedAt: b.now().UnixMilli()})
		if err != nil {
			return nil, err
		}
		return []switchboard.Event{ev}, nil
	}
}

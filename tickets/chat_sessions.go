package tickets

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// ChatSessions is the ticket side of ticket sessions for the chat
// protocol (chat.TicketSessions): a chat user writing, reading or typing
// in a ticket's session does so under the ticket's rules, and the livechat
// sockets hear of it as they would of a livechat command.
type ChatSessions struct{ svc *Service }

// ChatSessions returns the chat protocol's view of this service's tickets.
func (s *Service) ChatSessions() ChatSessions { return ChatSessions{svc: s} }

var _ chat.TicketSessions = ChatSessions{}

// callerOf is the ticket caller a chat user is: itself, by its principal.
func callerOf(c chat.Caller) Caller {
	return Caller{Principal: c.Principal, UserID: c.Principal.ID, Name: c.Principal.DisplayName}
}

// IsTicket reports whether a session is a ticket's.
func (b ChatSessions) IsTicket(db *gorm.DB, sessionID string) (bool, error) {
	var n int64
	err := db.Model(&Ticket{}).Where("id = ?", sessionID).Count(&n).Error
	return n > 0, err
}

// SendMessage stores a chat user's text message in a ticket, as the
// livechat updateMessage would.
func (b ChatSessions) SendMessage(tx *gorm.DB, c chat.Caller, sessionID, messageID, content string) (chat.Message, []switchboard.Event, error) {
	in := MessageInput{Type: chat.TypeText, Content: content, Encoding: "utf-8"}
	return b.svc.sendMessage(tx, callerOf(c), sessionID, messageID, in, c.Socket)
}

// ReadEvents tell the livechat senders of ticket messages that c read
// them (messageStatusUpdated 3), and the operators that a ticket was
// responded to when its handler has now read everything.
func (b ChatSessions) ReadEvents(tx *gorm.DB, c chat.Caller, read []chat.Message) ([]switchboard.Event, error) {
	caller := callerOf(c)
	evs := make([]switchboard.Event, 0, len(read))
	for _, m := range read {
		evs = append(evs, switchboard.Event{Name: "messageStatusUpdated", Args: []any{m.ID, chat.StatusRead},
			To: []string{senderRoom(caller, m)}, SessionID: m.SessionID})
	}
	if !caller.isOperator() {
		return evs, nil
	}
	more, err := respondedByReading(tx, caller, read, b.svc.millis())
	return append(evs, more...), err
}

// TypingEvents tell a ticket's other party, on livechat, that c is
// typing; none if the session is no ticket or c is not one of its parties.
func (b ChatSessions) TypingEvents(db *gorm.DB, c chat.Caller, sessionID string) ([]switchboard.Event, error) {
	caller := callerOf(c)
	t, found, err := findTicket(db, c.Tenant(), sessionID)
	if err != nil || !found {
		return nil, err
	}
	other, _, err := party(caller, t)
	if err != nil || other == "" {
		return nil, nil
	}
	return []switchboard.Event{{Name: "typing", Args: []any{t.ID, caller.Name}, To: []string{other}, SessionID: t.ID}}, nil
}

package chat

import (
	"context"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// TicketSessions is the ticket side of the sessions that are tickets: the
// ticket rules that govern them. Package tickets implements it (chat
// cannot import tickets, which is layered on chat) and the application
// hands it to NewService. It speaks chat's own types: a write returns the
// work to run inside the chat command's transaction (so one command
// through either protocol is one commit) rather than being handed that
// transaction, and a read uses the ticket side's own read pool.
type TicketSessions interface {
	// IsTicket sets *is to whether a session is a ticket's.
	IsTicket(sessionID string, is *bool) database.Op
	// SendMessage stores a message of the chat user c in a ticket session
	// under the ticket's rules (only its owner and its handler write, not
	// once closed), as the livechat updateMessage does, sets *sent to it
	// and returns the events of both protocols.
	SendMessage(c Caller, sessionID, messageID, content string, sent *Message) database.Op
	// ReadEvents are the livechat events of c having read ticket messages
	// addressed to it (already marked read), with what the ticket rules
	// note of it.
	ReadEvents(c Caller, read []Message) database.Op
	// TypingEvents are the livechat events of c typing in a ticket
	// session (none if it is no ticket's).
	TypingEvents(ctx context.Context, c Caller, sessionID string) ([]switchboard.Event, error)
	// Reacted is what the ticket rules make of c's new reaction emoji to
	// m, a message of a ticket session (an alert to its sender).
	Reacted(c Caller, m Message, emoji string) database.Op
}

// isTicket reports whether the ticket rules govern sessionID.
func (s *Service) isTicket(tx *gorm.DB, sessionID string) (bool, error) {
	if s.opts.Tickets == nil {
		return false, nil
	}
	var is bool
	_, err := s.opts.Tickets.IsTicket(sessionID, &is)(tx)
	return is, err
}

package chat

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// TicketSessions is the ticket side of the sessions that are tickets.
// Package tickets implements it (chat cannot import tickets, which is
// layered on chat); the application wires it in. Each method runs inside
// the caller's transaction (or on the read pool) and returns the events to
// publish, so one command through either protocol is one commit.
type TicketSessions interface {
	// IsTicket reports whether a session is a ticket's.
	IsTicket(db *gorm.DB, sessionID string) (bool, error)
	// SendMessage stores a message of the chat user c in a ticket session
	// under the ticket's rules (only its owner and its handler write, not
	// once closed), as the livechat updateMessage does, and returns it
	// with the events of both protocols.
	SendMessage(tx *gorm.DB, c Caller, sessionID, messageID, content string) (Message, []switchboard.Event, error)
	// ReadEvents are the livechat events of c having read ticket messages
	// addressed to it (already marked read).
	ReadEvents(tx *gorm.DB, c Caller, read []Message) ([]switchboard.Event, error)
	// TypingEvents are the livechat events of c typing in a ticket
	// session (none if it is no ticket's).
	TypingEvents(db *gorm.DB, c Caller, sessionID string) ([]switchboard.Event, error)
}

package tickets

import (
	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// Stream events of tickets (docs/events.md): the livechat names, plus
// ticketAssigned, which only the stream has. The service builds them only
// while the stream is on (database.Committer.Streaming).

// Assignment is the payload of ticketAssigned: one per assignment or
// hijack (Hijack: the operator took the ticket for itself). FromID is ""
// for a ticket no one handled.
type Assignment struct {
	TicketID  string `json:"ticketId"`
	FromID    string `json:"fromId"`
	ToID      string `json:"toId"`
	ByID      string `json:"byId"`
	Hijack    bool   `json:"hijack"`
	ProgramID string `json:"programId,omitempty"`
}

// StatusChange is the payload of ticketStatusUpdated: the ticket's new
// status and handler after a reject, close, reopen or decline (Action).
type StatusChange struct {
	TicketID   string `json:"ticketId"`
	StatusID   int    `json:"statusId"`
	HandleByID string `json:"handleById"`
	Action     Action `json:"action"`
	ProgramID  string `json:"programId,omitempty"`
}

// MessageStatus is the payload of messageStatusUpdated.
type MessageStatus struct {
	TicketID  string `json:"ticketId"`
	MessageID string `json:"messageId"`
	StatusID  int    `json:"statusId"`
	SenderID  string `json:"senderId"`
	ProgramID string `json:"programId,omitempty"`
}

func ticketStreamEvent(name string, c Caller, t Ticket, payload any) switchboard.Event {
	return switchboard.StreamEvent(name, t.ID, switchboard.DomainEvent{Tenant: t.Tenant, UserID: c.UserID, Payload: payload})
}

// transitionStreamEvent is the one stream event of a transition.
func transitionStreamEvent(c Caller, t Ticket, from State, out Outcome) switchboard.Event {
	switch out.Action {
	case ActionAccept:
		return ticketStreamEvent("ticketAccepted", c, t, t.Wire())
	case ActionAssign, ActionHijack:
		return ticketStreamEvent("ticketAssigned", c, t, Assignment{TicketID: t.ID, FromID: from.Handler,
			ToID: t.HandlerID, ByID: c.UserID, Hijack: out.Action == ActionHijack, ProgramID: t.ProgramID})
	}
	return ticketStreamEvent("ticketStatusUpdated", c, t, StatusChange{TicketID: t.ID, StatusID: int(t.Status),
		HandleByID: t.HandlerID, Action: out.Action, ProgramID: t.ProgramID})
}

// messageStatusEvent is the stream event of c moving m to status.
func messageStatusEvent(c Caller, m chat.Message, status int) switchboard.Event {
	return switchboard.StreamEvent("messageStatusUpdated", m.SessionID, switchboard.DomainEvent{Tenant: m.Tenant,
		UserID: c.UserID, Payload: MessageStatus{TicketID: m.SessionID, MessageID: m.ID, StatusID: status,
			SenderID: m.SenderID, ProgramID: m.ProgramID}})
}

package chat

import (
	"github.com/switchboard-chat/switchboard"
)

// Stream events of chat sessions (docs/events.md). The services build
// them only while the stream is on (database.Committer.Streaming).
const (
	StreamMessageSent      = "personalChatSent"
	StreamMessageEdited    = "messageEdited"
	StreamMessageRemoved   = "messageRemoved"
	StreamUserConnected    = "userConnected"
	StreamUserDisconnected = "userDisconnected"
	StreamPresenceChanged  = "presenceChanged"
)

// PersonalChat is the payload of personalChatSent, in the source's
// field names: a message to one user (target_type user: a ticket's other
// party) or to a session's members (target_type session).
type PersonalChat struct {
	MessageID     string   `json:"message_id"`
	SenderID      string   `json:"sender_id"`
	TargetID      string   `json:"target_id"`
	Payload       string   `json:"payload"`
	TargetType    string   `json:"target_type"`
	TargetMembers []string `json:"target_members"`
	ProgramID     string   `json:"programId,omitempty"`
}

// MessageSentEvent is the stream event of m, sent to members; a ticket's
// message (members nil) goes to its recipient, if it has one yet.
func MessageSentEvent(m Message, members []Member) switchboard.Event {
	if members == nil && m.RecipientID != "" {
		members = []Member{{UserID: m.RecipientID}}
	}
	p := PersonalChat{MessageID: m.ID, SenderID: m.SenderID, TargetID: m.SessionID, Payload: m.Content,
		TargetType: "session", TargetMembers: make([]string, 0, len(members)), ProgramID: m.ProgramID}
	if m.RecipientID != "" {
		p.TargetID, p.TargetType = m.RecipientID, "user"
	}
	for _, mb := range members {
		if mb.UserID != m.SenderID {
			p.TargetMembers = append(p.TargetMembers, mb.UserID)
		}
	}
	return switchboard.StreamEvent(StreamMessageSent, m.SessionID,
		switchboard.DomainEvent{Tenant: m.Tenant, UserID: m.SenderID, Payload: p})
}

// MessageChange is the payload of messageEdited (with the new content)
// and messageRemoved.
type MessageChange struct {
	MessageID string `json:"messageId"`
	SessionID string `json:"sessionId"`
	SenderID  string `json:"senderId"`
	Content   string `json:"content,omitempty"`
	At        string `json:"at"`
}

func messageChangeEvent(name string, m Message, at int64) switchboard.Event {
	return switchboard.StreamEvent(name, m.SessionID, switchboard.DomainEvent{Tenant: m.Tenant, UserID: m.SenderID,
		Payload: MessageChange{MessageID: m.ID, SessionID: m.SessionID, SenderID: m.SenderID, Content: m.Content,
			At: FormatMillis(at)}})
}

// connectionEvent is userConnected ({}) or userDisconnected ({reason,
// code, forced}) of a user whose last socket on this node closed.
func connectionEvent(tenant, userID string, online bool) switchboard.Event {
	if online {
		return switchboard.StreamEvent(StreamUserConnected, "",
			switchboard.DomainEvent{Tenant: tenant, UserID: userID, Payload: struct{}{}})
	}
	return switchboard.UserNoticeEvent(StreamUserDisconnected, switchboard.UserNotice{Tenant: tenant, UserID: userID,
		Reason: "all sockets closed", Code: "", Forced: false})
}

// StatusChange is the payload of presenceChanged: a user's status
// (AVAILABLE, AWAY, BUSY, INVISIBLE…) set by itself or through the
// operators' REST API.
type StatusChange struct {
	Status         string `json:"status"`
	PreviousStatus string `json:"previousStatus"`
	StatusMessage  string `json:"statusMessage,omitempty"`
	ProgramID      string `json:"programId,omitempty"`
}

func statusStreamEvent(u User, before string) switchboard.Event {
	return switchboard.StreamEvent(StreamPresenceChanged, "", switchboard.DomainEvent{Tenant: u.Tenant, UserID: u.ID,
		Payload: StatusChange{Status: u.Status, PreviousStatus: before, StatusMessage: u.StatusMessage, ProgramID: u.ProgramID}})
}

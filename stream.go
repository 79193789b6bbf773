package switchboard

// ProtocolStream marks an event for the domain event stream only
// (spec/integrations.md): neither socket binding sends it; the stream's
// publisher (the outbox) carries it.
const ProtocolStream = "stream"

// UserNotice is the payload of the stream events about one user's
// connection: userChatRateLimited and userDisconnected
// ({reason, code, forced}). Tenant, UserID and ProgramID fill the
// envelope (clientId, userId, the payload's programId).
type UserNotice struct {
	Tenant    string `json:"-"`
	UserID    string `json:"-"`
	ProgramID string `json:"programId,omitempty"`
	Reason    string `json:"reason"`
	Code      string `json:"code"`
	Forced    bool   `json:"forced"`
}

// UserNoticeEvent is the stream event name about n.
func UserNoticeEvent(name string, n UserNotice) Event {
	return Event{Protocol: ProtocolStream, Name: name, Args: []any{n}}
}

// Streamed is the payload of a stream event (Args[0] of an event with
// ProtocolStream): it names the envelope's clientId and userId and gives
// the body that goes under payload.<eventName>.
type Streamed interface {
	Origin() (tenant, userID string)
	Body() any
}

// Origin is the tenant and the user the notice is about.
func (n UserNotice) Origin() (string, string) { return n.Tenant, n.UserID }

// Body is the notice itself: its json tags leave out tenant and user.
func (n UserNotice) Body() any { return n }

// DomainEvent is one state change told to the domain event stream: the
// tenant it happened in, who did it and what changed (Payload, marshalled
// to JSON as it is).
type DomainEvent struct {
	Tenant  string
	UserID  string
	Payload any
}

// Origin is the tenant and the acting user.
func (d DomainEvent) Origin() (string, string) { return d.Tenant, d.UserID }

// Body is the payload.
func (d DomainEvent) Body() any { return d.Payload }

// StreamEvent is the stream event name about sessionID ("" for an event
// about no chat session). Services build stream events only while the
// stream is on (database.Committer.Streaming), so that without a sink they
// cost nothing.
func StreamEvent(name, sessionID string, d DomainEvent) Event {
	return Event{Protocol: ProtocolStream, Name: name, Args: []any{d}, SessionID: sessionID}
}

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

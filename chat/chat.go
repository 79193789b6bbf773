// Package chat is the general chat model every conversation in Switchboard
// lives in: users, sessions, their members and messages with delivery
// state. Tickets are ONETOONE sessions layered on it (package tickets).
//
// Store functions take a *gorm.DB so they run inside the Committer's
// transaction when they write and on the read pool when they only read.
//
// Files by concept: session.go and sessions.go (the Session and Member
// records; the session commands), members.go, message.go and messages.go
// (the Message record; sending, editing, removing), history.go, reads.go
// (read state and the read commands), search.go, users.go, user.go and
// directory*.go (users and whom a user may see), presence.go, views.go
// (payloads as one viewer sees them), request_keys.go (idempotent
// writes), tickets.go (the ticket rules chat is given), and the chat
// protocol binding: chatserver.go, chatserver_events.go, conn.go,
// args.go, limits.go and wire.go.
package chat

import "time"

// SessionType is the kind of a chat session.
type SessionType string

const (
	OneToOne  SessionType = "ONETOONE"
	OneToMany SessionType = "ONETOMANY"
	SysNotif  SessionType = "SYSNOTIF"
)

// Member roles in a session.
const (
	MemberOwner   = "owner"
	MemberHandler = "handler"
	MemberMember  = "member"
)

// Message delivery states, as the livechat protocol numbers them. They only
// move forward.
const (
	StatusSent      = 1
	StatusDelivered = 2
	StatusRead      = 3
)

// Message types.
const (
	TypeText  = 1
	TypeImage = 2
)

// Message kinds: what a person wrote, or what the system noted.
const (
	KindUser     = "USER"
	KindSysNotif = "SYSNOTIF"
)

// TimeFormat is the wire format of every time: ISO 8601 UTC with
// milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatMillis renders a stored Unix-millisecond time for the wire; zero
// (no value) is "".
func FormatMillis(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(TimeFormat)
}

// ParseTime reads an ISO 8601 time as clients send it.
func ParseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

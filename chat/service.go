package chat

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Caller is who sends a chat command (switchboard.Caller). A chat user
// is the principal itself (its username is the principal's id), in the
// principal's tenant; the Socket it came from hears the outcome in its
// response event and gets no push of it.
type Caller = switchboard.Caller

// userRoom holds the caller's chat-protocol sockets.
func userRoom(c Caller) string { return switchboard.ChatUserRoom(c.Tenant(), c.UserID) }

// ServiceOptions configures a Service. Zero values work.
type ServiceOptions struct {
	// Presence is the node's socket registry (default: a new one).
	Presence *Presence
	// Publisher delivers the events that need no write (typing); events
	// of writes go out through the Committer.
	Publisher switchboard.Publisher
	// RecentFor is how long an updated session stays RECENT (default 7
	// days).
	RecentFor time.Duration
	// Tickets, when set, takes the commands on ticket sessions that the
	// ticket rules govern.
	Tickets TicketSessions
	// Directory is whom a chat user may see and reach (default
	// DirectoryOperators).
	Directory Directory
	Now       func() time.Time
}

// Service applies the chat protocol's commands. Every command is
// authorized from the caller's principal; writes are one Op on the
// Committer each, and their events are published after commit. Reads use
// the read pool.
//
// Guarantees: nothing crosses tenants (a session, user or message of
// another tenant does not exist for the caller); within a tenant, a
// caller sees and reaches only whom the Directory lets it (see
// DirectoryOperators); only active members read or write a session; only
// a message's sender edits or removes it; a refused command changes
// nothing.
type Service struct {
	db        *database.DB
	committer *database.Committer
	opts      ServiceOptions
	presence  *Presence
}

// NewService returns the chat service writing through committer.
func NewService(db *database.DB, committer *database.Committer, opts ServiceOptions) *Service {
	if opts.Presence == nil {
		opts.Presence = &Presence{}
	}
	if opts.Publisher == nil {
		opts.Publisher = switchboard.PublisherFunc(func([]switchboard.Event) {})
	}
	if opts.RecentFor <= 0 {
		opts.RecentFor = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Directory == "" {
		opts.Directory = DirectoryOperators
	}
	s := &Service{db: db, committer: committer, opts: opts, presence: opts.Presence}
	s.presence.OnChange(s.presenceChanged)
	return s
}

// Presence is the registry the service reads online state from.
func (s *Service) Presence() *Presence { return s.presence }

func (s *Service) millis() int64 { return s.opts.Now().UnixMilli() }

func (s *Service) cutoff() int64 { return s.opts.Now().Add(-s.opts.RecentFor).UnixMilli() }

func (s *Service) read(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// NewID returns a random (version 4) UUID.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func notFound(id string) error { return switchboard.Errorf(ECHATNOTFOUND, "no chat session %s", id) }

// memberOf loads a session for a command of the caller: a session of
// another tenant or unknown is CHAT_NOT_FOUND; one the caller is not (or
// no longer) a member of is notMember.
func memberOf(db *gorm.DB, c Caller, sessionID string, notMember error) (Session, error) {
	sess, found, err := FindSession(db, c.Tenant(), sessionID)
	if err != nil {
		return sess, err
	}
	if !found {
		return sess, notFound(sessionID)
	}
	m, found, err := FindMember(db, sessionID, c.UserID)
	if err != nil {
		return sess, err
	}
	if !found || !m.Active() {
		return sess, notMember
	}
	return sess, nil
}

func notMemberError(code, id string) error {
	return switchboard.Errorf(code, "you are not a member of chat session %s", id)
}

// memberRooms are the chat-protocol rooms of members.
func memberRooms(tenant string, members []Member, except string) []string {
	rooms := make([]string, 0, len(members))
	for _, m := range members {
		if m.UserID != except {
			rooms = append(rooms, switchboard.ChatUserRoom(tenant, m.UserID))
		}
	}
	return rooms
}

// sortedUnique returns ids without repeats, in first-seen order (the
// order the client gave).
func sortedUnique(ids []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

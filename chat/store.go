package chat

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// Store is chat's sessions, members, messages and users as another
// service sees them from inside its own work: tickets, which are chat
// sessions, read and write them only through it, in chat's types, so
// that chat's tables and statements stay chat's. A Store is made for the
// transaction of one database.Op (every write happens in that Op's
// commit, as if chat's code were the Op's own) or for a read pool, and
// lives no longer.
type Store struct{ db *gorm.DB }

// StoreIn returns the Store that reads and writes through db: the
// transaction a database.Op runs in, or a read pool for reads.
func StoreIn(db *gorm.DB) Store { return Store{db: db} }

// CreateSession stores a session with its first members.
func (st Store) CreateSession(s Session, members ...Member) error {
	return CreateSession(st.db, s, members...)
}

// FindSession returns a session of tenant, or found=false.
func (st Store) FindSession(tenant, id string) (Session, bool, error) {
	return FindSession(st.db, tenant, id)
}

// HandOver gives a session to a new handler (Handover).
func (st Store) HandOver(h Handover) error { return HandOver(st.db, h) }

// InsertMessage stores m, unless its id is stored already
// (inserted=false: a retry); see the function of the same name.
func (st Store) InsertMessage(m *Message) (inserted bool, err error) { return InsertMessage(st.db, m) }

// FindMessage returns the message of tenant with the client id, or
// found=false.
func (st Store) FindMessage(tenant, id string) (Message, bool, error) {
	return FindMessage(st.db, tenant, id)
}

// MessagesSince lists a session's messages after since, oldest first.
func (st Store) MessagesSince(sessionID string, since Since) ([]Message, error) {
	return MessagesSince(st.db, sessionID, since)
}

// CountUnread counts the messages of senderID in a session not read yet.
func (st Store) CountUnread(sessionID, senderID string) (int64, error) {
	return CountUnread(st.db, sessionID, senderID)
}

// MarkReceived moves one message's status forward for its recipient;
// moved=false says nothing changed.
func (st Store) MarkReceived(r StatusReceipt) (m Message, moved bool, err error) {
	return MarkReceived(st.db, r)
}

// SetStatus moves the messages numbered seqs (Message.Seq) forward to
// status, never back; flag is the client's note recorded with it.
func (st Store) SetStatus(seqs []int64, status int, flag bool, now int64) error {
	return SetStatus(st.db, seqs, status, flag, now)
}

// Notify stores a SYSNOTIF message by actor in a session and returns its
// chatMsg pushes to the session's members.
func (st Store) Notify(sess Session, actorID, actorName, text, event string, now int64) (Message, []switchboard.Event, error) {
	return Notify(st.db, sess, actorID, actorName, text, event, now)
}

// FindUser returns the user or found=false.
func (st Store) FindUser(tenant, id string) (User, bool, error) { return FindUser(st.db, tenant, id) }

// EnsureUser records a principal's user without touching a profile it
// has (see the function of the same name).
func (st Store) EnsureUser(u User) error { return EnsureUser(st.db, u) }

// UpdateProfile upserts the user and overwrites the profile fields given.
func (st Store) UpdateProfile(u User, p Profile, now int64) error {
	return UpdateProfile(st.db, u, p, now)
}

// ProfileEvents tell a user and those sharing a session with it that its
// details changed.
func (st Store) ProfileEvents(tenant, userID string) ([]switchboard.Event, error) {
	return ProfileEvents(st.db, tenant, userID)
}

package chat

import (
	"slices"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/database"
)

// FindMember returns userID's membership of a session, current or past.
func FindMember(db *gorm.DB, sessionID, userID string) (m Member, found bool, err error) {
	res := db.Where("session_id = ? AND user_id = ?", sessionID, userID).Limit(1).Find(&m)
	return m, res.RowsAffected > 0, res.Error
}

// Active reports whether the member is in the session (has not left).
func (m Member) Active() bool { return m.LeftAt == 0 }

// ActiveMembers lists the members in a session, in the order they joined.
//
// It runs on every stored message (the chat protocol's fan-out): a
// prepared statement, not a gorm query.
func ActiveMembers(db *gorm.DB, sessionID string) ([]Member, error) {
	rows, err := database.Query(db, `SELECT session_id, user_id, role, joined_at, left_at, starred, archived, last_read_seq
		FROM chat_members WHERE session_id = ? AND left_at = 0 ORDER BY joined_at, user_id`, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Member, 0, 4) // never nil, as gorm's Find gave
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.SessionID, &m.UserID, &m.Role, &m.JoinedAt, &m.LeftAt, &m.Starred, &m.Archived,
			&m.LastReadSeq); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MembersOf lists the members of many sessions, in and out: those in the
// session by joining order, then those who left, last to leave first.
func MembersOf(db *gorm.DB, sessionIDs []string) (map[string][]Member, error) {
	out := map[string][]Member{}
	if len(sessionIDs) == 0 {
		return out, nil
	}
	var ms []Member
	err := db.Where("session_id IN ?", sessionIDs).
		Order("session_id, CASE WHEN left_at = 0 THEN 0 ELSE 1 END, left_at DESC, joined_at, user_id").Find(&ms).Error
	for _, m := range ms {
		out[m.SessionID] = append(out[m.SessionID], m)
	}
	return out, err
}

// SetMemberFlag sets the starred or archived mark of userID on sessions
// and brings its age there up to date (see AgeOf); cutoff is the Unix ms
// before which an unstarred session's last update makes it ARCHIVED.
func SetMemberFlag(tx *gorm.DB, userID string, sessionIDs []string, flag string, value bool, cutoff int64) error {
	if flag != "starred" && flag != "archived" {
		panic("chat: unknown member flag " + flag)
	}
	scope := func() *gorm.DB {
		return tx.Model(&Member{}).Where("user_id = ? AND session_id IN ? AND left_at = 0", userID, sessionIDs)
	}
	if err := scope().Update(flag, value).Error; err != nil {
		return err
	}
	return scope().Update("age", gorm.Expr(`CASE WHEN archived = TRUE THEN ?
		WHEN starred = TRUE OR session_id IN (SELECT id FROM chat_sessions WHERE updated_at >= ?) THEN ?
		ELSE ? END`, AgeArchived, cutoff, AgeRecent, AgeArchived)).Error
}

// Sharers lists the users who are in at least one session with userID,
// the audience of its presence, in order. It runs on every connect and
// disconnect: the list is sorted and made distinct here rather than by
// SQLite's DISTINCT, which opens a temporary b-tree on every run, rows or
// none (docs/performance-journal.md, item 49).
func Sharers(db *gorm.DB, tenant, userID string) ([]string, error) {
	rows, err := database.Query(db, `SELECT o.user_id FROM chat_members me
		JOIN chat_members o ON o.session_id = me.session_id
		JOIN chat_sessions s ON s.id = me.session_id
		WHERE s.tenant = ? AND me.user_id = ? AND me.left_at = 0 AND o.left_at = 0 AND o.user_id <> ?`,
		tenant, userID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out), rows.Err()
}

// Handover is a session changing hands: the handler From ("" for none)
// leaves, To joins as its handler, and the owner's unread messages become
// To's to read.
type Handover struct {
	SessionID, OwnerID string
	From, To, ToName   string
	At                 int64
}

// HandOver applies a handover.
func HandOver(tx *gorm.DB, h Handover) error {
	if h.From != "" {
		if err := Leave(tx, h.SessionID, h.From, h.At); err != nil {
			return err
		}
	}
	if err := Join(tx, h.SessionID, h.To, MemberHandler, h.At); err != nil {
		return err
	}
	return Readdress(tx, h.SessionID, h.OwnerID, h.To, h.ToName)
}

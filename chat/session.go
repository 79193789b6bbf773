package chat

import (
	"github.com/switchboard-chat/switchboard/database"
	"gorm.io/gorm"
)

// Session is a conversation. A ticket's session has the ticket's id.
type Session struct {
	ID          string      `gorm:"column:id;primaryKey"`
	Tenant      string      `gorm:"column:tenant"`
	Type        SessionType `gorm:"column:type"`
	Title       string      `gorm:"column:title"`
	Description string      `gorm:"column:description"`
	CreatorID   string      `gorm:"column:creator_id"`
	CreatedAt   int64       `gorm:"column:created_at;autoCreateTime:milli"`
	UpdatedAt   int64       `gorm:"column:updated_at;autoUpdateTime:milli"`
}

// TableName maps Session to its table.
func (Session) TableName() string { return "chat_sessions" }

// Member is a user's place in a session. LeftAt is 0 while the member is in.
type Member struct {
	SessionID   string `gorm:"column:session_id;primaryKey"`
	UserID      string `gorm:"column:user_id;primaryKey"`
	Role        string `gorm:"column:role"`
	JoinedAt    int64  `gorm:"column:joined_at"`
	LeftAt      int64  `gorm:"column:left_at"`
	Starred     bool   `gorm:"column:starred"`
	Archived    bool   `gorm:"column:archived"`
	LastReadSeq int64  `gorm:"column:last_read_seq"`
}

// TableName maps Member to its table.
func (Member) TableName() string { return "chat_members" }

// CreateSession stores a session with its first members.
func CreateSession(tx *gorm.DB, s Session, members ...Member) error {
	if err := tx.Create(&s).Error; err != nil {
		return err
	}
	if len(members) == 0 {
		return nil
	}
	return tx.Create(&members).Error
}

// Join makes userID a member with role (again, if it had left).
func Join(tx *gorm.DB, sessionID, userID, role string, now int64) error {
	return tx.Exec(`INSERT INTO chat_members (session_id, user_id, role, joined_at, left_at)
		VALUES (?, ?, ?, ?, 0)
		ON CONFLICT (session_id, user_id) DO UPDATE SET role = excluded.role, joined_at = excluded.joined_at, left_at = 0,
			unread_count = -1`,
		sessionID, userID, role, now).Error
}

// Leave marks userID as no longer in the session; its history stays.
func Leave(tx *gorm.DB, sessionID, userID string, now int64) error {
	return tx.Exec(`UPDATE chat_members SET left_at = ? WHERE session_id = ? AND user_id = ? AND left_at = 0`,
		now, sessionID, userID).Error
}

// FindSession returns a session of tenant, or found=false: a session of
// another tenant does not exist for the caller.
func FindSession(db *gorm.DB, tenant, id string) (s Session, found bool, err error) {
	res := db.Where("id = ? AND tenant = ?", id, tenant).Limit(1).Find(&s)
	return s, res.RowsAffected > 0, res.Error
}

// Touch marks a session as updated at now (never back in time): it is
// RECENT again for every member who has not archived it.
//
// It runs on every stored message: prepared statements, not gorm's Exec.
// On PostgreSQL, InsertMessage does the same inside its own statement
// (insertTouchingPostgres): a change here belongs there too.
func Touch(tx *gorm.DB, sessionID string, now int64) error {
	if _, err := database.Exec(tx, `UPDATE chat_sessions SET updated_at = ? WHERE id = ? AND updated_at < ?`,
		now, sessionID, now); err != nil {
		return err
	}
	_, err := database.Exec(tx, `UPDATE chat_members SET age = ? WHERE session_id = ? AND archived = FALSE AND age <> ?`,
		AgeRecent, sessionID, AgeRecent)
	return err
}

// SetDetails changes a session's title and description; nil leaves one
// as it is.
func SetDetails(tx *gorm.DB, sessionID string, title, desc *string, now int64) error {
	set := map[string]any{"updated_at": now}
	if title != nil {
		set["title"] = *title
	}
	if desc != nil {
		set["description"] = *desc
	}
	return tx.Model(&Session{}).Where("id = ?", sessionID).Updates(set).Error
}

// Session ages (MESessionAge).
const (
	AgeRecent   = "RECENT"
	AgeArchived = "ARCHIVED"
)

// MemberSession is a session as one member sees it: with its own star,
// archive mark and read position.
type MemberSession struct {
	Session
	Starred     bool  `gorm:"column:starred"`
	Archived    bool  `gorm:"column:archived"`
	LastReadSeq int64 `gorm:"column:last_read_seq"`
}

// SessionFilter selects the sessions a user is a member of.
type SessionFilter struct {
	Tenant string
	UserID string
	// Age, when set, keeps only the sessions of that age (RECENT or
	// ARCHIVED) for the user, as stored (chat_members.age).
	Age string
	// IDs, when not nil, keeps only these sessions.
	IDs    []string
	Offset int
	Limit  int // 0 = no limit, below 0 = none (count only)
}

func (f SessionFilter) query(db *gorm.DB) *gorm.DB {
	q := db.Table("chat_sessions AS s").
		Joins("JOIN chat_members AS m ON m.session_id = s.id").
		Where("s.tenant = ? AND m.user_id = ? AND m.left_at = 0", f.Tenant, f.UserID)
	if f.Age != "" {
		q = q.Where("m.age = ?", f.Age)
	}
	if f.IDs != nil {
		q = q.Where("s.id IN ?", append(f.IDs, ""))
	}
	return q
}

// MemberSessions lists the sessions of f, most recently updated first, and
// how many there are in all (without Offset and Limit).
func MemberSessions(db *gorm.DB, f SessionFilter) (out []MemberSession, total int64, err error) {
	if err := f.query(db).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if f.Limit < 0 {
		return []MemberSession{}, total, nil
	}
	q := f.query(db).Select("s.*, m.starred, m.archived, m.last_read_seq").
		Order("s.updated_at DESC, s.id").Offset(f.Offset)
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	return out, total, q.Scan(&out).Error
}

package chat

import "gorm.io/gorm"

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
		ON CONFLICT (session_id, user_id) DO UPDATE SET role = excluded.role, joined_at = excluded.joined_at, left_at = 0`,
		sessionID, userID, role, now).Error
}

// Leave marks userID as no longer in the session; its history stays.
func Leave(tx *gorm.DB, sessionID, userID string, now int64) error {
	return tx.Exec(`UPDATE chat_members SET left_at = ? WHERE session_id = ? AND user_id = ? AND left_at = 0`,
		now, sessionID, userID).Error
}

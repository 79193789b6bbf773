package chat

import (
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Read state. A message is read by a user when the user sent it, when it
// was addressed to the user (a ticket message) and its status is read, or
// when the user has a read receipt for it (message_reads). The first two
// keep a ticket's reads one state seen through both protocols.

// unread is the condition "m is unread by the user" for a query binding
// the user's id as @user.
const unread = `m.removed_at = 0 AND m.sender_id <> @user
	AND NOT (m.recipient_id = @user AND m.status_id >= 3)
	AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.seq = m.seq AND r.user_id = @user)`

// Receipt is one read receipt.
type Receipt struct {
	Seq       int64  `gorm:"column:seq;primaryKey"`
	UserID    string `gorm:"column:user_id;primaryKey"`
	SessionID string `gorm:"column:session_id"`
	ReadAt    int64  `gorm:"column:read_at"`
}

// TableName maps Receipt to its table.
func (Receipt) TableName() string { return "message_reads" }

// UnreadMessages lists the messages of a session userID has not read,
// oldest first; with seqs, only among those.
func UnreadMessages(db *gorm.DB, sessionID, userID string, seqs []int64) ([]Message, error) {
	q := db.Table("messages AS m").Where("m.session_id = @s AND "+unread, map[string]any{"s": sessionID, "user": userID})
	if seqs != nil {
		q = q.Where("m.seq IN ?", append(seqs, -1))
	}
	var out []Message
	return out, q.Order("m.seq").Find(&out).Error
}

// MarkRead records that userID has read ms (messages it has not read yet)
// at now. A ticket message addressed to the user also moves to read, as
// the livechat protocol's updateMessageStatus would.
func MarkRead(tx *gorm.DB, userID string, ms []Message, now int64) error {
	if len(ms) == 0 {
		return nil
	}
	receipts := make([]Receipt, 0, len(ms))
	var addressed []int64
	for _, m := range ms {
		receipts = append(receipts, Receipt{Seq: m.Seq, UserID: userID, SessionID: m.SessionID, ReadAt: now})
		if m.RecipientID == userID {
			addressed = append(addressed, m.Seq)
		}
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&receipts).Error; err != nil {
		return err
	}
	return SetStatus(tx, addressed, StatusRead, false, now)
}

// UnreadCounts counts the messages userID has not read in each session.
func UnreadCounts(db *gorm.DB, userID string, sessionIDs []string) (map[string]int64, error) {
	return countBySession(db, sessionIDs, `SELECT m.session_id AS session_id, COUNT(*) AS n FROM messages m
		WHERE m.session_id IN @ids AND `+unread+` GROUP BY m.session_id`, map[string]any{"user": userID})
}

// ReadTimes returns when userID read each of ms (0 = not read); a
// message the user sent counts as read when it was sent.
func ReadTimes(db *gorm.DB, userID string, ms []Message) (map[int64]int64, error) {
	out := map[int64]int64{}
	var seqs []int64
	for _, m := range ms {
		switch {
		case m.SenderID == userID:
			out[m.Seq] = m.CreatedAt
		case m.RecipientID == userID && m.StatusID >= StatusRead:
			out[m.Seq] = m.ReadAt
		default:
			seqs = append(seqs, m.Seq)
		}
	}
	if len(seqs) == 0 {
		return out, nil
	}
	var rs []Receipt
	if err := db.Where("user_id = ? AND seq IN ?", userID, seqs).Find(&rs).Error; err != nil {
		return nil, err
	}
	for _, r := range rs {
		out[r.Seq] = r.ReadAt
	}
	return out, nil
}

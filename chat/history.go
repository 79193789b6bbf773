package chat

import "gorm.io/gorm"

// RecentMessages lists a session's messages newest first, skipping offset
// of them; removed messages are not listed. limit 0 = no limit.
func RecentMessages(db *gorm.DB, sessionID string, offset, limit int) ([]Message, error) {
	q := db.Where("session_id = ? AND removed_at = 0", sessionID).Order("seq DESC").Offset(offset)
	if limit > 0 {
		q = q.Limit(limit)
	}
	var out []Message
	return out, q.Find(&out).Error
}

// LatestMessages lists, for each session, its messages newest first after
// skipping offset, at most limit of them.
func LatestMessages(db *gorm.DB, sessionIDs []string, offset, limit int) (map[string][]Message, error) {
	out := map[string][]Message{}
	if len(sessionIDs) == 0 || limit <= 0 {
		return out, nil
	}
	var ms []Message
	err := db.Raw(`SELECT * FROM (
			SELECT messages.*, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY seq DESC) AS rn
			FROM messages WHERE session_id IN ? AND removed_at = 0) x
		WHERE rn > ? AND rn <= ? ORDER BY session_id, seq DESC`, sessionIDs, offset, offset+limit).Scan(&ms).Error
	for _, m := range ms {
		out[m.SessionID] = append(out[m.SessionID], m)
	}
	return out, err
}

// CountMessages counts each session's messages (removed ones excepted).
func CountMessages(db *gorm.DB, sessionIDs []string) (map[string]int64, error) {
	return countBySession(db, sessionIDs, `SELECT session_id, COUNT(*) AS n FROM messages
		WHERE session_id IN @ids AND removed_at = 0 GROUP BY session_id`, nil)
}

// countBySession runs query, which counts (session_id, n) over the
// sessions in @ids, and returns the counts by session. args are its other
// named arguments.
func countBySession(db *gorm.DB, sessionIDs []string, query string, args map[string]any) (map[string]int64, error) {
	out := map[string]int64{}
	if len(sessionIDs) == 0 {
		return out, nil
	}
	named := map[string]any{"ids": sessionIDs}
	for k, v := range args {
		named[k] = v
	}
	var rows []struct {
		SessionID string
		N         int64
	}
	err := db.Raw(query, named).Scan(&rows).Error
	for _, r := range rows {
		out[r.SessionID] = r.N
	}
	return out, err
}

// FindSessionMessage returns a message of a session that is not removed.
func FindSessionMessage(db *gorm.DB, sessionID, id string) (m Message, found bool, err error) {
	res := db.Where("id = ? AND session_id = ? AND removed_at = 0", id, sessionID).Limit(1).Find(&m)
	return m, res.RowsAffected > 0, res.Error
}

// FindSessionMessages returns the messages of a session with the ids given
// (removed ones excepted), in commit order.
func FindSessionMessages(db *gorm.DB, sessionID string, ids []string) ([]Message, error) {
	var out []Message
	return out, db.Where("session_id = ? AND id IN ? AND removed_at = 0", sessionID, ids).Order("seq").Find(&out).Error
}

// EditMessage replaces a message's content.
func EditMessage(tx *gorm.DB, seq int64, content string, now int64) error {
	return tx.Model(&Message{}).Where("seq = ?", seq).Updates(map[string]any{"content": content, "edited_at": now}).Error
}

// RemoveMessage removes a message: it keeps its place (and id) in the
// session, not its content.
func RemoveMessage(tx *gorm.DB, seq int64, now int64) error {
	var sessionID string
	if err := tx.Raw(`SELECT session_id FROM messages WHERE seq = ?`, seq).Scan(&sessionID).Error; err != nil {
		return err
	}
	if err := tx.Model(&Message{}).Where("seq = ?", seq).
		Updates(map[string]any{"content": "", "metadata": "", "removed_at": now}).Error; err != nil {
		return err
	}
	return ForgetUnread(tx, sessionID) // a removed message is no one's to read
}

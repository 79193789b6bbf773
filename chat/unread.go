package chat

import (
	"database/sql"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Unread counts pushed. A user's unread messages are what the unread
// condition says (reads.go); their counts are stored per member and
// moved in the same commit as the messages and reads they count
// (CountUnreadOf), recounted from them whenever not known. Every write
// that changes a user's
// unread messages (a message to them, a read by them on any protocol)
// returns, in its commit, the user's counts as they now stand, and every
// socket of the user hears them (the chat protocol's unreadCountUpdated,
// livechat's unreadCountUpdated for a ticket, RTM's
// channel.unreadCountUpdate).

// EventUnreadCount is the name of the push, on the chat and livechat
// protocols alike.
const EventUnreadCount = "unreadCountUpdated"

// UnreadCount is a user's unread messages after a change in one session:
// in the session, the oldest of them ("" for none), and in all the user's
// sessions.
type UnreadCount struct {
	SessionID string `json:"chatSessionId"`
	Count     int64  `json:"unreadCount"`
	Total     int64  `json:"totalUnreadCount"`
	OldestID  string `json:"oldestUnreadMsgId"`
}

// LivechatUnreadCount is UnreadCount in livechat's words.
type LivechatUnreadCount struct {
	TicketID string `json:"ticketId"`
	Count    int64  `json:"unreadCount"`
	Total    int64  `json:"totalUnreadCount"`
	OldestID string `json:"oldestUnreadMessageId"`
}

// CountUnreadOf is userID's UnreadCount in a session.
//
// The counts are kept per member (chat_members.unread_count), in the
// commit of each change, so that a message costs each member one row's
// update rather than a count of what it has left unread: InsertMessage
// adds one for every member but the sender (and moves the member's read
// mark, last_read_seq, to just before the message when it is the only
// unread one), and whatever else changes a member's unread messages (a
// read, a read status, a removal, a join) sets the member's count to -1,
// not known (ForgetUnread). A count not known is recounted here, from the
// read mark, which the recount moves up to just before the oldest unread
// message (to the session's last message when none is): the mark is then
// always that, so the oldest unread message is the one just past it. The
// total is the sum of the user's open memberships' counts (an index
// lookup of the user's rows).
func CountUnreadOf(tx *gorm.DB, userID, sessionID string) (UnreadCount, error) {
	out := UnreadCount{SessionID: sessionID}
	for {
		var unknown int64
		var count sql.NullInt64
		var oldest sql.NullString
		err := database.QueryRow(tx, countUnread, sessionID, sessionID, userID, userID).
			Scan(&out.Total, &unknown, &count, &oldest)
		if err != nil || unknown == 0 {
			out.Count, out.OldestID = count.Int64, oldest.String
			return out, err
		}
		if err := recountUnknown(tx, userID); err != nil {
			return out, err
		}
	}
}

// countUnread reads a user's counts from its open memberships' rows (the
// chat_members_user index): the total of those known, how many are not,
// and the session's count and its oldest unread message (the one just
// past the read mark, by its key), in one round trip.
const countUnread = `SELECT COALESCE(SUM(CASE WHEN unread_count > 0 THEN unread_count ELSE 0 END), 0),
		COUNT(CASE WHEN unread_count < 0 THEN 1 END),
		MAX(CASE WHEN session_id = ? THEN unread_count END),
		(SELECT m.id FROM chat_members c JOIN messages m ON m.seq = c.last_read_seq + 1
			WHERE c.session_id = ? AND c.user_id = ? AND c.left_at = 0 AND c.unread_count > 0)
	FROM chat_members WHERE user_id = ? AND left_at = 0`

// recountUnknown recounts the user's counts that are not known.
func recountUnknown(tx *gorm.DB, userID string) error {
	var unknown []string
	if err := tx.Raw(`SELECT session_id FROM chat_members WHERE user_id = ? AND left_at = 0 AND unread_count < 0`,
		userID).Scan(&unknown).Error; err != nil {
		return err
	}
	for _, id := range unknown {
		if err := recountUnread(tx, userID, id); err != nil {
			return err
		}
	}
	return nil
}

// recountUnread counts a member's unread messages in a session past its
// read mark, and stores the count with the mark moved up to just before
// the oldest of them (to the session's last message when none is). A
// message never becomes unread again (statuses move forward, receipts
// and removals stay, a message is re-addressed only while it is unread),
// so the mark stays true.
func recountUnread(tx *gorm.DB, userID, sessionID string) error {
	var row struct {
		Count  int64
		Oldest *int64
	}
	args := map[string]any{"s": sessionID, "user": userID}
	err := tx.Raw(`SELECT COUNT(*) AS count, MIN(m.seq) AS oldest
		FROM chat_members cm JOIN messages m ON m.session_id = cm.session_id AND m.seq > cm.last_read_seq
		WHERE cm.session_id = @s AND cm.user_id = @user AND cm.left_at = 0 AND `+unread, args).Scan(&row).Error
	if err != nil {
		return err
	}
	mark := `(SELECT COALESCE(MAX(seq), 0) FROM messages WHERE session_id = @s)`
	if row.Oldest != nil {
		mark, args["oldest"] = `@oldest - 1`, *row.Oldest
	}
	args["n"] = row.Count
	return tx.Exec(`UPDATE chat_members SET unread_count = @n,
			last_read_seq = CASE WHEN last_read_seq < `+mark+` THEN `+mark+` ELSE last_read_seq END
		WHERE session_id = @s AND user_id = @user AND left_at = 0`, args).Error
}

// ForgetUnread sets users' unread counts in a session to not known (all
// its members' without users): the next count recounts them.
func ForgetUnread(tx *gorm.DB, sessionID string, users ...string) error {
	q := `UPDATE chat_members SET unread_count = -1 WHERE session_id = ? AND unread_count <> -1`
	if len(users) == 0 {
		_, err := database.Exec(tx, q, sessionID)
		return err
	}
	for _, u := range users {
		if _, err := database.Exec(tx, q+` AND user_id = ?`, sessionID, u); err != nil {
			return err
		}
	}
	return nil
}

// forgetReadStatus is ForgetUnread for the recipients of messages (by
// seq) that have just moved to read.
func forgetReadStatus(tx *gorm.DB, seqs []int64) error {
	var rows []struct{ SessionID, RecipientID string }
	if err := tx.Raw(`SELECT DISTINCT session_id, recipient_id FROM messages WHERE seq IN ? AND recipient_id <> ''`,
		seqs).Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if err := ForgetUnread(tx, r.SessionID, r.RecipientID); err != nil {
			return err
		}
	}
	return nil
}

// countMessage adds a message just stored to the unread counts of its
// session's members but its sender (SQLite; on PostgreSQL the insert
// does it, insertTouchingPostgres).
func countMessage(tx *gorm.DB, m *Message) error {
	_, err := database.Exec(tx, `UPDATE chat_members SET unread_count = unread_count + 1,
			last_read_seq = CASE WHEN unread_count = 0 THEN ? ELSE last_read_seq END
		WHERE session_id = ? AND user_id <> ? AND unread_count >= 0 AND NOT (user_id = ? AND ? >= ?)`,
		m.Seq-1, m.SessionID, m.SenderID, m.RecipientID, m.StatusID, StatusRead)
	return err
}

// UnreadEvents are the pushes of users' counts after a change in a
// session of tenant: to their chat-protocol sockets and, for a ticket,
// their livechat sockets (an operator's and an end user's room both: an
// id is one of the two).
func UnreadEvents(tx *gorm.DB, tenant, sessionID string, ticket bool, users ...string) ([]switchboard.Event, error) {
	var evs []switchboard.Event
	for _, id := range users {
		if id == "" {
			continue
		}
		n, err := CountUnreadOf(tx, id, sessionID)
		if err != nil {
			return nil, err
		}
		evs = append(evs, push(EventUnreadCount, n, sessionID, "", switchboard.ChatUserRoom(tenant, id)))
		if ticket {
			evs = append(evs, switchboard.Event{Name: EventUnreadCount, SessionID: sessionID,
				Args: []any{LivechatUnreadCount{TicketID: sessionID, Count: n.Count, Total: n.Total, OldestID: n.OldestID}},
				To:   []string{switchboard.UserRoom(tenant, id), switchboard.OperatorRoom(tenant, id)}})
		}
	}
	return evs, nil
}

// UnreadEvents is the function of the same name, for tickets.
func (st Store) UnreadEvents(tenant, sessionID string, users ...string) ([]switchboard.Event, error) {
	return UnreadEvents(st.db, tenant, sessionID, true, users...)
}

// ForgetUnread is the function of the same name, for tickets.
func (st Store) ForgetUnread(sessionID string, users ...string) error {
	return ForgetUnread(st.db, sessionID, users...)
}

// othersThan are the ids of members but one.
func othersThan(members []Member, except string) []string {
	out := make([]string, 0, len(members))
	for _, m := range members {
		if m.UserID != except {
			out = append(out, m.UserID)
		}
	}
	return out
}

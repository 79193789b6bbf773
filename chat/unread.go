package chat

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// Unread counts pushed. A user's unread messages are what the unread
// condition says (reads.go): the counts are never kept apart from the
// messages and reads they count, so they cannot drift from them. What is
// maintained is their announcement: every write that changes a user's
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
// Counting reads only the messages past each of the user's sessions'
// read mark (chat_members.last_read_seq: every message up to it is read
// by the user, as the unread condition says), and moves the session's
// mark up to just before its oldest unread message (to its last message
// when none is), while the user is a member (what it counts). A message never becomes unread again (statuses move
// forward, receipts and removals stay, a message is re-addressed only
// to a member who joined after it), so the mark stays true, and the
// count costs what the user has left unread rather than every message
// of its sessions.
func CountUnreadOf(tx *gorm.DB, userID, sessionID string) (UnreadCount, error) {
	var row struct {
		Total  int64
		Count  int64
		Oldest *int64
	}
	err := tx.Raw(`SELECT COUNT(*) AS total,
			COALESCE(SUM(CASE WHEN m.session_id = @s THEN 1 ELSE 0 END), 0) AS count,
			MIN(CASE WHEN m.session_id = @s THEN m.seq END) AS oldest
		FROM chat_members cm JOIN messages m ON m.session_id = cm.session_id AND m.seq > cm.last_read_seq
		WHERE cm.user_id = @user AND cm.left_at = 0 AND `+unread, map[string]any{"s": sessionID, "user": userID}).Scan(&row).Error
	out := UnreadCount{SessionID: sessionID, Count: row.Count, Total: row.Total}
	if err != nil {
		return out, err
	}
	mark := `(SELECT COALESCE(MAX(seq), 0) FROM messages WHERE session_id = @s)`
	if row.Oldest != nil {
		mark = `@oldest - 1`
		if err := tx.Raw(`SELECT id FROM messages WHERE seq = ?`, *row.Oldest).Scan(&out.OldestID).Error; err != nil {
			return out, err
		}
	}
	var oldest int64
	if row.Oldest != nil {
		oldest = *row.Oldest
	}
	err = tx.Exec(`UPDATE chat_members SET last_read_seq = `+mark+`
		WHERE session_id = @s AND user_id = @user AND left_at = 0 AND last_read_seq < `+mark,
		map[string]any{"s": sessionID, "user": userID, "oldest": oldest}).Error
	return out, err
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

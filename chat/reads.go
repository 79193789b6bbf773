package chat

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard-chat/switchboard"
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
	for i, m := range ms {
		if i > 0 && ms[i-1].SessionID == m.SessionID {
			continue // the same session as the one before: already forgotten
		}
		if err := ForgetUnread(tx, m.SessionID, userID); err != nil {
			return err
		}
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

// ReadReceipts are the msgMarkedRead pushes telling each sender of ms
// (messages reader has just read) which of its messages were read.
func ReadReceipts(reader string, ms []Message) []switchboard.Event {
	type key struct{ session, sender string }
	ids := map[key][]string{}
	var order []key
	tenant := map[key]string{}
	for _, m := range ms {
		k := key{m.SessionID, m.SenderID}
		if ids[k] == nil {
			order = append(order, k)
			tenant[k] = m.Tenant
		}
		ids[k] = append(ids[k], m.ID)
	}
	evs := make([]switchboard.Event, 0, len(order))
	for _, k := range order {
		evs = append(evs, push("msgMarkedRead", map[string]any{"chatSessionId": k.session, "msgCount": len(ids[k]),
			"messages": ids[k], "username": reader}, k.session, "", switchboard.ChatUserRoom(tenant[k], k.sender)))
	}
	return evs
}

// MarkMsgRead marks messages of a session read by the caller. Ids that
// are no message of the session are INVALID_REQUEST and nothing changes;
// messages already read (or the caller's own) count for nothing. Each
// sender hears msgMarkedRead with the ids of its messages the caller read
// (a read receipt); a ticket message's sender also hears it through the
// livechat protocol.
func (s *Service) MarkMsgRead(ctx context.Context, c Caller, sessionID string, ids []string) (map[string]any, error) {
	ids = sortedUnique(ids)
	var out map[string]any
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		if _, err := memberOf(tx, c, sessionID, notFound(sessionID)); err != nil {
			return nil, err
		}
		found, err := FindSessionMessages(tx, sessionID, ids)
		if err != nil {
			return nil, err
		}
		if len(found) != len(ids) {
			return nil, switchboard.Errorf(switchboard.EINVALID, "not every id is a message of chat session %s", sessionID)
		}
		seqs := make([]int64, len(found))
		for i, m := range found {
			seqs[i] = m.Seq
		}
		targets, err := UnreadMessages(tx, sessionID, c.UserID, seqs)
		if err != nil {
			return nil, err
		}
		evs, err := s.markRead(tx, c, sessionID, targets, now)
		if err != nil {
			return nil, err
		}
		unread, err := UnreadCounts(tx, c.UserID, []string{sessionID})
		out = map[string]any{"chatSessionId": sessionID, "msgCount": len(targets), "unreadCount": unread[sessionID],
			"messages": msgIDs(targets)}
		return evs, err
	})
	return out, err
}

func msgIDs(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// markRead records the reads and returns the receipts for the senders.
func (s *Service) markRead(tx *gorm.DB, c Caller, sessionID string, ms []Message, now int64) ([]switchboard.Event, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	if err := MarkRead(tx, c.UserID, ms, now); err != nil {
		return nil, err
	}
	var addressed []Message
	for _, m := range ms {
		if m.RecipientID == c.UserID {
			addressed = append(addressed, m)
		}
	}
	evs := ReadReceipts(c.UserID, ms)
	ticket, err := s.isTicket(tx, sessionID)
	if err != nil {
		return nil, err
	}
	counts, err := UnreadEvents(tx, c.Tenant(), sessionID, ticket, c.UserID)
	if err != nil {
		return nil, err
	}
	evs = append(evs, counts...)
	if len(addressed) > 0 && s.opts.Tickets != nil {
		more, err := s.opts.Tickets.ReadEvents(c, addressed)(tx)
		if err != nil {
			return nil, err
		}
		evs = append(evs, more...)
	}
	return evs, nil
}

// MarkSessionRead marks every message of a session read by the caller;
// the caller's other sockets hear sessionMarkedRead.
func (s *Service) MarkSessionRead(ctx context.Context, c Caller, sessionID string) (map[string]any, error) {
	var out map[string]any
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		if _, err := memberOf(tx, c, sessionID, notFound(sessionID)); err != nil {
			return nil, err
		}
		evs, err := s.readAll(tx, c, sessionID, now)
		if err != nil {
			return nil, err
		}
		out = map[string]any{"chatSessionId": sessionID}
		return append(evs, push("sessionMarkedRead", out, sessionID, c.Socket, userRoom(c))), nil
	})
	return out, err
}

func (s *Service) readAll(tx *gorm.DB, c Caller, sessionID string, now int64) ([]switchboard.Event, error) {
	ms, err := UnreadMessages(tx, sessionID, c.UserID, nil)
	if err != nil {
		return nil, err
	}
	return s.markRead(tx, c, sessionID, ms, now)
}

// MarkAllSessionsRead marks every message of every session of the caller
// read; the caller's other sockets hear allSessionsMarkedRead with the
// sessions that had unread messages.
func (s *Service) MarkAllSessionsRead(ctx context.Context, c Caller) (map[string]any, error) {
	var out map[string]any
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		ms, _, err := MemberSessions(tx, SessionFilter{Tenant: c.Tenant(), UserID: c.UserID})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		unread, err := UnreadCounts(tx, c.UserID, ids)
		if err != nil {
			return nil, err
		}
		marked := []string{}
		var evs []switchboard.Event
		for _, id := range ids {
			if unread[id] == 0 {
				continue
			}
			more, err := s.readAll(tx, c, id, now)
			if err != nil {
				return nil, err
			}
			evs = append(evs, more...)
			marked = append(marked, id)
		}
		out = map[string]any{"chatSessionIds": marked}
		return append(evs, push("allSessionsMarkedRead", out, "", c.Socket, userRoom(c))), nil
	})
	return out, err
}

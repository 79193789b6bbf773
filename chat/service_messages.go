package chat

import (
	"context"
	"encoding/json"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// SendMsgInput is a new message.
type SendMsgInput struct {
	SessionID string
	Content   string
	// Metadata is the client's chatMetadata (JSON), stored and relayed as
	// given; nil for none.
	Metadata json.RawMessage
	// Key (clientMsgId) names the message for retries: a second SendMsg
	// with the caller's key answers with the message the first stored.
	Key string
}

// SendMsg stores a message from the caller in a session it is in (a ticket
// session follows the ticket's rules) and pushes it to the members as
// chatMsg. A retry with the first one's Key stores nothing and pushes
// nothing: it answers with the message the first stored.
func (s *Service) SendMsg(ctx context.Context, c Caller, in SendMsgInput) (MsgPayload, error) {
	var out MsgPayload
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		id, fresh, err := claimKey(tx, c, keyMessage, in.Key, NewID(), now)
		if err != nil || !fresh {
			if err == nil {
				out, err = sentBefore(tx, c, in.SessionID, id, in.Key)
			}
			return nil, err
		}
		sess, err := memberOf(tx, c, in.SessionID, notMemberError(ResultUnauthorized, in.SessionID))
		if err != nil {
			return nil, err
		}
		if err := s.mayWrite(tx, c, sess.ID); err != nil {
			return nil, err
		}
		if is, err := s.isTicket(tx, sess.ID); err != nil || is {
			if err != nil {
				return nil, err
			}
			var m Message
			evs, err := s.opts.Tickets.SendMessage(c, sess.ID, id, in.Content, &m)(tx)
			out = msgPayload(m, c.UserID())
			return evs, err
		}
		m := Message{ID: id, SessionID: sess.ID, Tenant: sess.Tenant, Kind: KindUser, Type: TypeText,
			Content: in.Content, Encoding: "utf-8", SenderID: c.UserID(), SenderName: c.Principal.DisplayName,
			StatusID: StatusSent, CreatedAt: now, Metadata: encodeMetadata(in.Metadata, nil)}
		if _, err := InsertMessage(tx, &m); err != nil {
			return nil, err
		}
		out = msgPayload(m, c.UserID())
		members, err := ActiveMembers(tx, sess.ID)
		if err != nil {
			return nil, err
		}
		return AppendMessageEvents(nil, "chatMsg", m, members, c.Socket), nil
	})
	return out, err
}

// AppendMessageEvents appends to evs the events that push a message to a
// session's members: the sender's other sockets see it as read, everyone
// else as unread. Their bodies are rendered only for a socket that
// receives them (messageBody).
func AppendMessageEvents(evs []switchboard.Event, name string, m Message, members []Member, exceptSocket string) []switchboard.Event {
	shared := &m
	evs = append(evs, pushBody(name, messageBody{shared, m.SenderID}, m.SessionID, exceptSocket,
		switchboard.ChatUserRoom(m.Tenant, m.SenderID)))
	if others := memberRooms(m.Tenant, members, m.SenderID); len(others) > 0 {
		evs = append(evs, pushBody(name, messageBody{shared, ""}, m.SessionID, "", others...))
	}
	return evs
}

// ownMessage loads a message of a session the caller is in that the
// caller sent and may change.
func (s *Service) ownMessage(tx *gorm.DB, c Caller, sessionID, msgID string) (Message, error) {
	if _, err := memberOf(tx, c, sessionID, notMemberError(ResultUnauthorized, sessionID)); err != nil {
		return Message{}, err
	}
	m, found, err := FindSessionMessage(tx, sessionID, msgID)
	if err != nil {
		return m, err
	}
	if !found {
		return m, switchboard.Errorf(EMSGNOTFOUND, "no message %s in chat session %s", msgID, sessionID)
	}
	if m.SenderID != c.UserID() || m.Kind != KindUser {
		return m, switchboard.Errorf(switchboard.EFORBIDDEN, "only its sender may change a message")
	}
	if err := s.refuseTicket(tx, sessionID, "a message"); err != nil {
		return m, switchboard.Errorf(switchboard.EFORBIDDEN, "a ticket's messages cannot be changed")
	}
	return m, nil
}

// EditMsg replaces the content of the caller's own message; the members
// hear msgEdited.
func (s *Service) EditMsg(ctx context.Context, c Caller, sessionID, msgID, content string) (MsgPayload, error) {
	now := s.millis()
	return s.changeOwnMessage(ctx, c, sessionID, msgID, "msgEdited", func(tx *gorm.DB, m *Message) error {
		if err := s.mayWrite(tx, c, sessionID); err != nil {
			return err
		}
		m.Content, m.EditedAt = content, now
		return EditMessage(tx, m.Seq, content, now)
	})
}

// RemoveMsg removes the caller's own message; the members hear
// msgRemoved.
func (s *Service) RemoveMsg(ctx context.Context, c Caller, sessionID, msgID string) (MsgPayload, error) {
	now := s.millis()
	return s.changeOwnMessage(ctx, c, sessionID, msgID, "msgRemoved", func(tx *gorm.DB, m *Message) error {
		m.Content, m.Metadata, m.RemovedAt = "", "", now
		return RemoveMessage(tx, m.Seq, now)
	})
}

// changeOwnMessage applies change to the caller's own message msgID of
// sessionID and tells the members with event.
func (s *Service) changeOwnMessage(ctx context.Context, c Caller, sessionID, msgID, event string,
	change func(tx *gorm.DB, m *Message) error) (MsgPayload, error) {
	var out MsgPayload
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		m, err := s.ownMessage(tx, c, sessionID, msgID)
		if err != nil {
			return nil, err
		}
		if err := change(tx, &m); err != nil {
			return nil, err
		}
		out = msgPayload(m, c.UserID())
		members, err := ActiveMembers(tx, sessionID)
		return AppendMessageEvents(nil, event, m, members, c.Socket), err
	})
	return out, err
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
		targets, err := UnreadMessages(tx, sessionID, c.UserID(), seqs)
		if err != nil {
			return nil, err
		}
		evs, err := s.markRead(tx, c, sessionID, targets, now)
		if err != nil {
			return nil, err
		}
		unread, err := UnreadCounts(tx, c.UserID(), []string{sessionID})
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
	if err := MarkRead(tx, c.UserID(), ms, now); err != nil {
		return nil, err
	}
	var addressed []Message
	for _, m := range ms {
		if m.RecipientID == c.UserID() {
			addressed = append(addressed, m)
		}
	}
	evs := ReadReceipts(c.UserID(), ms)
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
		return append(evs, push("sessionMarkedRead", out, sessionID, c.Socket, c.room())), nil
	})
	return out, err
}

func (s *Service) readAll(tx *gorm.DB, c Caller, sessionID string, now int64) ([]switchboard.Event, error) {
	ms, err := UnreadMessages(tx, sessionID, c.UserID(), nil)
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
		ms, _, err := MemberSessions(tx, SessionFilter{Tenant: c.Tenant(), UserID: c.UserID()})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		unread, err := UnreadCounts(tx, c.UserID(), ids)
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
		return append(evs, push("allSessionsMarkedRead", out, "", c.Socket, c.room())), nil
	})
	return out, err
}

// ChatMessages lists a session's messages newest first. Only members
// read a session: anyone else (and a session that does not exist for the
// caller) is NOT_MEMBER_OF_CHAT.
func (s *Service) ChatMessages(ctx context.Context, c Caller, sessionID string, p Page) (map[string]any, error) {
	db := s.read(ctx)
	notMember := notMemberError(ENOTMEMBER, sessionID)
	if _, err := memberOf(db, c, sessionID, notMember); err != nil {
		if switchboard.ErrorCode(err) == ECHATNOTFOUND {
			err = notMember
		}
		return nil, err
	}
	ms, err := RecentMessages(db, sessionID, p.Offset, p.Limit)
	if err != nil {
		return nil, err
	}
	counts, err := CountMessages(db, []string{sessionID})
	if err != nil {
		return nil, err
	}
	readAt, err := ReadTimes(db, c.UserID(), ms)
	if err != nil {
		return nil, err
	}
	out := make([]MessageDetails, len(ms))
	for i, m := range ms {
		out[i] = messageDetails(m, readAt[m.Seq])
	}
	return map[string]any{"chatSessionId": sessionID, "count": counts[sessionID], "messages": out}, nil
}

// Typing actions.
const (
	ActionTyping        = "TYPING"
	ActionStoppedTyping = "STOPPED_TYPING"
)

// UserAction tells the other members of a session that the caller is
// typing or stopped. Nothing is stored: the events are returned for the
// caller to publish (it throttles them).
func (s *Service) UserAction(ctx context.Context, c Caller, sessionID, action string) (map[string]any, []switchboard.Event, error) {
	db := s.read(ctx)
	if _, err := memberOf(db, c, sessionID, switchboard.Errorf(switchboard.EINVALID, "you are not a member of chat session %s", sessionID)); err != nil {
		return nil, nil, err
	}
	members, err := ActiveMembers(db, sessionID)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]any{"username": c.UserID(), "chatSessionId": sessionID, "action": action,
		"ts": FormatMillis(s.millis())}
	var evs []switchboard.Event
	if rooms := memberRooms(c.Tenant(), members, c.UserID()); len(rooms) > 0 {
		evs = append(evs, push("userAction", out, sessionID, "", rooms...))
	}
	if action == ActionTyping && s.opts.Tickets != nil {
		more, err := s.opts.Tickets.TypingEvents(ctx, c, sessionID)
		if err != nil {
			return nil, nil, err
		}
		evs = append(evs, more...)
	}
	return out, evs, nil
}

// Publish sends events that need no write (typing).
func (s *Service) Publish(evs []switchboard.Event) {
	if len(evs) > 0 {
		s.opts.Publisher.Publish(evs)
	}
}

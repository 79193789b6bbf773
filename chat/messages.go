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
			out = msgPayload(m, c.UserID)
			if err == nil && m.ID != "" && s.committer.Streaming() {
				evs = append(evs, MessageSentEvent(m, nil))
			}
			return evs, err
		}
		m := Message{ID: id, SessionID: sess.ID, Tenant: sess.Tenant, Kind: KindUser, Type: TypeText,
			Content: in.Content, Encoding: "utf-8", SenderID: c.UserID, SenderName: c.Principal.DisplayName,
			StatusID: StatusSent, CreatedAt: now, Metadata: encodeMetadata(in.Metadata, nil)}
		if _, err := InsertMessage(tx, &m); err != nil {
			return nil, err
		}
		out = msgPayload(m, c.UserID)
		members, err := ActiveMembers(tx, sess.ID)
		if err != nil {
			return nil, err
		}
		evs := AppendMessageEvents(nil, "chatMsg", m, members, c.Socket)
		counts, err := UnreadEvents(tx, sess.Tenant, sess.ID, false, othersThan(members, c.UserID)...)
		if err != nil {
			return nil, err
		}
		evs = append(evs, counts...)
		if s.committer.Streaming() {
			evs = append(evs, MessageSentEvent(m, members))
		}
		return evs, nil
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
	if m.SenderID != c.UserID || m.Kind != KindUser {
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
	return s.changeOwnMessage(ctx, c, sessionID, msgID, "msgEdited", StreamMessageEdited, now, func(tx *gorm.DB, m *Message) error {
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
	return s.changeOwnMessage(ctx, c, sessionID, msgID, "msgRemoved", StreamMessageRemoved, now, func(tx *gorm.DB, m *Message) error {
		m.Content, m.Metadata, m.RemovedAt = "", "", now
		return RemoveMessage(tx, m.Seq, now)
	})
}

// changeOwnMessage applies change to the caller's own message msgID of
// sessionID at now and tells the members with event, the stream with
// streamEvent.
func (s *Service) changeOwnMessage(ctx context.Context, c Caller, sessionID, msgID, event, streamEvent string, now int64,
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
		out = msgPayload(m, c.UserID)
		members, err := ActiveMembers(tx, sessionID)
		evs := AppendMessageEvents(nil, event, m, members, c.Socket)
		if s.committer.Streaming() {
			evs = append(evs, messageChangeEvent(streamEvent, m, now))
		}
		return evs, err
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
	readAt, err := ReadTimes(db, c.UserID, ms)
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
	out := map[string]any{"username": c.UserID, "chatSessionId": sessionID, "action": action,
		"ts": FormatMillis(s.millis())}
	var evs []switchboard.Event
	if rooms := memberRooms(c.Tenant(), members, c.UserID); len(rooms) > 0 {
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

// UserActionEvent is the userAction push of userID typing (or having
// stopped) in a session, to the users named.
func UserActionEvent(tenant, userID, sessionID, action string, at int64, to ...string) switchboard.Event {
	rooms := make([]string, len(to))
	for i, id := range to {
		rooms[i] = switchboard.ChatUserRoom(tenant, id)
	}
	return push("userAction", map[string]any{"username": userID, "chatSessionId": sessionID, "action": action,
		"ts": FormatMillis(at)}, sessionID, "", rooms...)
}

// Notify stores a SYSNOTIF message by actor in a session and pushes it to
// the session's members as chatMsg.
func Notify(tx *gorm.DB, sess Session, actorID, actorName, text, event string, now int64) (Message, []switchboard.Event, error) {
	m := Message{ID: NewID(), SessionID: sess.ID, Tenant: sess.Tenant, Kind: KindSysNotif, Type: TypeText,
		Content: text, Encoding: "utf-8", SenderID: actorID, SenderName: actorName, StatusID: StatusSent,
		CreatedAt: now, Metadata: encodeMetadata(nil, []NameValue{{Name: "event", Value: event}, {Name: "username", Value: actorID}})}
	if _, err := InsertMessage(tx, &m); err != nil {
		return m, nil, err
	}
	members, err := ActiveMembers(tx, sess.ID)
	if err != nil {
		return m, nil, err
	}
	evs := []switchboard.Event{pushBody("chatMsg", messageBody{&m, ""}, sess.ID, "", memberRooms(sess.Tenant, members, "")...)}
	// A ticket is a ONETOONE session: its counts go to livechat too (a
	// plain ONETOONE chat's copy reaches rooms whose clients ignore it).
	counts, err := UnreadEvents(tx, sess.Tenant, sess.ID, sess.Type == OneToOne, othersThan(members, actorID)...)
	return m, append(evs, counts...), err
}

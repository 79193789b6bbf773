package chat

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// CreateChatInput is what a client says about a new session.
type CreateChatInput struct {
	Title, Desc string
	// Members are usernames; the creator is a member whether listed or not.
	Members []string
	// Type is ONETOONE, ONETOMANY or "" (ONETOONE for two members,
	// ONETOMANY for more).
	Type SessionType
	// Key (clientSessionId) names the session for retries: a second
	// CreateChat with the caller's key answers with the session the first
	// created.
	Key string
}

// CreateChat creates a session with the caller and the members given
// (users of the caller's tenant whom the caller reaches, see Directory). A ONETOONE session has exactly two
// members, a ONETOMANY one two or more; SYSNOTIF sessions are the
// system's. Every member's sockets hear chatCreated.
func (s *Service) CreateChat(ctx context.Context, c Caller, in CreateChatInput) (ChatCreated, error) {
	members := sortedUnique(append([]string{c.UserID}, in.Members...))
	switch {
	case in.Type == "" && len(members) == 2:
		in.Type = OneToOne
	case in.Type == "":
		in.Type = OneToMany
	}
	switch {
	case in.Type == SysNotif:
		return ChatCreated{}, switchboard.Errorf(switchboard.EINVALID, "SYSNOTIF sessions are created by the system only")
	case in.Type == OneToOne && len(members) != 2:
		return ChatCreated{}, switchboard.Errorf(switchboard.EINVALID, "a ONETOONE session has exactly two members, you and one other")
	case in.Type == OneToMany && len(members) < 2:
		return ChatCreated{}, switchboard.Errorf(switchboard.EINVALID, "name at least one other member")
	case in.Type != OneToOne && in.Type != OneToMany:
		return ChatCreated{}, switchboard.Errorf(switchboard.EINVALID, "sesType must be ONETOONE or ONETOMANY")
	}
	var out ChatCreated
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		id, fresh, err := claimKey(tx, c, keySession, in.Key, NewID(), now)
		if err != nil || !fresh {
			if err == nil {
				out, err = s.createdBefore(tx, c, id)
			}
			return nil, err
		}
		if err := s.mustReach(tx, c, members); err != nil {
			return nil, err
		}
		sess := Session{ID: id, Tenant: c.Tenant(), Type: in.Type, Title: in.Title, Description: in.Desc,
			CreatorID: c.UserID, CreatedAt: now, UpdatedAt: now}
		rows := make([]Member, len(members))
		for i, id := range members {
			role := MemberMember
			if id == c.UserID {
				role = MemberOwner
			}
			rows[i] = Member{SessionID: sess.ID, UserID: id, Role: role, JoinedAt: now}
		}
		if err := CreateSession(tx, sess, rows...); err != nil {
			return nil, err
		}
		b, err := s.basic(tx, sess, c.UserID)
		if err != nil {
			return nil, err
		}
		out = ChatCreated{SessionBasic: b, Username: c.UserID}
		// Each member hears of it with its own username.
		evs := make([]switchboard.Event, 0, len(members))
		for _, id := range members {
			p := out
			p.Username = id
			evs = append(evs, push("chatCreated", p, sess.ID, c.Socket, switchboard.ChatUserRoom(c.Tenant(), id)))
		}
		return evs, nil
	})
	return out, err
}

// refuseTicket refuses commands that would change a ticket's session
// other than through the ticket's own rules.
func (s *Service) refuseTicket(tx *gorm.DB, sessionID, what string) error {
	is, err := s.isTicket(tx, sessionID)
	if err != nil {
		return err
	}
	if is {
		return switchboard.Errorf(switchboard.EINVALID, "chat session %s is a ticket: %s changes through the ticket", sessionID, what)
	}
	return nil
}

// plainSessionOf returns a session the caller is a member of and that is
// not a ticket (whose what changes only through the ticket).
func (s *Service) plainSessionOf(tx *gorm.DB, c Caller, sessionID, what string) (Session, error) {
	sess, err := memberOf(tx, c, sessionID, notFound(sessionID))
	if err != nil {
		return sess, err
	}
	return sess, s.refuseTicket(tx, sessionID, what)
}

// SetChatDetails changes a session's title and/or description (nil =
// unchanged). Any member may; every member hears chatDetailsSet and a
// SYSNOTIF message records it.
func (s *Service) SetChatDetails(ctx context.Context, c Caller, sessionID string, title, desc *string) (map[string]any, error) {
	var out map[string]any
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		sess, err := s.plainSessionOf(tx, c, sessionID, "its title")
		if err != nil {
			return nil, err
		}
		if err := s.mayWrite(tx, c, sessionID); err != nil {
			return nil, err
		}
		if err := SetDetails(tx, sessionID, title, desc, now); err != nil {
			return nil, err
		}
		if title != nil {
			sess.Title = *title
		}
		if desc != nil {
			sess.Description = *desc
		}
		out = map[string]any{"chatSessionId": sess.ID, "title": sess.Title, "desc": sess.Description}
		members, err := ActiveMembers(tx, sessionID)
		if err != nil {
			return nil, err
		}
		evs := []switchboard.Event{push("chatDetailsSet", out, sessionID, c.Socket, memberRooms(c.Tenant(), members, "")...)}
		text := c.UserID + " changed the chat details"
		if title != nil {
			text = c.UserID + " changed the title to \"" + sess.Title + "\""
		}
		more, err := s.notify(tx, c, sess, text, "chatDetailsSet", now)
		return append(evs, more...), err
	})
	return out, err
}

// notify stores a SYSNOTIF message by the caller in a session and pushes
// it to every member as chatMsg (the acting socket too: its response is
// another event).
func (s *Service) notify(tx *gorm.DB, c Caller, sess Session, text, event string, now int64) ([]switchboard.Event, error) {
	_, evs, err := Notify(tx, sess, c.UserID, c.Principal.DisplayName, text, event, now)
	return evs, err
}

// AddMembers adds users of the tenant whom the caller reaches (see
// Directory) to a ONETOMANY session the caller is in. Members already in are left as they are. Every member (the
// new ones too) hears membersAdded and a SYSNOTIF message records it.
func (s *Service) AddMembers(ctx context.Context, c Caller, sessionID string, users []string) (map[string]any, error) {
	users = sortedUnique(users)
	var out map[string]any
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		sess, err := memberOf(tx, c, sessionID, notFound(sessionID))
		if err != nil {
			return nil, err
		}
		if sess.Type != OneToMany {
			return nil, switchboard.Errorf(switchboard.EINVALID, "only a ONETOMANY session takes more members")
		}
		if err := s.mustReach(tx, c, users); err != nil {
			return nil, err
		}
		var added []string
		for _, id := range users {
			m, found, err := FindMember(tx, sessionID, id)
			if err != nil {
				return nil, err
			}
			if found && m.Active() {
				continue
			}
			if err := Join(tx, sessionID, id, MemberMember, now); err != nil {
				return nil, err
			}
			added = append(added, id)
		}
		if err := Touch(tx, sessionID, now); err != nil {
			return nil, err
		}
		sess.UpdatedAt = max(sess.UpdatedAt, now)
		b, err := s.basic(tx, sess, c.UserID)
		if err != nil {
			return nil, err
		}
		out = map[string]any{"session": b, "added": nonNil(added)}
		if len(added) == 0 {
			return nil, nil
		}
		members, err := ActiveMembers(tx, sessionID)
		if err != nil {
			return nil, err
		}
		evs := []switchboard.Event{push("membersAdded", out, sessionID, c.Socket, memberRooms(c.Tenant(), members, "")...)}
		more, err := s.notify(tx, c, sess, c.UserID+" added "+strings.Join(added, ", "), "membersAdded", now)
		return append(evs, more...), err
	})
	return out, err
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// LeaveChat takes the caller out of a session; its history stays. The
// members left and the caller's other sockets hear chatLeft, naming the
// caller as the user that left last.
func (s *Service) LeaveChat(ctx context.Context, c Caller, sessionID string) (map[string]any, error) {
	var out map[string]any
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		sess, err := s.plainSessionOf(tx, c, sessionID, "its membership")
		if err != nil {
			return nil, err
		}
		if err := Leave(tx, sessionID, c.UserID, now); err != nil {
			return nil, err
		}
		b, err := s.basic(tx, sess, c.UserID)
		if err != nil {
			return nil, err
		}
		out = map[string]any{"session": b}
		members, err := ActiveMembers(tx, sessionID)
		if err != nil {
			return nil, err
		}
		rooms := append(memberRooms(c.Tenant(), members, ""), userRoom(c))
		return []switchboard.Event{push("chatLeft", out, sessionID, c.Socket, rooms...)}, nil
	})
	return out, err
}

// MarkSessions stars (flag "starred") or archives (flag "archived")
// sessions for the caller. Every id must be a session the caller is in,
// or nothing changes (CHATS_NOT_FOUND). The caller's other sockets hear
// of it.
func (s *Service) MarkSessions(ctx context.Context, c Caller, flag string, ids []string, value bool) (map[string]any, error) {
	ids = sortedUnique(ids)
	var out map[string]any
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		_, total, err := MemberSessions(tx, SessionFilter{Tenant: c.Tenant(), UserID: c.UserID, IDs: ids, Limit: 1})
		if err != nil {
			return nil, err
		}
		if int(total) != len(ids) {
			return nil, switchboard.Errorf(ECHATSNOTFOUND, "not every id is a chat session of yours")
		}
		if err := SetMemberFlag(tx, c.UserID, ids, flag, value, s.cutoff()); err != nil {
			return nil, err
		}
		name := "sessionsStarred"
		out = map[string]any{"clientId": c.Tenant(), "username": c.UserID, "chatSessionIds": ids, flag: value}
		if flag == "archived" {
			name = "sessionsArchived"
		}
		return []switchboard.Event{push(name, out, "", c.Socket, userRoom(c))}, nil
	})
	return out, err
}

// Sessions lists the caller's sessions of one age (RECENT or ARCHIVED),
// most recently updated first, each with its latest messages.
func (s *Service) Sessions(ctx context.Context, c Caller, age string, sessions, msgs Page) (SessionList, error) {
	db := s.read(ctx)
	ms, total, err := MemberSessions(db, SessionFilter{Tenant: c.Tenant(), UserID: c.UserID, Age: age,
		Offset: sessions.Offset, Limit: sessions.Limit})
	if err != nil {
		return SessionList{}, err
	}
	ds, err := s.details(db, c.Tenant(), c.UserID, ms, msgs, nil)
	return SessionList{Count: total, Sessions: ds}, err
}

// AggregatedUsersSessions is the caller's recent sessions and the users
// it shares a session with.
func (s *Service) AggregatedUsersSessions(ctx context.Context, c Caller, sessions, msgs, users Page) (map[string]any, error) {
	list, err := s.Sessions(ctx, c, AgeRecent, sessions, msgs)
	if err != nil {
		return nil, err
	}
	db := s.read(ctx)
	sharers, err := Sharers(db, c.Tenant(), c.UserID)
	if err != nil {
		return nil, err
	}
	total := int64(len(sharers))
	sharers = page(sharers, users)
	found, err := FindUsers(db, c.Tenant(), sharers)
	if err != nil {
		return nil, err
	}
	return map[string]any{"clientId": c.Tenant(), "username": c.UserID, "sessions": list,
		"users": UserList{Count: total, Users: s.userDetailsOf(c.Tenant(), found, sharers, c.UserID)}}, nil
}

func page[T any](xs []T, p Page) []T {
	if p.Offset >= len(xs) || p.Limit < 0 {
		return xs[:0]
	}
	xs = xs[p.Offset:]
	if p.Limit > 0 && p.Limit < len(xs) {
		xs = xs[:p.Limit]
	}
	return xs
}

// ChatUsers lists the users of the caller's tenant that it may see (see
// Directory; only those named, when usernames is not nil) and counts
// every one it may see.
func (s *Service) ChatUsers(ctx context.Context, c Caller, usernames []string, p Page) (map[string]any, error) {
	r := s.reachOf(c)
	scope := func(q *gorm.DB) *gorm.DB { return r.visible(q, c.Tenant()) }
	users, total, err := ListUsers(s.read(ctx), c.Tenant(), scope, usernames, p.Offset, p.Limit)
	if err != nil {
		return nil, err
	}
	out := make([]UserDetails, len(users))
	for i, u := range users {
		out[i] = userDetails(u, s.presence.Online(u.Tenant, u.ID), c.UserID)
	}
	return map[string]any{"username": c.UserID, "clientId": c.Tenant(), "count": total, "users": out}, nil
}

// SessionEvents are the chatCreated pushes of a session (a new ticket, or
// one a new handler now sees) to the users named.
func (s *Service) SessionEvents(st Store, sess Session, to ...string) ([]switchboard.Event, error) {
	var evs []switchboard.Event
	for _, id := range to {
		b, err := s.basic(st.db, sess, id)
		if err != nil {
			return nil, err
		}
		evs = append(evs, push("chatCreated", ChatCreated{SessionBasic: b, Username: id}, sess.ID, "",
			switchboard.ChatUserRoom(sess.Tenant, id)))
	}
	return evs, nil
}

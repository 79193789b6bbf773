package chat

import (
	"context"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// EnsureUser records the principal as a chat user on its first
// handshake, keeping a profile it already has.
func (s *Service) EnsureUser(ctx context.Context, p switchboard.Principal) error {
	now := s.millis()
	u := User{Tenant: p.Tenant, ID: p.ID, Role: string(p.Role), ProgramID: p.ProgramID,
		Username: p.DisplayName, FullName: p.DisplayName, Status: "AVAILABLE", CreatedAt: now, UpdatedAt: now}
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		return nil, EnsureUser(tx, u)
	})
	if switchboard.ErrorCode(err) == switchboard.EFORBIDDEN {
		// The id is another principal's: this one cannot sign in.
		err = switchboard.Errorf(EAUTHENTICATION, "%s", switchboard.ErrorMessage(err))
	}
	return err
}

// Me returns the caller's own details (the payload of its userOnline).
func (s *Service) Me(ctx context.Context, c Caller) (UserDetails, error) {
	u, found, err := FindUser(s.read(ctx), c.Tenant(), c.UserID)
	if err != nil {
		return UserDetails{}, err
	}
	if !found {
		u = User{Tenant: c.Tenant(), ID: c.UserID, FullName: c.Principal.DisplayName}
	}
	return userDetails(u, s.presence.Online(c.Tenant(), c.UserID), c.UserID), nil
}

// SetStatus records the caller's status and status message and tells
// the users sharing a session with it: going INVISIBLE looks to them like
// going offline, and coming back like coming online. The caller's other
// sockets hear statusChanged.
func (s *Service) SetStatus(ctx context.Context, c Caller, status, message string) (UserDetails, error) {
	var out UserDetails
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		u, found, err := FindUser(tx, c.Tenant(), c.UserID)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, switchboard.Errorf(EUSEROFFLINE, "no user %s", c.UserID)
		}
		before := u.Status
		if err := SetUserStatus(tx, c.Tenant(), c.UserID, status, message, now); err != nil {
			return nil, err
		}
		u.Status, u.StatusMessage = status, message
		out = userDetails(u, s.presence.Online(u.Tenant, u.ID), u.ID)
		evs := []switchboard.Event{push("statusChanged", out, "", c.Socket, userRoom(c))}
		if s.committer.Streaming() {
			evs = append(evs, statusStreamEvent(u, before))
		}
		more, err := s.statusChangeEvents(tx, u, before)
		return append(evs, more...), err
	})
	return out, err
}

// StatusEvents tell the users sharing a session with userID that its
// status changed from before to what is stored now (set through another
// path than setStatus, e.g. the operators' REST API), and its own chat
// sockets.
func (s *Service) StatusEvents(tx *gorm.DB, tenant, userID, before string) ([]switchboard.Event, error) {
	u, found, err := FindUser(tx, tenant, userID)
	if err != nil || !found {
		return nil, err
	}
	self := userDetails(u, s.presence.Online(tenant, userID), userID)
	evs := []switchboard.Event{push("statusChanged", self, "", "", switchboard.ChatUserRoom(tenant, userID))}
	if s.committer.Streaming() {
		evs = append(evs, statusStreamEvent(u, before))
	}
	more, err := s.statusChangeEvents(tx, u, before)
	return append(evs, more...), err
}

// statusChangeEvents are what the users sharing a session with u see of
// its status changing from before: going INVISIBLE looks like going
// offline, coming back like coming online, anything else is
// statusChanged. An offline user's status is nobody's news.
func (s *Service) statusChangeEvents(tx *gorm.DB, u User, before string) ([]switchboard.Event, error) {
	switch {
	case !s.presence.Online(u.Tenant, u.ID):
		return nil, nil
	case u.Status == Invisible && before == Invisible:
		return nil, nil
	}
	rooms, err := sharerRooms(tx, u.Tenant, u.ID)
	if err != nil || len(rooms) == 0 {
		return nil, err
	}
	switch {
	case u.Status == Invisible:
		return presenceEvents(u, false, rooms), nil
	case before == Invisible:
		return presenceEvents(u, true, rooms), nil
	}
	return []switchboard.Event{push("statusChanged", userDetails(u, true, ""), "", "", rooms...)}, nil
}

// sharerRooms are the chat rooms of the users sharing a session with the
// user: the audience of its presence and status.
func sharerRooms(tx *gorm.DB, tenant, userID string) ([]string, error) {
	sharers, err := Sharers(tx, tenant, userID)
	rooms := make([]string, len(sharers))
	for i, id := range sharers {
		rooms[i] = switchboard.ChatUserRoom(tenant, id)
	}
	return rooms, err
}

// ProfileEvents tell u and the users sharing a session with it that its
// details changed (e.g. a livechat subscribe with a new full name), for
// the caller's transaction to return.
func ProfileEvents(tx *gorm.DB, tenant, userID string) ([]switchboard.Event, error) {
	u, found, err := FindUser(tx, tenant, userID)
	if err != nil || !found {
		return nil, err
	}
	sharers, err := Sharers(tx, tenant, userID)
	if err != nil {
		return nil, err
	}
	rooms := []string{switchboard.ChatUserRoom(tenant, userID)}
	for _, id := range sharers {
		rooms = append(rooms, switchboard.ChatUserRoom(tenant, id))
	}
	return []switchboard.Event{push("userDetailsUpdated", map[string]any{"clientId": tenant, "username": userID,
		"fullName": u.DisplayName(), "avatarURL": ""}, "", "", rooms...)}, nil
}

package chat

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Caller is who sends a chat command: the verified principal and the
// socket the command came from. A chat user is the principal itself (its
// username is the principal's id), in the principal's tenant.
type Caller struct {
	Principal switchboard.Principal
	// Socket is the socket the command came from; it hears the outcome
	// in its response event and gets no push of it.
	Socket string
}

// UserID is the caller's username.
func (c Caller) UserID() string { return c.Principal.ID }

// Tenant is the caller's tenant (the protocol's clientId).
func (c Caller) Tenant() string { return c.Principal.Tenant }

// room holds the caller's chat-protocol sockets.
func (c Caller) room() string { return switchboard.ChatUserRoom(c.Tenant(), c.UserID()) }

// ServiceOptions configures a Service. Zero values work.
type ServiceOptions struct {
	// Presence is the node's socket registry (default: a new one).
	Presence *Presence
	// Publisher delivers the events that need no write (typing); events
	// of writes go out through the Committer.
	Publisher switchboard.Publisher
	// RecentFor is how long an updated session stays RECENT (default 7
	// days).
	RecentFor time.Duration
	// Tickets, when set, takes the commands on ticket sessions that the
	// ticket rules govern.
	Tickets TicketSessions
	// Directory is whom a chat user may see and reach (default
	// DirectoryOperators).
	Directory Directory
	Now       func() time.Time
}

// Service applies the chat protocol's commands. Every command is
// authorized from the caller's principal; writes are one Op on the
// Committer each, and their events are published after commit. Reads use
// the read pool.
//
// Guarantees: nothing crosses tenants (a session, user or message of
// another tenant does not exist for the caller); within a tenant, a
// caller sees and reaches only whom the Directory lets it (see
// DirectoryOperators); only active members read or write a session; only
// a message's sender edits or removes it; a refused command changes
// nothing.
type Service struct {
	db        *database.DB
	committer *database.Committer
	opts      ServiceOptions
	presence  *Presence
}

// NewService returns the chat service writing through committer.
func NewService(db *database.DB, committer *database.Committer, opts ServiceOptions) *Service {
	if opts.Presence == nil {
		opts.Presence = &Presence{}
	}
	if opts.Publisher == nil {
		opts.Publisher = switchboard.PublisherFunc(func([]switchboard.Event) {})
	}
	if opts.RecentFor <= 0 {
		opts.RecentFor = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Directory == "" {
		opts.Directory = DirectoryOperators
	}
	s := &Service{db: db, committer: committer, opts: opts, presence: opts.Presence}
	s.presence.OnChange(s.presenceChanged)
	return s
}

// Presence is the registry the service reads online state from.
func (s *Service) Presence() *Presence { return s.presence }

func (s *Service) millis() int64 { return s.opts.Now().UnixMilli() }

func (s *Service) cutoff() int64 { return s.opts.Now().Add(-s.opts.RecentFor).UnixMilli() }

func (s *Service) read(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// NewID returns a random (version 4) UUID.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func notFound(id string) error { return switchboard.Errorf(ECHATNOTFOUND, "no chat session %s", id) }

// memberOf loads a session for a command of the caller: a session of
// another tenant or unknown is CHAT_NOT_FOUND; one the caller is not (or
// no longer) a member of is notMember.
func memberOf(db *gorm.DB, c Caller, sessionID string, notMember error) (Session, error) {
	sess, found, err := FindSession(db, c.Tenant(), sessionID)
	if err != nil {
		return sess, err
	}
	if !found {
		return sess, notFound(sessionID)
	}
	m, found, err := FindMember(db, sessionID, c.UserID())
	if err != nil {
		return sess, err
	}
	if !found || !m.Active() {
		return sess, notMember
	}
	return sess, nil
}

func notMemberError(code, id string) error {
	return switchboard.Errorf(code, "you are not a member of chat session %s", id)
}

// memberRooms are the chat-protocol rooms of members.
func memberRooms(tenant string, members []Member, except string) []string {
	rooms := make([]string, 0, len(members))
	for _, m := range members {
		if m.UserID != except {
			rooms = append(rooms, switchboard.ChatUserRoom(tenant, m.UserID))
		}
	}
	return rooms
}

// userDetailsOf renders users as viewer sees them, in the order of ids;
// an id without a stored user is shown by its id alone.
func (s *Service) userDetailsOf(tenant string, users map[string]User, ids []string, viewer string) []UserDetails {
	out := make([]UserDetails, 0, len(ids))
	for _, id := range ids {
		u, ok := users[id]
		if !ok {
			u = User{Tenant: tenant, ID: id}
		}
		out = append(out, userDetails(u, s.presence.Online(tenant, id), viewer))
	}
	return out
}

// basics renders sessions with their members.
func (s *Service) basics(db *gorm.DB, tenant string, sessions []Session, viewer string) ([]SessionBasic, error) {
	ids := make([]string, len(sessions))
	for i, sess := range sessions {
		ids[i] = sess.ID
	}
	members, err := MembersOf(db, ids)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var userIDs []string
	for _, ms := range members {
		for _, m := range ms {
			if !seen[m.UserID] {
				seen[m.UserID] = true
				userIDs = append(userIDs, m.UserID)
			}
		}
	}
	users, err := FindUsers(db, tenant, userIDs)
	if err != nil {
		return nil, err
	}
	out := make([]SessionBasic, len(sessions))
	for i, sess := range sessions {
		b := SessionBasic{ClientID: sess.Tenant, ChatSessionID: sess.ID, Title: sess.Title, Desc: sess.Description,
			SessionType: string(sess.Type), Creator: sess.CreatorID, CreatedTS: FormatMillis(sess.CreatedAt),
			LastUpdatedTS: FormatMillis(sess.UpdatedAt), Members: []UserDetails{}}
		var active []string
		var lastLeft string
		for _, m := range members[sess.ID] {
			if m.Active() {
				active = append(active, m.UserID)
			} else if lastLeft == "" {
				lastLeft = m.UserID // MembersOf lists the last to leave first
			}
		}
		b.Members = s.userDetailsOf(tenant, users, active, viewer)
		if lastLeft != "" {
			d := s.userDetailsOf(tenant, users, []string{lastLeft}, viewer)[0]
			b.UserThatLeftForLast = &d
		}
		out[i] = b
	}
	return out, nil
}

func (s *Service) basic(db *gorm.DB, sess Session, viewer string) (SessionBasic, error) {
	bs, err := s.basics(db, sess.Tenant, []Session{sess}, viewer)
	if err != nil {
		return SessionBasic{}, err
	}
	return bs[0], nil
}

// Page is an offset and a count of results: Limit 0 is no limit, below 0
// none (only the counts are wanted).
type Page struct{ Offset, Limit int }

// details renders member sessions as the viewer sees them, each with its
// latest messages (msgs), or with the messages given when given is set.
func (s *Service) details(db *gorm.DB, tenant, viewer string, ms []MemberSession, msgs Page, given map[string][]Message) ([]SessionDetails, error) {
	sessions := make([]Session, len(ms))
	ids := make([]string, len(ms))
	for i, m := range ms {
		sessions[i], ids[i] = m.Session, m.ID
	}
	basics, err := s.basics(db, tenant, sessions, viewer)
	if err != nil {
		return nil, err
	}
	latest := given
	if latest == nil {
		if latest, err = LatestMessages(db, ids, msgs.Offset, msgs.Limit); err != nil {
			return nil, err
		}
	}
	var all []Message
	for _, l := range latest {
		all = append(all, l...)
	}
	readAt, err := ReadTimes(db, viewer, all)
	if err != nil {
		return nil, err
	}
	counts, err := CountMessages(db, ids)
	if err != nil {
		return nil, err
	}
	unread, err := UnreadCounts(db, viewer, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SessionDetails, len(ms))
	for i, m := range ms {
		d := SessionDetails{SessionBasic: basics[i], Messages: []MessageDetails{}, Starred: m.Starred,
			Archived: m.Archived, Count: counts[m.ID], UnreadCount: unread[m.ID]}
		for _, msg := range latest[m.ID] {
			d.Messages = append(d.Messages, messageDetails(msg, readAt[msg.Seq]))
		}
		out[i] = d
	}
	return out, nil
}

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
	u, found, err := FindUser(s.read(ctx), c.Tenant(), c.UserID())
	if err != nil {
		return UserDetails{}, err
	}
	if !found {
		u = User{Tenant: c.Tenant(), ID: c.UserID(), FullName: c.Principal.DisplayName}
	}
	return userDetails(u, s.presence.Online(c.Tenant(), c.UserID()), c.UserID()), nil
}

// presenceChanged records when a user came online or went offline and
// tells the users who share a session with it. An INVISIBLE user's
// comings and goings are nobody's news.
func (s *Service) presenceChanged(tenant, userID string, online bool) {
	now := s.millis()
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		if err := SetLastSeen(tx, tenant, userID, now); err != nil {
			return nil, err
		}
		// The audience first: most users share no session with anyone,
		// and then their row is not needed.
		rooms, err := sharerRooms(tx, tenant, userID)
		if err != nil || len(rooms) == 0 {
			return nil, err
		}
		u, found, err := FindUser(tx, tenant, userID)
		if err != nil || !found || u.Status == Invisible {
			return nil, err
		}
		return presenceEvents(u, online, rooms), nil
	}, nil)
}

// presenceEvents announce u coming online (with its details) or going
// offline to rooms, those of the users sharing a session with it.
func presenceEvents(u User, online bool, rooms []string) []switchboard.Event {
	if online {
		return []switchboard.Event{push("userOnline", userDetails(u, true, ""), "", "", rooms...)}
	}
	return []switchboard.Event{push("userDisconnected", map[string]any{"clientId": u.Tenant, "username": u.ID},
		"", "", rooms...)}
}

// SetStatus records the caller's status and status message and tells
// the users sharing a session with it: going INVISIBLE looks to them like
// going offline, and coming back like coming online. The caller's other
// sockets hear statusChanged.
func (s *Service) SetStatus(ctx context.Context, c Caller, status, message string) (UserDetails, error) {
	var out UserDetails
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		u, found, err := FindUser(tx, c.Tenant(), c.UserID())
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, switchboard.Errorf(EUSEROFFLINE, "no user %s", c.UserID())
		}
		before := u.Status
		if err := SetUserStatus(tx, c.Tenant(), c.UserID(), status, message, now); err != nil {
			return nil, err
		}
		u.Status, u.StatusMessage = status, message
		out = userDetails(u, s.presence.Online(u.Tenant, u.ID), u.ID)
		evs := []switchboard.Event{push("statusChanged", out, "", c.Socket, c.room())}
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

// SessionEvents are the chatCreated pushes of a session (a new ticket, or
// one a new handler now sees) to the users named.
func (s *Service) SessionEvents(tx *gorm.DB, sess Session, to ...string) ([]switchboard.Event, error) {
	var evs []switchboard.Event
	for _, id := range to {
		b, err := s.basic(tx, sess, id)
		if err != nil {
			return nil, err
		}
		evs = append(evs, push("chatCreated", ChatCreated{SessionBasic: b, Username: id}, sess.ID, "",
			switchboard.ChatUserRoom(sess.Tenant, id)))
	}
	return evs, nil
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
	return m, []switchboard.Event{pushBody("chatMsg", messageBody{&m, ""}, sess.ID, "", memberRooms(sess.Tenant, members, "")...)}, nil
}

// sortedUnique returns ids without repeats, in first-seen order (the
// order the client gave).
func sortedUnique(ids []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

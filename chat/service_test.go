package chat_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// recorder keeps every published event.
type recorder struct {
	mu  sync.Mutex
	evs []switchboard.Event
}

func (r *recorder) Publish(evs []switchboard.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, evs...)
	r.mu.Unlock()
}

// take returns and forgets the events so far.
func (r *recorder) take() []switchboard.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.evs
	r.evs = nil
	return out
}

type fixture struct {
	svc *chat.Service
	db  *database.DB
	rec *recorder
	now time.Time
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	db := testdb.Open(t, dialect)
	rec := &recorder{}
	committer := database.NewCommitter(db, rec, database.CommitterOptions{})
	t.Cleanup(committer.Close)
	f := &fixture{db: db, rec: rec, now: time.UnixMilli(1_700_000_000_000)}
	// These tests hold the general chat model; directory_test.go holds
	// the default directory policy.
	f.svc = chat.NewService(db, committer, chat.ServiceOptions{Publisher: rec, Directory: chat.DirectoryTenant, Now: func() time.Time {
		f.now = f.now.Add(time.Millisecond)
		return f.now
	}})
	return f
}

func (f *fixture) user(t *testing.T, tenant, id string) chat.Caller {
	t.Helper()
	p := switchboard.Principal{ID: id, Role: switchboard.RoleUser, DisplayName: "Name of " + id, Tenant: tenant}
	must(t, f.svc.EnsureUser(context.Background(), p))
	return switchboard.CallerOf(p, "socket-"+id)
}

// code is the chat result code err gives for the response event.
func code(event string, err error) string { return chat.ResultCode(event, err) }

func wantCode(t *testing.T, event string, err error, want string) {
	t.Helper()
	if got := code(event, err); got != want {
		t.Fatalf("%s: result code %s (%v), want %s", event, got, err, want)
	}
}

// rooms lists the rooms an event named name went to, across events.
func rooms(evs []switchboard.Event, name string) []string {
	var out []string
	for _, ev := range evs {
		if ev.Name == name {
			if ev.Protocol != switchboard.ProtocolChat {
				panic("chat event without the chat protocol: " + ev.Name)
			}
			out = append(out, ev.To...)
		}
	}
	slices.Sort(out)
	return out
}

func TestServiceSessionsAndMessages(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ann, bob, cid := f.user(t, "acme", "ann"), f.user(t, "acme", "bob"), f.user(t, "acme", "cid")

			c, err := f.svc.CreateChat(ctx, ann, chat.CreateChatInput{Members: []string{"bob"}, Title: "t"})
			must(t, err)
			if c.SessionType != "ONETOONE" || len(c.Members) != 2 || c.Creator != "ann" {
				t.Fatalf("created %+v", c)
			}
			evs := f.rec.take()
			if got, want := rooms(evs, "chatCreated"), []string{"chat:user:acme:ann", "chat:user:acme:bob"}; !slices.Equal(got, want) {
				t.Fatalf("chatCreated to %v, want %v", got, want)
			}
			for _, ev := range evs {
				if ev.ExceptSocket != ann.Socket {
					t.Fatalf("the creating socket gets its response, not a push: %+v", ev)
				}
			}
			id := c.ChatSessionID

			// Rules of creation.
			_, err = f.svc.CreateChat(ctx, ann, chat.CreateChatInput{Members: []string{"bob", "cid"}, Type: chat.OneToOne})
			wantCode(t, "chatCreated", err, "INVALID_REQUEST")
			_, err = f.svc.CreateChat(ctx, ann, chat.CreateChatInput{Members: []string{"zed"}})
			wantCode(t, "chatCreated", err, "INVALID_REQUEST")

			m, err := f.svc.SendMsg(ctx, ann, chat.SendMsgInput{SessionID: id, Content: "hi", Metadata: []byte(`{"CLASS":"USER"}`)})
			must(t, err)
			if !m.Read || m.Sender != "ann" || m.ChatMetadata == nil {
				t.Fatalf("sent %+v", m)
			}
			if got := rooms(f.rec.take(), "chatMsg"); !slices.Equal(got, []string{"chat:user:acme:ann", "chat:user:acme:bob"}) {
				t.Fatalf("chatMsg to %v", got)
			}

			// A non-member.
			_, err = f.svc.SendMsg(ctx, cid, chat.SendMsgInput{SessionID: id, Content: "x"})
			wantCode(t, "chatMsg", err, "UNAUTHORIZED")
			_, err = f.svc.ChatMessages(ctx, cid, id, chat.Page{})
			wantCode(t, "recentMessages", err, "NOT_MEMBER_OF_CHAT")
			_, err = f.svc.ChatMessages(ctx, cid, "nope", chat.Page{})
			wantCode(t, "recentMessages", err, "NOT_MEMBER_OF_CHAT")
			_, err = f.svc.SetChatDetails(ctx, cid, id, strPtr("mine"), nil)
			wantCode(t, "chatDetailsSet", err, "CHAT_NOT_FOUND")
			// Someone else's message.
			_, err = f.svc.EditMsg(ctx, bob, id, m.MsgID, "forged")
			wantCode(t, "msgEdited", err, "UNAUTHORIZED")
			_, err = f.svc.RemoveMsg(ctx, bob, id, "nope")
			wantCode(t, "msgRemoved", err, "MSG_NOT_FOUND")
			if evs := f.rec.take(); len(evs) != 0 {
				t.Fatalf("refused commands published %+v", evs)
			}

			// Reads.
			list, err := f.svc.Sessions(ctx, bob, chat.AgeRecent, chat.Page{}, chat.Page{Limit: 5})
			must(t, err)
			if list.Count != 1 || list.Sessions[0].UnreadCount != 1 || list.Sessions[0].Count != 1 {
				t.Fatalf("bob's sessions %+v", list)
			}
			r, err := f.svc.MarkMsgRead(ctx, bob, id, []string{m.MsgID})
			must(t, err)
			if r["msgCount"] != 1 || r["unreadCount"] != int64(0) {
				t.Fatalf("markMsgRead %+v", r)
			}
			if got := rooms(f.rec.take(), "msgMarkedRead"); !slices.Equal(got, []string{"chat:user:acme:ann"}) {
				t.Fatalf("receipt to %v", got)
			}
			_, err = f.svc.MarkMsgRead(ctx, bob, id, []string{m.MsgID, "nope"})
			wantCode(t, "msgMarkedRead", err, "INVALID_REQUEST")

			// Edit, then remove.
			e, err := f.svc.EditMsg(ctx, ann, id, m.MsgID, "hello")
			must(t, err)
			if e.Content != "hello" || e.Status != "EDITED" {
				t.Fatalf("edited %+v", e)
			}
			_, err = f.svc.RemoveMsg(ctx, ann, id, m.MsgID)
			must(t, err)
			msgs, err := f.svc.ChatMessages(ctx, bob, id, chat.Page{})
			must(t, err)
			if msgs["count"] != int64(0) {
				t.Fatalf("after remove %+v", msgs)
			}

			// Archive moves it to the archived list, for ann only.
			_, err = f.svc.MarkSessions(ctx, ann, "archived", []string{id}, true)
			must(t, err)
			for _, tc := range []struct {
				who  chat.Caller
				age  string
				want int64
			}{{ann, chat.AgeRecent, 0}, {ann, chat.AgeArchived, 1}, {bob, chat.AgeRecent, 1}} {
				l, err := f.svc.Sessions(ctx, tc.who, tc.age, chat.Page{}, chat.Page{})
				must(t, err)
				if l.Count != tc.want {
					t.Fatalf("%s %s sessions: %d, want %d", tc.who.UserID, tc.age, l.Count, tc.want)
				}
			}
			_, err = f.svc.MarkSessions(ctx, ann, "starred", []string{id, "other"}, true)
			wantCode(t, "sessionsStarred", err, "CHATS_NOT_FOUND")

			// Leaving.
			_, err = f.svc.LeaveChat(ctx, bob, id)
			must(t, err)
			_, err = f.svc.ChatMessages(ctx, bob, id, chat.Page{})
			wantCode(t, "recentMessages", err, "NOT_MEMBER_OF_CHAT")
		})
	}
}

func strPtr(s string) *string { return &s }

func TestServiceTenants(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ann := f.user(t, "acme", "ann")
			f.user(t, "acme", "bob")
			eve := f.user(t, "beta", "eve")
			f.user(t, "beta", "bob") // the same id in another tenant is another user

			c, err := f.svc.CreateChat(ctx, ann, chat.CreateChatInput{Members: []string{"bob"}, Title: "acme"})
			must(t, err)
			_, err = f.svc.SendMsg(ctx, eve, chat.SendMsgInput{SessionID: c.ChatSessionID, Content: "x"})
			wantCode(t, "chatMsg", err, "CHAT_NOT_FOUND")
			_, err = f.svc.ChatMessages(ctx, eve, c.ChatSessionID, chat.Page{})
			wantCode(t, "recentMessages", err, "NOT_MEMBER_OF_CHAT")
			_, err = f.svc.CreateChat(ctx, eve, chat.CreateChatInput{Members: []string{"ann"}})
			wantCode(t, "chatCreated", err, "INVALID_REQUEST")
			users, err := f.svc.ChatUsers(ctx, eve, nil, chat.Page{})
			must(t, err)
			if users["count"] != int64(2) {
				t.Fatalf("beta users %+v", users)
			}
			found, err := f.svc.Search(ctx, eve, chat.Criteria{SearchKey: "acme"}, chat.Page{}, chat.Page{})
			must(t, err)
			if found.Count != 0 {
				t.Fatalf("eve found %+v", found)
			}
			// beta/bob is not a member of acme's session.
			bobBeta := switchboard.CallerOf(switchboard.Principal{ID: "bob", Tenant: "beta"}, "")
			_, err = f.svc.ChatMessages(ctx, bobBeta, c.ChatSessionID, chat.Page{})
			wantCode(t, "recentMessages", err, "NOT_MEMBER_OF_CHAT")
		})
	}
}

func TestServiceSearch(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ann := f.user(t, "acme", "ann")
			f.user(t, "acme", "bob")
			f.user(t, "acme", "cid")
			a, err := f.svc.CreateChat(ctx, ann, chat.CreateChatInput{Members: []string{"bob"}, Type: chat.OneToMany, Title: "Zebra 100%"})
			must(t, err)
			b, err := f.svc.CreateChat(ctx, ann, chat.CreateChatInput{Members: []string{"cid"}, Title: "misc"})
			must(t, err)
			_, err = f.svc.SendMsg(ctx, ann, chat.SendMsgInput{SessionID: b.ChatSessionID, Content: "The Quokka report"})
			must(t, err)
			ids := func(cr chat.Criteria) []string {
				t.Helper()
				l, err := f.svc.Search(ctx, ann, cr, chat.Page{}, chat.Page{Limit: 3})
				must(t, err)
				var out []string
				for _, s := range l.Sessions {
					out = append(out, s.ChatSessionID)
				}
				return out
			}
			for _, tc := range []struct {
				name string
				cr   chat.Criteria
				want []string
			}{
				{"title", chat.Criteria{SearchKey: "zebra", Components: []string{chat.ComponentSessionTitle}}, []string{a.ChatSessionID}},
				{"wildcards are literal", chat.Criteria{SearchKey: "0%"}, []string{a.ChatSessionID}},
				{"no wildcard match", chat.Criteria{SearchKey: "1_0"}, nil},
				{"body", chat.Criteria{SearchKey: "quokka"}, []string{b.ChatSessionID}},
				{"body not searched", chat.Criteria{SearchKey: "quokka", Components: []string{chat.ComponentSessionTitle}}, nil},
				{"member name", chat.Criteria{SearchKey: "Name of cid", Components: []string{chat.ComponentMembersDisplayName}}, []string{b.ChatSessionID}},
				{"member username", chat.Criteria{SearchKey: "BOB", Components: []string{chat.ComponentMembersUsername}}, []string{a.ChatSessionID}},
				{"type", chat.Criteria{SesTypes: []chat.SessionType{chat.OneToOne}}, []string{b.ChatSessionID}},
				{"ids", chat.Criteria{SessionIDs: []string{a.ChatSessionID}}, []string{a.ChatSessionID}},
				{"archived", chat.Criteria{Ages: []string{chat.AgeArchived}}, nil},
			} {
				if got := ids(tc.cr); !slices.Equal(got, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
				}
			}
		})
	}
}

func TestPresence(t *testing.T) {
	type change struct {
		id     string
		online bool
	}
	var changes []change
	p := chat.NewPresence(func(tenant, id string, online bool) { changes = append(changes, change{tenant + "/" + id, online}) })
	p.Connect("acme", "ann")
	p.Connect("acme", "ann")
	p.Connect("beta", "ann")
	if !p.Online("acme", "ann") || p.Online("acme", "bob") {
		t.Fatal("online state")
	}
	p.Disconnect("acme", "ann")
	p.Disconnect("acme", "ann")
	p.Disconnect("acme", "ann") // one too many: ignored
	want := []change{{"acme/ann", true}, {"beta/ann", true}, {"acme/ann", false}}
	if !slices.Equal(changes, want) {
		t.Fatalf("changes %v, want %v", changes, want)
	}
	if p.Online("acme", "ann") || !p.Online("beta", "ann") {
		t.Fatal("online state after disconnect")
	}
}

func TestResultCode(t *testing.T) {
	for _, tc := range []struct {
		event string
		err   error
		want  string
	}{
		{"chatMsg", nil, "OK"},
		{"chatMsg", switchboard.Errorf(switchboard.EFORBIDDEN, "x"), "UNAUTHORIZED"},
		{"chatLeft", switchboard.Errorf(switchboard.EFORBIDDEN, "x"), "CHAT_NOT_FOUND"},
		{"chatDetailsSet", switchboard.Errorf(switchboard.EFORBIDDEN, "x"), "UNAUTHORIZED"},
		{"chatCreated", switchboard.Errorf(switchboard.EFORBIDDEN, "x"), "UNAUTHORIZED"},
		{"membersAdded", switchboard.Errorf(switchboard.EFORBIDDEN, "x"), "UNAUTHORIZED"},
		{"recentMessages", switchboard.Errorf(chat.ECHATNOTFOUND, "x"), "NOT_MEMBER_OF_CHAT"},
		{"sessionsStarred", switchboard.Errorf(switchboard.ENOTFOUND, "x"), "CHATS_NOT_FOUND"},
		{"chatUsers", switchboard.Errorf(chat.ECHATNOTFOUND, "x"), "INVALID_REQUEST"},
		{"userOnline", switchboard.Errorf(switchboard.ETOKENEXPIRED, "x"), "AUTHENTICATION_ERROR"},
		{"userOnline", switchboard.Errorf(chat.EALREADYOPEN, "x"), "CONNECTION_ALREADY_OPEN"},
		{"chatMsg", errors.New("disk on fire"), "EXCEPTION"},
		{"serverReady", switchboard.Errorf(switchboard.EINVALID, "x"), "EXCEPTION"},
	} {
		if got := chat.ResultCode(tc.event, tc.err); got != tc.want {
			t.Errorf("ResultCode(%s, %v) = %s, want %s", tc.event, tc.err, got, tc.want)
		}
	}
}

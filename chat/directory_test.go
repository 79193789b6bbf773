package chat_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// world is one tenant with two end users, an operator, a program with
// one end user of its own and another program's end user, served by
// two services on one database: one with the default directory, one
// with the general (tenant) model.
type world struct {
	closed, open                 *chat.Service
	ann, bob, op, prog, p1u, p2u chat.Caller
	committer                    *database.Committer
	rec                          *recorder
}

func newWorld(t *testing.T, dialect string) *world {
	t.Helper()
	db := testdb.Open(t, dialect)
	rec := &recorder{}
	committer := database.NewCommitter(db, rec, database.CommitterOptions{})
	t.Cleanup(committer.Close)
	now := time.UnixMilli(1_700_000_000_000)
	w := &world{
		closed:    chat.NewService(db, committer, chat.ServiceOptions{}),
		open:      chat.NewService(db, committer, chat.ServiceOptions{Directory: chat.DirectoryTenant}),
		committer: committer,
		rec:       rec,
	}
	as := func(id string, role switchboard.Role, program string) chat.Caller {
		p := switchboard.Principal{ID: id, Role: role, ProgramID: program, DisplayName: "Name of " + id,
			Tenant: "acme", ExpiresAt: now.Add(time.Hour)}
		must(t, w.closed.EnsureUser(context.Background(), p))
		return switchboard.CallerOf(p, "socket-"+id)
	}
	w.ann, w.bob = as("ann", switchboard.RoleUser, ""), as("bob", switchboard.RoleUser, "")
	w.op, w.prog = as("op", switchboard.RoleOperator, ""), as("p1", switchboard.RoleProgram, "p1")
	// A program's end users are stored with their program (as a livechat
	// subscribe stores them).
	w.p1u = as(switchboard.ScopedUserID("p1", "7"), switchboard.RoleUser, "p1")
	w.p2u = as(switchboard.ScopedUserID("p2", "9"), switchboard.RoleUser, "p2")
	return w
}

// seen lists the usernames getChatUsers shows c, and its count.
func seen(t *testing.T, svc *chat.Service, c chat.Caller, only []string) ([]string, int64) {
	t.Helper()
	out, err := svc.ChatUsers(context.Background(), c, only, chat.Page{})
	must(t, err)
	var names []string
	for _, u := range out["users"].([]chat.UserDetails) {
		names = append(names, u.Username)
	}
	return names, out["count"].(int64)
}

func wantSeen(t *testing.T, svc *chat.Service, c chat.Caller, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got, n := seen(t, svc, c, nil); !slices.Equal(got, want) || n != int64(len(want)) {
		t.Fatalf("%s sees %v (count %d), want %v", c.UserID, got, n, want)
	}
}

func TestDirectoryOperatorsKeepsEndUsersApart(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			w := newWorld(t, d)
			svc := w.closed

			// getChatUsers: operators and oneself, nobody else.
			wantSeen(t, svc, w.ann, "ann", "op")
			if got, n := seen(t, svc, w.ann, []string{"bob", "op", "p1/7"}); !slices.Equal(got, []string{"op"}) || n != 2 {
				t.Fatalf("ann asking for bob, op and p1/7 sees %v (count %d)", got, n)
			}
			// findByProperties finds no one either.
			hits, err := svc.Search(ctx, w.ann, chat.Criteria{SearchKey: "bob"}, chat.Page{}, chat.Page{})
			must(t, err)
			if hits.Count != 0 {
				t.Fatalf("ann's search for bob: %d sessions", hits.Count)
			}

			// createChat with another end user, alone, among others, or
			// unknown: UNAUTHORIZED, nothing created.
			for _, members := range [][]string{{"bob"}, {"op", "bob"}, {"p1/7"}, {"nobody"}} {
				_, err := svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: members, Type: chat.OneToMany})
				wantCode(t, "chatCreated", err, "UNAUTHORIZED")
			}
			if l, err := svc.Sessions(ctx, w.bob, chat.AgeRecent, chat.Page{}, chat.Page{}); err != nil || l.Count != 0 {
				t.Fatalf("bob's sessions after refused chats: %v %v", l.Count, err)
			}

			// Operators are reached: a chat, a message, a group; adding an
			// end user to it is refused.
			one, err := svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"op"}})
			must(t, err)
			_, err = svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: one.ChatSessionID, Content: "hello"})
			must(t, err)
			group, err := svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"op"}, Type: chat.OneToMany})
			must(t, err)
			_, err = svc.AddMembers(ctx, w.ann, group.ChatSessionID, []string{"bob"})
			wantCode(t, "membersAdded", err, "UNAUTHORIZED")

			// A session of ann and bob from when the directory was open:
			// ann may read it but not write to bob there.
			old, err := w.open.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"bob"}})
			must(t, err)
			_, err = svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: old.ChatSessionID, Content: "spam"})
			wantCode(t, "chatMsg", err, "UNAUTHORIZED")
			title := "spam"
			_, err = svc.SetChatDetails(ctx, w.ann, old.ChatSessionID, &title, nil)
			wantCode(t, "chatDetailsSet", err, "UNAUTHORIZED")
			if m, err := svc.ChatMessages(ctx, w.bob, old.ChatSessionID, chat.Page{}); err != nil || m["count"].(int64) != 0 {
				t.Fatalf("bob's messages from ann: %v %v", m["count"], err)
			}

			// An operator brings end users together on purpose: then they
			// see each other and may write there.
			team, err := svc.CreateChat(ctx, w.op, chat.CreateChatInput{Members: []string{"ann", "bob"}})
			must(t, err)
			wantSeen(t, svc, w.ann, "ann", "bob", "op")
			_, err = svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: team.ChatSessionID, Content: "hi all"})
			must(t, err)

			// Operators see everyone of their tenant.
			wantSeen(t, svc, w.op, "ann", "bob", "op", "p1", "p1/7", "p2/9")
		})
	}
}

func TestDirectoryProgramsSeeTheirOwnUsers(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			w := newWorld(t, d)
			svc := w.closed
			wantSeen(t, svc, w.prog, "op", "p1", "p1/7")
			if _, err := svc.CreateChat(ctx, w.prog, chat.CreateChatInput{Members: []string{"p1/7"}}); err != nil {
				t.Fatal(err)
			}
			for _, other := range []string{"p2/9", "ann"} {
				_, err := svc.CreateChat(ctx, w.prog, chat.CreateChatInput{Members: []string{other}})
				wantCode(t, "chatCreated", err, "UNAUTHORIZED")
			}
			// A program's end user on the chat protocol is an end user.
			wantSeen(t, svc, w.p1u, "op", "p1", "p1/7")
		})
	}
}

func TestDirectoryTenantIsTheGeneralModel(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			w := newWorld(t, d)
			svc := w.open
			everyone := []string{"ann", "bob", "op", "p1", "p1/7", "p2/9"}
			wantSeen(t, svc, w.ann, everyone...)
			wantSeen(t, svc, w.prog, everyone...)
			c, err := svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"bob"}})
			must(t, err)
			_, err = svc.SendMsg(ctx, w.ann, chat.SendMsgInput{SessionID: c.ChatSessionID, Content: "hello"})
			must(t, err)
			g, err := svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"op"}, Type: chat.OneToMany})
			must(t, err)
			_, err = svc.AddMembers(ctx, w.ann, g.ChatSessionID, []string{"p2/9"})
			must(t, err)
			_, err = svc.CreateChat(ctx, w.ann, chat.CreateChatInput{Members: []string{"nobody"}})
			wantCode(t, "chatCreated", err, "INVALID_REQUEST")
		})
	}
}

func TestParseDirectory(t *testing.T) {
	for in, want := range map[string]chat.Directory{"": chat.DirectoryOperators, "operators": chat.DirectoryOperators,
		"tenant": chat.DirectoryTenant} {
		if got, err := chat.ParseDirectory(in); err != nil || got != want {
			t.Errorf("ParseDirectory(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := chat.ParseDirectory("everyone"); err == nil {
		t.Error("ParseDirectory(everyone) succeeded")
	}
}

// A program's id and a person's subject may be equal; the two never
// share a user, whichever comes first.
func TestProgramAndPersonNeverShareAnID(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			w := newWorld(t, d)
			person := switchboard.Principal{ID: "p1", Role: switchboard.RoleUser, Tenant: "acme"}
			wantCode(t, "userOnline", w.closed.EnsureUser(ctx, person), "AUTHENTICATION_ERROR")
			program := switchboard.Principal{ID: "ann", ProgramID: "ann", Role: switchboard.RoleProgram, Tenant: "acme"}
			wantCode(t, "userOnline", w.closed.EnsureUser(ctx, program), "AUTHENTICATION_ERROR")
			// A person may change role; the program is still a program.
			must(t, w.closed.EnsureUser(ctx, switchboard.Principal{ID: "ann", Role: switchboard.RoleOperator, Tenant: "acme"}))
			wantSeen(t, w.closed, w.bob, "ann", "bob", "op")
			wantSeen(t, w.closed, w.prog, "ann", "op", "p1", "p1/7")
		})
	}
}

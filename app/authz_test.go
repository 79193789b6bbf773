package app

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	client "github.com/zishang520/socket.io/clients/socket/v3"
)

// The authorization matrix: every livechat event, every chat-protocol
// event and every REST endpoint, each against a target made fresh for the
// cell, as each kind of principal — over real Socket.IO and real HTTP,
// with tokens of a real (test) OpenID provider. The expected outcomes are
// spec/livechat.md's and spec/chat.md's: where the caller may not see the
// target at all (another tenant's), the answer is the one an unknown id
// gets, so ids cannot be probed. A refused cell must also commit
// nothing, and at the end nothing of tenant acme may have reached a socket
// of tenant globex (whose user-1 has the same subject as acme's user-1).

// actor is a column of the matrix.
type actor int

const (
	asUser          actor = iota // user-1 of tenant acme
	asOperator                   // operator-1 of acme
	asProgram                    // program-42 of acme, acting for its end user 42
	asOtherUser                  // user-1 of tenant globex: same subject, other tenant
	asOtherOperator              // operator-9 of globex
	asNobody                     // no token
	actors
)

var actorNames = [actors]string{"user", "operator", "program", "otherTenantUser", "otherTenantOperator", "noToken"}

// principals of the columns (asNobody has none), and the other people the
// targets need: user-2, user-3 and operator-2 of acme. user-2 never shares
// a session with user-1 (the directory rows look for it); user-3 may be
// added to one.
var (
	columnWho = [actors]who{
		{"user-1", "acme", "user"}, {"operator-1", "acme", "operator"}, {"program-42", "acme", "program"},
		{"user-1", "globex", "user"}, {"operator-9", "globex", "operator"},
	}
	user2     = who{"user-2", "acme", "user"}
	user3     = who{"user-3", "acme", "user"}
	operator2 = who{"operator-2", "acme", "operator"}
)

// want is one row's expected outcome per column: for livechat the ack's
// code ("" = null, success), for the chat protocol the response's
// resultCode, for REST the HTTP status.
type want [actors]string

// allows reports whether got is an expected outcome for column a; a cell
// may list several, separated by "|".
func (w want) allows(a actor, got string) bool {
	return slices.Contains(strings.Split(w[a], "|"), got)
}

// matrix is the running server with a socket of each protocol per column.
type matrix struct {
	t      *testing.T
	n      *node
	iss    *testIssuer
	tokens [actors]string
	lc     [actors]*client.Socket
	chat   [actors]*client.Socket
	seen   [actors]*events // every event a column's sockets received
	mu     sync.Mutex
	seq    int
	acme   []string // ids of acme's tickets, sessions and messages
}

func newMatrix(t *testing.T) *matrix {
	iss := newTestIssuer(t)
	m := &matrix{t: t, iss: iss, n: startTenantNode(t, iss, nil)}
	for a := asUser; a < asNobody; a++ {
		m.tokens[a] = iss.token(t, columnWho[a])
		m.lc[a], _ = livechatAs(t, m.n, m.tokens[a])
		m.chat[a], _ = chatAs(t, m.n, m.tokens[a])
		m.seen[a] = &events{ch: map[string]chan []any{}}
		m.tee(m.lc[a], a)
		m.tee(m.chat[a], a)
	}
	// user-2 and operator-2 are known to the server (they have connected).
	livechatAs(t, m.n, iss.token(t, user2))
	chatAs(t, m.n, iss.token(t, user2))
	chatAs(t, m.n, iss.token(t, user3))
	livechatAs(t, m.n, iss.token(t, operator2))
	chatAs(t, m.n, iss.token(t, operator2))
	m.lcOK(asOperator, "subscribeOperator")
	m.lcOK(asOtherOperator, "subscribeOperator")
	return m
}

// tee records every event s receives from now on in the column's log.
func (m *matrix) tee(s *client.Socket, a actor) {
	s.OnAny(func(args ...any) {
		name, _ := args[0].(string)
		m.mu.Lock()
		defer m.mu.Unlock()
		select {
		case m.seen[a].of("all") <- append([]any{name}, args[1:]...):
		default:
		}
	})
}

// id returns a fresh id of acme's, remembered for the leak check.
func (m *matrix) id(prefix string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	id := fmt.Sprintf("%s-%d-acme", prefix, m.seq)
	m.acme = append(m.acme, id)
	return id
}

// fresh returns a fresh id that is not acme's (a column may create it in
// its own tenant).
func (m *matrix) fresh(prefix string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	return fmt.Sprintf("%s-%d", prefix, m.seq)
}

func (m *matrix) remember(id string) {
	m.mu.Lock()
	m.acme = append(m.acme, id)
	m.mu.Unlock()
}

func (m *matrix) lcOK(a actor, event string, args ...any) {
	m.t.Helper()
	if ack := emitAck(m.t, m.lc[a], event, args...); ack != nil {
		m.t.Fatalf("setup: %s as %s: %v", event, actorNames[a], ack)
	}
}

// Targets, made by acme's people for each cell.

// newTicket is a new ticket (status 100) of user-1, or of program-42's
// end user 42.
func (m *matrix) newTicket(owner actor) string {
	id := m.id("t")
	m.subscribe(owner)
	m.lcOK(owner, "createTicket", id, map[string]any{"ticketNm": "matrix " + id})
	return id
}

// openTicket is owner's ticket accepted by operator-1.
func (m *matrix) openTicket(owner actor) string {
	id := m.newTicket(owner)
	m.lcOK(asOperator, "acceptTicket", id, map[string]any{}, "")
	return id
}

// message is a message of user-1 to operator-1 on a fresh open ticket.
func (m *matrix) message() (ticket, msg string) {
	ticket = m.openTicket(asUser)
	msg = m.id("m")
	m.lcOK(asUser, "updateMessage", ticket, msg, map[string]any{"content": "hello", "type": 1}, "operator-1")
	return ticket, msg
}

// subscribe (re)subscribes the end-user columns: a program acts only for
// the end user it subscribed, and a row may have unsubscribed.
func (m *matrix) subscribe(a actor) {
	switch columnWho[a].role {
	case "user":
		m.lcOK(a, "subscribe", map[string]any{"userId": columnWho[a].sub})
	case "program":
		m.lcOK(a, "subscribe", map[string]any{"userId": "42", "programId": "program-42", "fullNm": "End User 42"})
	}
}

// session is a chat session of user-1 with the given acme members.
func (m *matrix) session(typ string, members ...string) string {
	m.t.Helper()
	env := emitAck(m.t, m.chat[asUser], "createChat", chatBody(map[string]any{
		"members": members, "title": "matrix session", "sesType": typ}))
	if resultCode(env) != "OK" {
		m.t.Fatalf("setup: createChat: %v", env)
	}
	id := payloadOf(env)["chatSessionId"].(string)
	m.remember(id)
	return id
}

// chatMsg is a message of user-1 in a fresh session with operator-1.
func (m *matrix) chatMsg() (session, msg string) {
	m.t.Helper()
	session = m.session("ONETOONE", "operator-1")
	env := emitAck(m.t, m.chat[asUser], "sendMsg", chatBody(map[string]any{"chatSessionId": session, "msg": "hello"}))
	if resultCode(env) != "OK" {
		m.t.Fatalf("setup: sendMsg: %v", env)
	}
	msg = payloadOf(env)["msgId"].(string)
	m.remember(msg)
	return session, msg
}

func payloadOf(env any) map[string]any {
	p, _ := env.(map[string]any)["payload"].(map[string]any)
	return p
}

// livechatRow is one livechat event against a target its args make.
type livechatRow struct {
	name  string
	event string
	args  func(m *matrix, a actor) []any
	want  want
}

const (
	ok       = ""
	forbid   = "FORBIDDEN"
	notFound = "NOT_FOUND"
	unauth   = "UNAUTHENTICATED"
	invalidR = "INVALID_REQUEST"
)

func livechatRows() []livechatRow {
	self := func(m *matrix, a actor) []any {
		if a == asProgram {
			return []any{map[string]any{"userId": "42", "programId": "program-42"}}
		}
		return []any{map[string]any{"userId": columnWho[a].sub}}
	}
	fixed := func(v ...any) func(*matrix, actor) []any { return func(*matrix, actor) []any { return v } }
	return []livechatRow{
		{"subscribe as oneself", "subscribe", self,
			want{ok, forbid, ok, ok, forbid, unauth}},
		{"subscribe as someone else", "subscribe", fixed(map[string]any{"userId": "user-2", "programId": "program-7"}),
			want{forbid, forbid, forbid, forbid, forbid, unauth}},
		{"unsubscribe", "unsubscribe", fixed(),
			want{ok, forbid, ok, ok, forbid, unauth}},
		{"subscribeOperator", "subscribeOperator", fixed(),
			want{forbid, ok, forbid, forbid, ok, unauth}},
		{"unsubscribeOperator", "unsubscribeOperator", fixed(),
			want{forbid, ok, forbid, forbid, ok, unauth}},
		{"createTicket with a fresh id", "createTicket", func(m *matrix, a actor) []any {
			return []any{m.fresh("t"), map[string]any{"ticketNm": "new"}}
		}, want{ok, forbid, ok, ok, forbid, unauth}},
		{"createTicket with user-1's ticket id", "createTicket", func(m *matrix, a actor) []any {
			return []any{m.newTicket(asUser), map[string]any{"ticketNm": "again"}}
		}, want{ok, forbid, "CONFLICT", "CONFLICT", forbid, unauth}},
		{"acceptTicket of user-1's new ticket", "acceptTicket", func(m *matrix, a actor) []any {
			return []any{m.newTicket(asUser), map[string]any{}, "user-1"}
		}, want{forbid, ok, forbid, forbid, notFound, unauth}},
		{"acceptTicket of program 42's new ticket", "acceptTicket", func(m *matrix, a actor) []any {
			return []any{m.newTicket(asProgram), map[string]any{}, "42"}
		}, want{forbid, ok, forbid, forbid, notFound, unauth}},
		{"updateTicketStatus: close user-1's open ticket", "updateTicketStatus", func(m *matrix, a actor) []any {
			return []any{m.openTicket(asUser), map[string]any{}, 10000, "user-1"}
		}, want{forbid, ok, forbid, forbid, notFound, unauth}},
		{"assignTicket: hijack user-1's open ticket", "assignTicket", func(m *matrix, a actor) []any {
			return []any{map[string]any{"ticketId": m.openTicket(asUser), "handleById": nil}}
		}, want{forbid, ok, forbid, forbid, notFound, unauth}},
		{"assignTicket to operator-2", "assignTicket", func(m *matrix, a actor) []any {
			return []any{map[string]any{"ticketId": m.newTicket(asUser), "handleById": "operator-2"}}
		}, want{forbid, ok, forbid, forbid, notFound, unauth}},
		{"assignTicket to an operator of another tenant", "assignTicket", func(m *matrix, a actor) []any {
			return []any{map[string]any{"ticketId": m.newTicket(asUser), "handleById": "operator-9"}}
		}, want{forbid, notFound, forbid, forbid, notFound, unauth}},
		{"assignTicket to an end user", "assignTicket", func(m *matrix, a actor) []any {
			return []any{map[string]any{"ticketId": m.newTicket(asUser), "handleById": "user-2"}}
		}, want{forbid, notFound, forbid, forbid, notFound, unauth}},
		{"transferTicket of user-1's open ticket to operator-2", "transferTicket", func(m *matrix, a actor) []any {
			return []any{map[string]any{"ticketId": m.openTicket(asUser), "operatorId": "operator-2", "note": "over to you"}}
		}, want{forbid, ok, forbid, forbid, notFound, unauth}},
		{"transferTicket to an unknown team", "transferTicket", func(m *matrix, a actor) []any {
			return []any{map[string]any{"ticketId": m.openTicket(asUser), "team": "no-such-team"}}
		}, want{forbid, notFound, forbid, forbid, notFound, unauth}},
		{"addNote on user-1's open ticket", "addNote", func(m *matrix, a actor) []any {
			return []any{map[string]any{"ticketId": m.openTicket(asUser), "content": "internal"}}
		}, want{forbid, ok, forbid, forbid, notFound, unauth}},
		{"updateMessage on user-1's open ticket", "updateMessage", func(m *matrix, a actor) []any {
			return []any{m.openTicket(asUser), m.id("m"), map[string]any{"content": "hi", "type": 1}, "x"}
		}, want{ok, ok, notFound, notFound, notFound, unauth}},
		{"updateMessage on program 42's open ticket", "updateMessage", func(m *matrix, a actor) []any {
			return []any{m.openTicket(asProgram), m.id("m"), map[string]any{"content": "hi", "type": 1}, "x"}
		}, want{notFound, ok, ok, notFound, notFound, unauth}},
		{"updateMessageStatus: read user-1's message to operator-1", "updateMessageStatus", func(m *matrix, a actor) []any {
			_, msg := m.message()
			return []any{msg, 3, "operator-1", "user-1", false}
		}, want{forbid, ok, notFound, notFound, notFound, unauth}},
		{"updateMessageStatus 'all' from user-1", "updateMessageStatus", fixed("all", 3, "", "user-1", false),
			want{ok, ok, ok, ok, ok, unauth}},
		{"typing on user-1's open ticket", "typing", func(m *matrix, a actor) []any {
			return []any{m.openTicket(asUser), "x"}
		}, want{ok, ok, notFound, notFound, notFound, unauth}},
		{"addReaction to user-1's message to operator-1", "addReaction", func(m *matrix, a actor) []any {
			_, msg := m.message()
			return []any{msg, "👍"}
		}, want{ok, ok, notFound, notFound, notFound, unauth}},
		{"removeReaction on user-1's message to operator-1", "removeReaction", func(m *matrix, a actor) []any {
			_, msg := m.message()
			return []any{msg, "👍"}
		}, want{ok, ok, notFound, notFound, notFound, unauth}},
		{"an unknown event", "dropAllTickets", fixed("t-1"),
			want{invalidR, invalidR, invalidR, invalidR, invalidR, unauth}},
		{"authenticate as someone else on the same socket", "authenticate", func(m *matrix, a actor) []any {
			return []any{map[string]any{"accessToken": m.iss.token(m.t, user2)}}
		}, want{forbid, forbid, forbid, forbid, forbid, ok}},
	}
}

// before puts a column's sockets back in their subscribed state.
func (m *matrix) before(a actor) {
	switch a {
	case asUser, asProgram, asOtherUser:
		m.subscribe(a)
	case asOperator, asOtherOperator:
		m.lcOK(a, "subscribeOperator")
	}
}

func TestAuthorizationMatrixLivechat(t *testing.T) {
	m := newMatrix(t)
	watch := watchChanges(t, m.n)
	m.newTicket(asUser)
	if !watch.committed(t) {
		t.Fatal("the commit watch did not see a ticket created")
	}
	for _, r := range livechatRows() {
		for a := asUser; a < actors; a++ {
			t.Run(r.name+"/"+actorNames[a], func(t *testing.T) {
				m.t = t
				s := m.lc[a]
				if a == asNobody {
					s, _ = livechatAs(t, m.n, "") // fresh: a row may authenticate it
				} else {
					m.before(a)
				}
				args := r.args(m, a)
				watch.committed(t)
				got := errCode(emitAck(t, s, r.event, args...))
				if !r.want.allows(a, got) {
					t.Errorf("%s as %s = %q, want %q (args %v)", r.event, actorNames[a], got, r.want[a], args)
				}
				if got != ok && watch.committed(t) {
					t.Errorf("%s as %s was refused (%s) but committed a change", r.event, actorNames[a], got)
				}
			})
		}
	}
	m.t = t
	m.checkNoLeak()
}

// checkNoLeak fails if an event a globex socket received names an id of
// acme's.
func (m *matrix) checkNoLeak() {
	m.t.Helper()
	for _, a := range []actor{asOtherUser, asOtherOperator} {
		ch := m.seen[a].of("all")
		for len(ch) > 0 {
			ev := <-ch
			if len(ev) > 1 && resultCode(ev[1]) != "?" && resultCode(ev[1]) != chatOK {
				continue // a refusal of the socket's own request, echoing the id it sent
			}
			text := fmt.Sprint(ev)
			for _, id := range m.acme {
				if strings.Contains(text, id) {
					m.t.Errorf("%s of tenant globex received %v, which names acme's %s", actorNames[a], ev, id)
				}
			}
		}
	}
}

// chatRow is one chat-protocol event; check, when set, looks into a
// successful response's payload.
type chatRow struct {
	name    string
	event   string
	payload func(m *matrix, a actor) map[string]any
	want    want
	check   func(t *testing.T, m *matrix, a actor, payload map[string]any)
}

const (
	chatOK      = "OK"
	authErr     = "AUTHENTICATION_ERROR"
	chatInvalid = "INVALID_REQUEST"
	noChat      = "CHAT_NOT_FOUND"
	noChats     = "CHATS_NOT_FOUND"
	notMember   = "NOT_MEMBER_OF_CHAT"
	unauthz     = "UNAUTHORIZED"
)

// names lists the usernames of a chatUsers payload.
func names(p map[string]any) []string {
	var out []string
	users, _ := p["users"].([]any)
	for _, u := range users {
		if m, ok := u.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["username"]))
		}
	}
	return out
}

func chatRows() []chatRow {
	fixed := func(p map[string]any) func(*matrix, actor) map[string]any {
		return func(*matrix, actor) map[string]any { return p }
	}
	inSession := func(extra map[string]any) func(*matrix, actor) map[string]any {
		return func(m *matrix, a actor) map[string]any {
			p := map[string]any{"chatSessionId": m.session("ONETOONE", "operator-1")}
			for k, v := range extra {
				p[k] = v
			}
			return p
		}
	}
	inTicket := func(extra map[string]any) func(*matrix, actor) map[string]any {
		return func(m *matrix, a actor) map[string]any {
			p := map[string]any{"chatSessionId": m.openTicket(asUser)}
			for k, v := range extra {
				p[k] = v
			}
			return p
		}
	}
	onMsg := func(extra map[string]any) func(*matrix, actor) map[string]any {
		return func(m *matrix, a actor) map[string]any {
			s, msg := m.chatMsg()
			p := map[string]any{"chatSessionId": s, "msgId": msg}
			for k, v := range extra {
				p[k] = v
			}
			return p
		}
	}
	// Rows marked DIRECTORY hold the directory policy
	// (SWITCHBOARD_CHAT_DIRECTORY=operators, the default): an end user sees
	// and reaches only operators and the members of its sessions; a program
	// sees its own users.
	return []chatRow{
		// operator-2 is unknown in globex: refused as any unknown user is.
		{"createChat with operator-2", "createChat", fixed(map[string]any{"members": []any{"operator-2"}}),
			want{chatOK, chatOK, chatOK, chatInvalid + "|" + unauthz, chatInvalid + "|" + unauthz, authErr}, nil},
		// DIRECTORY: end users may not start chats with other end users.
		{"createChat with user-2", "createChat", fixed(map[string]any{"members": []any{"user-2"}}),
			want{unauthz, chatOK, unauthz, chatInvalid + "|" + unauthz, chatInvalid + "|" + unauthz, authErr}, nil},
		{"setChatDetails of user-1's session with operator-1", "setChatDetails", inSession(map[string]any{"title": "renamed"}),
			want{chatOK, chatOK, noChat, noChat, noChat, authErr}, nil},
		{"addMembers operator-2 to user-1's group", "addMembers", func(m *matrix, a actor) map[string]any {
			return map[string]any{"chatSessionId": m.session("ONETOMANY", "operator-1"), "members": []any{"operator-2"}}
		}, want{chatOK, chatOK, noChat, noChat, noChat, authErr}, nil},
		// DIRECTORY: nor add them to a session.
		{"addMembers user-3 to user-1's group", "addMembers", func(m *matrix, a actor) map[string]any {
			return map[string]any{"chatSessionId": m.session("ONETOMANY", "operator-1"), "members": []any{"user-3"}}
		}, want{unauthz, chatOK, noChat, noChat, noChat, authErr}, nil},
		{"leaveChat of user-1's group", "leaveChat", func(m *matrix, a actor) map[string]any {
			return map[string]any{"chatSessionId": m.session("ONETOMANY", "operator-1", "operator-2")}
		}, want{chatOK, chatOK, noChat, noChat, noChat, authErr}, nil},
		// Within the tenant a non-member is UNAUTHORIZED (chatMsg's
		// enumeration); another tenant's session does not exist.
		{"sendMsg in user-1's session", "sendMsg", inSession(map[string]any{"msg": "hi"}),
			want{chatOK, chatOK, unauthz, noChat, noChat, authErr}, nil},
		{"editMsg of user-1's message", "editMsg", onMsg(map[string]any{"msg": "edited"}),
			want{chatOK, unauthz, unauthz, noChat, noChat, authErr}, nil},
		{"removeMsg of user-1's message", "removeMsg", onMsg(nil),
			want{chatOK, unauthz, unauthz, noChat, noChat, authErr}, nil},
		{"markMsgRead of user-1's message", "markMsgRead", func(m *matrix, a actor) map[string]any {
			s, msg := m.chatMsg()
			return map[string]any{"chatSessionId": s, "messages": []any{msg}}
		}, want{chatOK, chatOK, noChat, noChat, noChat, authErr}, nil},
		{"markSessionRead of user-1's session", "markSessionRead", inSession(nil),
			want{chatOK, chatOK, noChat, noChat, noChat, authErr}, nil},
		{"markAllSessionsRead", "markAllSessionsRead", fixed(map[string]any{}),
			want{chatOK, chatOK, chatOK, chatOK, chatOK, authErr}, nil},
		{"getChatMessages of user-1's session", "getChatMessages", inSession(nil),
			want{chatOK, chatOK, notMember, notMember, notMember, authErr}, nil},
		{"getChatSessions", "getChatSessions", fixed(map[string]any{"numOfRes": 500}),
			want{chatOK, chatOK, chatOK, chatOK, chatOK, authErr}, nil},
		{"getArchivedSessions", "getArchivedSessions", fixed(map[string]any{"numOfRes": 500}),
			want{chatOK, chatOK, chatOK, chatOK, chatOK, authErr}, nil},
		{"getAggregatedUsersSessions", "getAggregatedUsersSessions", fixed(map[string]any{"numOfRes": 500, "numOfResUsers": 500}),
			want{chatOK, chatOK, chatOK, chatOK, chatOK, authErr}, nil},
		// DIRECTORY: what each sees in the directory.
		{"getChatUsers", "getChatUsers", fixed(map[string]any{"numOfRes": 500}),
			want{chatOK, chatOK, chatOK, chatOK, chatOK, authErr}, checkDirectory},
		{"findByProperties of user-1's session", "findByProperties", func(m *matrix, a actor) map[string]any {
			s := m.session("ONETOONE", "operator-1")
			return map[string]any{"criteria": map[string]any{"sessionIds": []any{s},
				"textSearch": map[string]any{"searchKey": "matrix"}}, "numOfRes": 500}
		}, want{chatOK, chatOK, chatOK, chatOK, chatOK, authErr}, checkFoundOnlyByMembers},
		{"starSessions of user-1's session", "starSessions", func(m *matrix, a actor) map[string]any {
			return map[string]any{"chatSessionIds": []any{m.session("ONETOONE", "operator-1")}, "starred": true}
		}, want{chatOK, chatOK, noChats, noChats, noChats, authErr}, nil},
		{"archiveSessions of user-1's session", "archiveSessions", func(m *matrix, a actor) map[string]any {
			return map[string]any{"chatSessionIds": []any{m.session("ONETOONE", "operator-1")}, "archived": true}
		}, want{chatOK, chatOK, noChats, noChats, noChats, authErr}, nil},
		{"setStatus", "setStatus", fixed(map[string]any{"status": "BUSY", "statusMsg": "matrix"}),
			want{chatOK, chatOK, chatOK, chatOK, chatOK, authErr}, nil},
		// userAction's enumeration has no CHAT_NOT_FOUND.
		{"sendUserAction in user-1's session", "sendUserAction", inSession(map[string]any{"action": "TYPING"}),
			want{chatOK, chatOK, chatInvalid, chatInvalid, chatInvalid, authErr}, nil},
		// A ticket is a chat session (spec/chat.md): its parties use it
		// through this protocol too, its membership follows the ticket.
		{"sendMsg in user-1's ticket", "sendMsg", inTicket(map[string]any{"msg": "hi"}),
			want{chatOK, chatOK, unauthz, noChat, noChat, authErr}, nil},
		{"getChatMessages of user-1's ticket", "getChatMessages", inTicket(nil),
			want{chatOK, chatOK, notMember, notMember, notMember, authErr}, nil},
		{"leaveChat of user-1's ticket", "leaveChat", inTicket(nil),
			want{chatInvalid, chatInvalid, noChat, noChat, noChat, authErr}, nil},
		{"addMembers user-3 to user-1's ticket", "addMembers", inTicket(map[string]any{"members": []any{"user-3"}}),
			want{chatInvalid + "|" + unauthz, chatInvalid, noChat, noChat, noChat, authErr}, nil},
		{"a payload naming another clientId", "getChatSessions", fixed(map[string]any{"clientId": "acme"}),
			want{chatOK, chatOK, chatOK, authErr, authErr, authErr}, nil},
		{"an unknown event", "dropAllSessions", fixed(map[string]any{}),
			want{chatInvalid, chatInvalid, chatInvalid, chatInvalid, chatInvalid, chatInvalid}, nil},
		{"clientReady again", "clientReady", func(m *matrix, a actor) map[string]any {
			return map[string]any{"tokenId": m.tokens[a]}
		}, want{"CONNECTION_ALREADY_OPEN", "CONNECTION_ALREADY_OPEN", "CONNECTION_ALREADY_OPEN",
			"CONNECTION_ALREADY_OPEN", "CONNECTION_ALREADY_OPEN", authErr}, nil},
	}
}

// checkDirectory: nobody sees another tenant's people; an end user sees
// operators but not other end users (DIRECTORY); an operator sees the
// tenant's end users.
func checkDirectory(t *testing.T, m *matrix, a actor, p map[string]any) {
	got := names(p)
	acmeOnly := []string{"operator-1", "operator-2", "user-2"}
	switch a {
	case asOtherUser, asOtherOperator:
		for _, n := range acmeOnly {
			if slices.Contains(got, n) {
				t.Errorf("%s of globex sees acme's %s: %v", actorNames[a], n, got)
			}
		}
	case asUser:
		if !slices.Contains(got, "operator-2") {
			t.Errorf("user-1 does not see operator-2: %v", got)
		}
		if slices.Contains(got, "user-2") || slices.ContainsFunc(got, func(n string) bool { return strings.Contains(n, "program-42") }) {
			t.Errorf("user-1 sees other end users: %v", got)
		}
	case asOperator:
		if !slices.Contains(got, "user-2") || !slices.Contains(got, "operator-2") {
			t.Errorf("operator-1 does not see the tenant's people: %v", got)
		}
	}
}

// checkFoundOnlyByMembers: a search finds user-1's session for its members
// only.
func checkFoundOnlyByMembers(t *testing.T, m *matrix, a actor, p map[string]any) {
	sessions, _ := p["sessions"].([]any)
	member := a == asUser || a == asOperator
	if member && len(sessions) != 1 || !member && len(sessions) != 0 {
		t.Errorf("search as %s found %d sessions: %v", actorNames[a], len(sessions), p)
	}
}

func TestAuthorizationMatrixChat(t *testing.T) {
	m := newMatrix(t)
	watch := watchChanges(t, m.n)
	for _, r := range chatRows() {
		for a := asUser; a < actors; a++ {
			t.Run(r.name+"/"+actorNames[a], func(t *testing.T) {
				m.t = t
				s := m.chat[a]
				if a == asNobody {
					s, _ = chatAs(t, m.n, "") // fresh: a refused clientReady closes it
				}
				payload := r.payload(m, a)
				watch.committed(t)
				env := emitAck(t, s, r.event, chatBody(payload))
				got := resultCode(env)
				if !r.want.allows(a, got) {
					t.Errorf("%s as %s = %s, want %s (payload %v, answer %v)", r.event, actorNames[a], got, r.want[a], payload, env)
				}
				if got != chatOK && watch.committed(t) {
					t.Errorf("%s as %s was refused (%s) but committed a change", r.event, actorNames[a], got)
				}
				if got == chatOK && r.check != nil {
					r.check(t, m, a, payloadOf(env))
				}
			})
		}
	}
	m.t = t
	m.checkNoLeak()
}

// restRow is one REST call; path may make a target first.
type restRow struct {
	name   string
	method string
	path   func(m *matrix) string
	body   string
	want   want
	check  func(t *testing.T, m *matrix, a actor, body any)
}

func restRows() []restRow {
	fixed := func(p string) func(*matrix) string { return func(*matrix) string { return p } }
	return []restRow{
		{"list tickets", "GET", fixed("/api/v1/tickets"), "",
			want{"200", "200", "200", "200", "200", "401"}, checkTicketList},
		{"list new tickets", "GET", fixed("/api/v1/tickets?status=100"), "",
			want{"200", "200", "200", "200", "200", "401"}, checkTicketList},
		// BOUNDED (the list endpoints' limit and cursors, as the directory
		// rows above, hold a rule that lands with its own change): never
		// more than the limit asked for.
		{"list tickets, one page of 1", "GET", fixed("/api/v1/tickets?limit=1"), "",
			want{"200", "200", "200", "200", "200", "401"}, checkAtMost(1)},
		{"list tickets, a limit above the most", "GET", fixed("/api/v1/tickets?limit=100000"), "",
			want{"200", "200", "200", "200", "200", "401"}, checkAtMost(500)},
		{"list tickets, limit 0", "GET", fixed("/api/v1/tickets?limit=0"), "",
			want{"400", "400", "400", "400", "400", "401"}, nil},
		{"list tickets, a forged cursor", "GET", fixed("/api/v1/tickets?cursor=not-a-cursor"), "",
			want{"400", "400", "400", "400", "400", "401"}, nil},
		{"messages of user-1's open ticket, one page of 1", "GET", func(m *matrix) string {
			t, _ := m.message()
			return "/api/v1/tickets/" + t + "/messages?limit=1"
		}, "", want{"200", "200", "404", "404", "404", "401"}, checkAtMost(1)},
		{"operator roster, one page of 1", "GET", fixed("/api/v1/operators?limit=1"), "",
			want{"403", "200", "403", "403", "200", "401"}, checkAtMost(1)},
		{"messages of user-1's open ticket", "GET", func(m *matrix) string {
			t, _ := m.message()
			return "/api/v1/tickets/" + t + "/messages"
		}, "", want{"200", "200", "404", "404", "404", "401"}, nil},
		{"messages of an unknown ticket", "GET", fixed("/api/v1/tickets/no-such-ticket/messages"), "",
			want{"404", "404", "404", "404", "404", "401"}, nil},
		{"operator roster", "GET", fixed("/api/v1/operators"), "",
			want{"403", "200", "403", "403", "200", "401"}, checkRoster},
		{"set one's own status", "PUT", fixed("/api/v1/operators/me/status"), `{"status":"AWAY"}`,
			want{"403", "200", "403", "403", "200", "401"}, nil},
		{"a socket token", "POST", fixed("/api/v1/rtm/connect"), "",
			want{"200", "200", "200", "200", "200", "401"}, nil},
		{"a bot message into program 42's open ticket", "POST", func(m *matrix) string {
			return "/api/v1/tickets/" + m.openTicket(asProgram) + "/bot-messages"
		}, `{"botMessage":"your order shipped"}`, want{"403", "403", "201", "403", "403", "401"}, nil},
		{"a bot message into user-1's open ticket", "POST", func(m *matrix) string {
			return "/api/v1/tickets/" + m.openTicket(asUser) + "/bot-messages"
		}, `{"botMessage":"hello"}`, want{"403", "403", "404", "403", "403", "401"}, nil},
		// Internal notes, alerts and search are operators', each in its
		// own tenant.
		{"write a note on user-1's open ticket", "POST", func(m *matrix) string {
			return "/api/v1/tickets/" + m.openTicket(asUser) + "/notes"
		}, `{"content":"internal"}`, want{"403", "201", "403", "403", "404", "401"}, nil},
		{"notes of user-1's open ticket", "GET", func(m *matrix) string {
			return "/api/v1/tickets/" + m.openTicket(asUser) + "/notes"
		}, "", want{"403", "200", "403", "403", "404", "401"}, nil},
		{"search tickets", "GET", fixed("/api/v1/search/tickets"), "",
			want{"403", "200", "403", "403", "200", "401"}, checkSearch},
		{"one's alerts", "GET", fixed("/api/v1/alerts"), "",
			want{"403", "200", "403", "403", "200", "401"}, nil},
		{"read all one's alerts", "POST", fixed("/api/v1/alerts/read-all"), "",
			want{"403", "200", "403", "403", "200", "401"}, nil},
		// Data-protection requests are an administrator's (no column is
		// one; app/privacy_test.go and privacy/ test the administrator).
		{"export user-1's data", "GET", fixed("/api/v1/users/user-1/data"), "",
			want{"403", "403", "403", "403", "403", "401"}, nil},
		{"erase user-1's data", "DELETE", fixed("/api/v1/users/user-1/data"), "",
			want{"403", "403", "403", "403", "403", "401"}, nil},
	}
}

// checkTicketList: a user sees its own tickets, an operator all of its
// tenant's, another tenant none of acme's.
func checkTicketList(t *testing.T, m *matrix, a actor, body any) {
	list, _ := body.([]any)
	for _, e := range list {
		tk, _ := e.(map[string]any)
		owner, _ := tk["ownerId"].(string)
		switch a {
		case asUser, asOtherUser:
			if owner != "user-1" {
				t.Errorf("%s lists a ticket of %s", actorNames[a], owner)
			}
		case asProgram:
			if tk["programId"] != "program-42" {
				t.Errorf("program-42 lists a ticket of %s", owner)
			}
		}
		if a == asOtherUser || a == asOtherOperator {
			if id, _ := tk["ticketId"].(string); strings.HasSuffix(id, "-acme") {
				t.Errorf("%s of globex lists acme's ticket %s", actorNames[a], id)
			}
		}
	}
	if (a == asOperator || a == asUser || a == asProgram) && len(list) == 0 {
		t.Errorf("%s lists no ticket", actorNames[a])
	}
}

// checkSearch: an operator finds its tenant's tickets, never another's.
func checkSearch(t *testing.T, m *matrix, a actor, body any) {
	obj, _ := body.(map[string]any)
	items, _ := obj["items"].([]any)
	for _, it := range items {
		tk, _ := it.(map[string]any)["ticket"].(map[string]any)
		if id, _ := tk["ticketId"].(string); a == asOtherOperator && strings.HasSuffix(id, "-acme") {
			t.Errorf("globex's operator finds acme's ticket %s", id)
		}
	}
	if a == asOperator && len(items) == 0 {
		t.Error("acme's operator finds no ticket")
	}
}

func checkAtMost(n int) func(*testing.T, *matrix, actor, any) {
	return func(t *testing.T, m *matrix, a actor, body any) {
		if list, _ := body.([]any); len(list) > n {
			t.Errorf("asked for %d, got %d", n, len(list))
		}
	}
}

func checkRoster(t *testing.T, m *matrix, a actor, body any) {
	text := fmt.Sprint(body)
	if a == asOtherOperator && (strings.Contains(text, "operator-1") || strings.Contains(text, "operator-2")) {
		t.Errorf("globex's roster lists acme's operators: %v", body)
	}
	if a == asOperator && !strings.Contains(text, "operator-2") {
		t.Errorf("acme's roster lacks operator-2: %v", body)
	}
}

func TestAuthorizationMatrixREST(t *testing.T) {
	m := newMatrix(t)
	for _, owner := range []actor{asUser, asProgram} {
		m.newTicket(owner)
		m.openTicket(owner)
	}
	watch := watchChanges(t, m.n)
	for _, r := range restRows() {
		for a := asUser; a < actors; a++ {
			t.Run(r.name+"/"+actorNames[a], func(t *testing.T) {
				m.t = t
				path := r.path(m)
				watch.committed(t)
				status, body := restCall(t, m.n, r.method, path, m.tokens[a], r.body)
				if got := fmt.Sprint(status); !r.want.allows(a, got) {
					t.Errorf("%s %s as %s = %s, want %s (%v)", r.method, path, actorNames[a], got, r.want[a], body)
				}
				if status >= 400 && watch.committed(t) {
					t.Errorf("%s %s as %s was refused (%d) but committed a change", r.method, path, actorNames[a], status)
				}
				if status == 200 && r.check != nil {
					r.check(t, m, a, body)
				}
			})
		}
	}
}

package privacy_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/privacy"
	"github.com/switchboard-chat/switchboard/tickets"
)

var start = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// tokens maps bearer tokens to principals.
type tokens map[string]switchboard.Principal

func (v tokens) Verify(_ context.Context, raw string) (switchboard.Principal, error) {
	p, ok := v[raw]
	if !ok {
		return p, switchboard.Errorf(switchboard.ETOKENINVALID, "unknown token")
	}
	return p, nil
}

// heard keeps the events published after commits.
type heard struct {
	mu     sync.Mutex
	events []switchboard.Event
}

func (h *heard) Publish(evs []switchboard.Event) {
	h.mu.Lock()
	h.events = append(h.events, evs...)
	h.mu.Unlock()
}

func (h *heard) named(name string) []switchboard.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []switchboard.Event
	for _, ev := range h.events {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

func principal(tenant, id string, role switchboard.Role, admin bool) switchboard.Principal {
	return switchboard.Principal{ID: id, Role: role, DisplayName: id, Tenant: tenant, Admin: admin,
		ExpiresAt: start.Add(time.Hour)}
}

func caller(tenant, id string, role switchboard.Role) tickets.Caller {
	p := principal(tenant, id, role, false)
	return tickets.Caller{Principal: p, UserID: id, Name: id, Socket: "sock-" + id}
}

func must(t *testing.T, what string, f func(database.Done)) {
	t.Helper()
	ch := make(chan error, 1)
	f(func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// world is one database with two tenants: in acme, Ann's ticket (with
// a visitor context, a visitor record and a refresh credential) that Bob
// answers, Carl's ticket, and a plain conversation of Ann and Bob; in
// other, another Ann's ticket.
type world struct {
	db    *database.DB
	heard *heard
	srv   *httptest.Server
}

func newWorld(t *testing.T, dialect string) world {
	t.Helper()
	db := testdb.Open(t, dialect)
	h := &heard{}
	committer := database.NewCommitter(db, h, database.CommitterOptions{})
	t.Cleanup(committer.Close)
	svc := tickets.NewService(db, committer, tickets.Options{Now: func() time.Time { return start }})
	t.Cleanup(svc.Close)
	for _, tk := range []struct{ tenant, owner, id string }{
		{"acme", "ann", "ann-ticket"}, {"acme", "carl", "carl-ticket"}, {"other", "ann", "other-ann-ticket"}} {
		owner, bob := caller(tk.tenant, tk.owner, switchboard.RoleUser), caller(tk.tenant, "bob", switchboard.RoleOperator)
		for _, c := range []tickets.Caller{owner, bob} {
			must(t, "sign in", func(d database.Done) { svc.EnsureUser(c.Principal, d) })
		}
		must(t, "create", func(d database.Done) {
			svc.CreateTicket(owner, tk.id, tickets.TicketInput{TicketName: tk.id,
				Context: tickets.VisitorContext{"pageUrl": "https://shop.example/" + tk.id}}, d)
		})
		must(t, "accept", func(d database.Done) { svc.AcceptTicket(bob, tk.id, d) })
		must(t, "ask", func(d database.Done) {
			svc.SendMessage(owner, tk.id, tk.id+"-q", tickets.MessageInput{Type: 1, Content: "question in " + tk.id}, d)
		})
		must(t, "answer", func(d database.Done) {
			svc.SendMessage(bob, tk.id, tk.id+"-a", tickets.MessageInput{Type: 1, Content: "answer in " + tk.id}, d)
		})
	}
	err := committer.Run(context.Background(), func(tx *gorm.DB) ([]switchboard.Event, error) {
		st := chat.StoreIn(tx)
		ms := start.UnixMilli()
		if err := st.CreateSession(chat.Session{ID: "group", Tenant: "acme", Type: chat.OneToMany, CreatorID: "bob",
			CreatedAt: ms, UpdatedAt: ms}, chat.Member{SessionID: "group", UserID: "ann", Role: "MEMBER", JoinedAt: ms},
			chat.Member{SessionID: "group", UserID: "bob", Role: "OWNER", JoinedAt: ms}); err != nil {
			return nil, err
		}
		for _, m := range []chat.Message{{ID: "g1", SenderID: "ann", Content: "ann in group"},
			{ID: "g2", SenderID: "bob", Content: "bob in group"}} {
			m.SessionID, m.Tenant, m.Kind, m.Type, m.Encoding, m.StatusID, m.CreatedAt = "group", "acme", chat.KindUser, 1, "utf-8", 1, ms
			if _, err := st.InsertMessage(&m); err != nil {
				return nil, err
			}
		}
		for _, q := range []string{
			`INSERT INTO visitors (id, tenant, subject, name, email, created_at, seen_at) VALUES ('v-ann', 'acme', 'ann', 'Ann', 'ann@example.com', 1, 1)`,
			`INSERT INTO visitors (id, tenant, subject, name, email, created_at, seen_at) VALUES ('v-ann2', 'other', 'ann', 'Ann', 'ann@other.example', 1, 1)`,
			`INSERT INTO visitor_refresh_tokens (hash, visitor_id, family, expires_at, created_at) VALUES ('h1', 'v-ann', 'f1', 9999999999999, 1)`,
			`INSERT INTO users (tenant, id, program_id, role, created_at, updated_at) VALUES ('acme', 'program-42/7', 'program-42', 'user', 1, 1)`,
		} {
			if err := tx.Exec(q).Error; err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	router := echo.New()
	privacy.NewHTTP(privacy.NewService(committer, privacy.Options{Now: func() time.Time { return start },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), tokens{
		"admin":       principal("acme", "boss", switchboard.RoleOperator, true),
		"operator":    principal("acme", "bob", switchboard.RoleOperator, false),
		"user":        principal("acme", "ann", switchboard.RoleUser, false),
		"other-admin": principal("other", "boss", switchboard.RoleOperator, true),
	}).Register(router.Group("/api/v1"))
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return world{db: db, heard: h, srv: srv}
}

// call makes a request with token and returns the status and body.
func (w world) call(t *testing.T, method, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func (w world) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := w.db.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// Only an administrator exports or erases, an unknown user is 404, and
// an export holds the user's profile, tickets with their conversations,
// visitor record and its messages elsewhere, and nothing of another user
// or tenant.
func TestExport(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			w := newWorld(t, dialect)
			for _, token := range []string{"operator", "user"} {
				for _, method := range []string{http.MethodGet, http.MethodDelete} {
					if status, body := w.call(t, method, token, "/api/v1/users/ann/data"); status != http.StatusForbidden {
						t.Errorf("%s by %s: %d %s, want 403", method, token, status, body)
					}
				}
			}
			if status, _ := w.call(t, http.MethodGet, "admin", "/api/v1/users/nobody/data"); status != http.StatusNotFound {
				t.Errorf("unknown user: %d, want 404", status)
			}
			if status, _ := w.call(t, http.MethodGet, "nobody", "/api/v1/users/ann/data"); status != http.StatusUnauthorized {
				t.Errorf("bad token: %d, want 401", status)
			}

			status, body := w.call(t, http.MethodGet, "admin", "/api/v1/users/ann/data")
			if status != http.StatusOK {
				t.Fatalf("export: %d %s", status, body)
			}
			for _, want := range []string{"question in ann-ticket", "answer in ann-ticket", "ann in group",
				"https://shop.example/ann-ticket", "ann@example.com", `"family":"f1"`, `"action":"create"`} {
				if !strings.Contains(body, want) {
					t.Errorf("the export lacks %q", want)
				}
			}
			for _, never := range []string{"carl", "bob in group", "other-ann-ticket", "ann@other.example", "h1"} {
				if strings.Contains(body, never) {
					t.Errorf("the export holds %q, someone else's", never)
				}
			}
			var d privacy.Data
			if err := json.Unmarshal([]byte(body), &d); err != nil {
				t.Fatal(err)
			}
			if d.UserID != "ann" || d.Tenant != "acme" || d.Profile == nil || len(d.Tickets) != 1 ||
				len(d.OtherMessages) != 1 || len(d.Visitors) != 1 || len(d.Memberships) != 1 {
				t.Errorf("export %+v", d)
			}

			// The other tenant's administrator sees its own Ann only.
			_, body = w.call(t, http.MethodGet, "other-admin", "/api/v1/users/ann/data")
			if !strings.Contains(body, "other-ann-ticket") || strings.Contains(body, `"ticketId":"ann-ticket"`) ||
				strings.Contains(body, "ann in group") {
				t.Errorf("the other tenant's export: %s", body)
			}
			// A program's end user, by its escaped id.
			if status, body := w.call(t, http.MethodGet, "admin", "/api/v1/users/program-42%2F7/data"); status != http.StatusOK ||
				!strings.Contains(body, `"userId":"program-42/7"`) {
				t.Errorf("a program's end user: %d %s", status, body)
			}
			if n := w.count(t, `SELECT COUNT(*) FROM data_requests WHERE tenant = 'acme' AND kind = ? AND subject_id = 'ann' AND actor_id = 'boss'`,
				privacy.KindExport); n != 1 {
				t.Errorf("%d export rows in data_requests, want 1", n)
			}
		})
	}
}

// An erasure deletes the user's tickets and conversations, anonymises
// its messages elsewhere, removes its profile and visitor records and
// disconnects its sockets, in its tenant only; a second request is 404.
func TestErase(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			w := newWorld(t, dialect)
			status, body := w.call(t, http.MethodDelete, "admin", "/api/v1/users/ann/data")
			if status != http.StatusOK || !strings.Contains(body, `"ticketsDeleted":1`) || !strings.Contains(body, `"visitorsDeleted":1`) {
				t.Fatalf("erase: %d %s", status, body)
			}
			for q, want := range map[string]int{
				`SELECT COUNT(*) FROM tickets WHERE tenant = 'acme' AND owner_id = 'ann'`:                                             0,
				`SELECT COUNT(*) FROM messages WHERE session_id = 'ann-ticket'`:                                                       0,
				`SELECT COUNT(*) FROM ticket_events WHERE ticket_id = 'ann-ticket'`:                                                   0,
				`SELECT COUNT(*) FROM chat_sessions WHERE id = 'ann-ticket'`:                                                          0,
				`SELECT COUNT(*) FROM users WHERE tenant = 'acme' AND id = 'ann'`:                                                     0,
				`SELECT COUNT(*) FROM visitors WHERE tenant = 'acme'`:                                                                 0,
				`SELECT COUNT(*) FROM visitor_refresh_tokens`:                                                                         0,
				`SELECT COUNT(*) FROM chat_members WHERE user_id = 'ann' AND session_id = 'group'`:                                    0,
				`SELECT COUNT(*) FROM messages WHERE tenant = 'acme' AND (sender_id = 'ann' OR content LIKE 'ann%')`:                  0,
				`SELECT COUNT(*) FROM messages WHERE id = 'g1' AND sender_id = '%erased' AND content = '` + privacy.RemovedText + `'`: 1,
				`SELECT COUNT(*) FROM messages WHERE id = 'g2' AND content = 'bob in group'`:                                          1,
				`SELECT COUNT(*) FROM messages WHERE session_id = 'carl-ticket'`:                                                      3,
				`SELECT COUNT(*) FROM tickets WHERE tenant = 'other' AND owner_id = 'ann'`:                                            1,
				`SELECT COUNT(*) FROM users WHERE tenant = 'other' AND id = 'ann'`:                                                    1,
				`SELECT COUNT(*) FROM visitors WHERE tenant = 'other'`:                                                                1,
				`SELECT COUNT(*) FROM data_requests WHERE kind = 'erase' AND subject_id = 'ann' AND tenant = 'acme'`:                  1,
			} {
				if got := w.count(t, q); got != want {
					t.Errorf("%s: %d, want %d", q, got, want)
				}
			}
			if status, _ := w.call(t, http.MethodGet, "admin", "/api/v1/users/ann/data"); status != http.StatusNotFound {
				t.Errorf("export after erasure: %d, want 404", status)
			}
			if status, _ := w.call(t, http.MethodDelete, "admin", "/api/v1/users/ann/data"); status != http.StatusNotFound {
				t.Errorf("second erasure: %d, want 404", status)
			}
			var rooms []string
			for _, ev := range w.heard.named(switchboard.EventDisconnect) {
				rooms = append(rooms, ev.To...)
			}
			want := []string{switchboard.UserRoom("acme", "ann"), switchboard.ChatUserRoom("acme", "ann")}
			for _, r := range want {
				if !strings.Contains(strings.Join(rooms, " "), r) {
					t.Errorf("disconnected %v, want %v among them", rooms, want)
				}
			}
		})
	}
}

// Erasing an operator keeps the customers' tickets it handled, without
// it: it is ErasedUserID as their handler, sender and actor, and its
// words are gone; the other tenant's Bob stays.
func TestEraseOperator(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			w := newWorld(t, dialect)
			for _, tenant := range []string{"acme", "other"} {
				if err := w.db.Exec(`INSERT INTO teams (tenant, id, name, email, created_at, updated_at) VALUES (?, 'billing', 'Billing', '', 0, 0)`, tenant).Error; err != nil {
					t.Fatal(err)
				}
				if err := w.db.Exec(`INSERT INTO team_members (tenant, team_id, operator_id, added_at) VALUES (?, 'billing', 'bob', 0)`, tenant).Error; err != nil {
					t.Fatal(err)
				}
			}
			if status, body := w.call(t, http.MethodDelete, "admin", "/api/v1/users/bob/data"); status != http.StatusOK {
				t.Fatalf("erase: %d %s", status, body)
			}
			for q, want := range map[string]int{
				`SELECT COUNT(*) FROM tickets WHERE tenant = 'acme' AND handler_id = '%erased' AND handler_name = ''`:                            2,
				`SELECT COUNT(*) FROM messages WHERE id = 'carl-ticket-a' AND sender_id = '%erased' AND content = '` + privacy.RemovedText + `'`: 1,
				`SELECT COUNT(*) FROM messages WHERE id = 'carl-ticket-q' AND recipient_id = '%erased' AND content = 'question in carl-ticket'`:  1,
				`SELECT COUNT(*) FROM ticket_events WHERE actor_id = 'bob' OR to_handler = 'bob'`:                                                1,
				`SELECT COUNT(*) FROM tickets WHERE tenant = 'other' AND handler_id = 'bob'`:                                                     1,
				`SELECT COUNT(*) FROM users WHERE id = 'bob'`:                                                                                    1,
				`SELECT COUNT(*) FROM team_members WHERE operator_id = 'bob' AND tenant = 'acme'`:                                                0,
				`SELECT COUNT(*) FROM team_members WHERE operator_id = 'bob' AND tenant = 'other'`:                                               1,
			} {
				if got := w.count(t, q); got != want {
					t.Errorf("%s: %d, want %d", q, got, want)
				}
			}
		})
	}
}

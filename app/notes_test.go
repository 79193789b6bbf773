package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"

	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/internal/testnats"
)

// tape records, as JSON, every event one socket receives.
type tape struct {
	mu  sync.Mutex
	all []string
}

func record(s *client.Socket) *tape {
	tp := &tape{}
	s.OnAny(func(args ...any) {
		b, _ := json.Marshal(args)
		tp.mu.Lock()
		tp.all = append(tp.all, string(b))
		tp.mu.Unlock()
	})
	return tp
}

// holding returns the recorded events that contain s.
func (tp *tape) holding(s string) []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []string
	for _, e := range tp.all {
		if strings.Contains(e, s) {
			out = append(out, e)
		}
	}
	return out
}

// waitFor waits until a recorded event contains s.
func (tp *tape) waitFor(t *testing.T, who, s string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(tp.holding(s)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s never received %q", who, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nodeOn starts a node on dialect's database: a file of its own for
// SQLite, a fresh PostgreSQL database otherwise.
func nodeOn(t *testing.T, dialect string, env map[string]string) *node {
	t.Helper()
	cfg := testConfig(t, t.TempDir(), testEnv(env))
	if dialect == "postgres" {
		cfg.Database = testdb.PostgresURL(t)
	}
	cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
	cfg.Limits.MaxConnsPerIP, cfg.Limits.MaxConnsPerPrincipal, cfg.Limits.MaxRequests = -1, -1, -1
	return runNode(t, cfg)
}

// TestNotesReachOperatorsOnly is the promise of internal notes: notes
// written over the socket, over REST and with a transfer reach the other
// operator (with an alert for a mention), and nothing on the user's side
// sees a word of them: not the owner's livechat socket, not its
// chat-protocol socket, not a program's socket, not the program's
// webhook, not the event stream's envelopes, not the history or the
// transcript. Every event those sockets receive is recorded; a message
// sent after the notes shows they were listening.
func TestNotesReachOperatorsOnly(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			var hookMu sync.Mutex
			var hooked []string
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				hookMu.Lock()
				hooked = append(hooked, string(body))
				hookMu.Unlock()
			}))
			defer recv.Close()
			webhook := func(s string) (n int) {
				hookMu.Lock()
				defer hookMu.Unlock()
				for _, b := range hooked {
					n += strings.Count(b, s)
				}
				return n
			}

			natsURL := testnats.URL(t)
			ns, stream := testnats.Unique("sbnotes-"), strings.ToUpper(testnats.Unique("SBNOTES_"))
			js := testnats.JetStream(t, natsURL, stream)
			n := nodeOn(t, dialect, map[string]string{"SWITCHBOARD_EVENTS_SINK": natsURL,
				"SWITCHBOARD_EVENTS_NAMESPACE": ns, "SWITCHBOARD_EVENTS_STREAM": stream})
			op1Tok, op2Tok := n.token(t, "operator-1"), n.token(t, "operator-2")
			userTok, progTok := n.token(t, "user-1"), n.token(t, "program-42")
			if status, out := rest(t, n, "PUT", "/api/v1/programs/program-42/webhook", progTok,
				fmt.Sprintf(`{"url":%q,"secret":"webhook-secret-of-program-42"}`, recv.URL)); status != http.StatusOK {
				t.Fatalf("webhook: %d %v", status, out)
			}
			op1, _ := dial(t, n, op1Tok)
			op2, _ := dial(t, n, op2Tok)
			user, _ := dial(t, n, userTok)
			prog, _ := dial(t, n, progTok)
			mustAck(t, op1, "subscribeOperator")
			mustAck(t, op2, "subscribeOperator")
			mustAck(t, user, "subscribe", map[string]any{"userId": "user-1"})
			mustAck(t, prog, "subscribe", map[string]any{"userId": "42", "programId": "program-42"})
			mustAck(t, user, "createTicket", "t-u", map[string]any{"ticketNm": "Refund"})
			mustAck(t, prog, "createTicket", "t-p", map[string]any{"ticketNm": "Billing", "programId": "program-42"})
			mustAck(t, op1, "acceptTicket", "t-u", map[string]any{}, "user-1")
			mustAck(t, op1, "acceptTicket", "t-p", map[string]any{}, "")
			mustAck(t, user, "updateMessage", "t-u", "m-1", map[string]any{"content": "hello", "type": 1}, "")
			chatUser := chatDial(t, n, userTok)

			sides := map[string]*tape{"the owner's livechat socket": record(user),
				"the owner's chat-protocol socket": record(chatUser), "the program's socket": record(prog)}
			op2Tape := record(op2)

			// A note over the socket that mentions operator-2, one over
			// REST, and a transfer's note.
			mustAck(t, op1, "addNote", map[string]any{"ticketId": "t-u", "noteId": "n-1",
				"content": "SECRET-ONE: @operator-2, can you check the refund?"})
			if status, out := rest(t, n, "POST", "/api/v1/tickets/t-p/notes", op1Tok,
				`{"noteId":"n-2","content":"SECRET-TWO about the program's user"}`); status != http.StatusCreated {
				t.Fatalf("REST note: %d %v", status, out)
			}
			mustAck(t, op1, "transferTicket", map[string]any{"ticketId": "t-u", "operatorId": "operator-2",
				"note": "SECRET-THREE: the user was promised a refund"})

			for _, secret := range []string{"SECRET-ONE", "SECRET-TWO", "SECRET-THREE"} {
				op2Tape.waitFor(t, "operator-2", secret)
			}
			if got := op2Tape.holding(`"alert"`); len(got) != 1 || !strings.Contains(got[0], `"noteId":"n-1"`) ||
				!strings.Contains(got[0], `"kind":"mention"`) || !strings.Contains(got[0], `"byId":"operator-1"`) {
				t.Fatalf("operator-2's alerts %v", got)
			}

			// Afterwards a message on each ticket: once each side has it,
			// anything the notes had sent them would have come first.
			mustAck(t, op2, "updateMessage", "t-u", "m-2", map[string]any{"content": "MARKER-U", "type": 1}, "")
			mustAck(t, op1, "updateMessage", "t-p", "m-3", map[string]any{"content": "MARKER-P", "type": 1}, "")
			sides["the owner's livechat socket"].waitFor(t, "the owner", "MARKER-U")
			sides["the owner's chat-protocol socket"].waitFor(t, "the owner's chat socket", "MARKER-U")
			sides["the program's socket"].waitFor(t, "the program", "MARKER-P")
			deadline := time.Now().Add(30 * time.Second)
			for webhook("MARKER-P") == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the webhook never received the marker message")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(sides["the owner's chat-protocol socket"].holding("transferred the ticket")) == 0 {
				t.Error("the owner's chat socket did not get the transfer's system message")
			}
			for who, tp := range sides {
				if leaked := tp.holding("SECRET"); len(leaked) > 0 {
					t.Errorf("%s received a note: %v", who, leaked)
				}
			}
			if webhook("SECRET") > 0 {
				t.Error("the webhook received a note")
			}
			var envelopes []string
			if err := n.app.db.Raw(`SELECT envelope FROM outbox`).Scan(&envelopes).Error; err != nil {
				t.Fatal(err)
			}
			if len(envelopes) == 0 {
				t.Fatal("no envelopes in the outbox: the stream is off, the check would prove nothing")
			}
			for _, e := range envelopes {
				if strings.Contains(e, "SECRET") {
					t.Errorf("an outbox envelope holds a note: %s", e)
				}
			}
			for _, env := range streamOf(t, js, stream) {
				if b, _ := json.Marshal(env); strings.Contains(string(b), "SECRET") {
					t.Errorf("the event stream carried a note: %s", b)
				}
			}
			for _, path := range []string{"/api/v1/tickets/t-u/messages", "/api/v1/tickets/t-u/transcript",
				"/api/v1/tickets/t-u/transcript?format=text"} {
				for _, tok := range []string{userTok, op1Tok} {
					if body := restText(t, n, path, tok); strings.Contains(body, "SECRET") || !strings.Contains(body, "MARKER-U") {
						t.Errorf("%s: %s", path, body)
					}
				}
			}

			// Operators read them back, oldest first.
			status, out := rest(t, n, "GET", "/api/v1/tickets/t-u/notes", op2Tok, "")
			items, _ := out.(map[string]any)["items"].([]any)
			if status != http.StatusOK || len(items) != 2 {
				t.Fatalf("notes of t-u: %d %v", status, out)
			}
			first, second := items[0].(map[string]any), items[1].(map[string]any)
			if first["id"] != "n-1" || first["isNote"] != true || fmt.Sprint(first["mentions"]) != "[operator-2]" ||
				!strings.HasPrefix(second["content"].(string), "SECRET-THREE") || second["authorId"] != "operator-1" {
				t.Fatalf("notes of t-u: %v", items)
			}
			for _, tok := range []string{userTok, progTok} {
				if status, out := rest(t, n, "GET", "/api/v1/tickets/t-u/notes", tok, ""); status != http.StatusForbidden {
					t.Errorf("a non-operator reads notes: %d %v", status, out)
				}
			}
		})
	}
}

// restText GETs path and returns the body as text.
func restText(t *testing.T, n *node, path, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", n.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

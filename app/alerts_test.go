package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// TestNotesAndAlertsREST: notes over REST (a retry is 200 with the stored
// note, another's id CONFLICT), mentions of known operators only, each
// mentioned operator's alerts (pushed to its socket, listed, unread
// counted, read one by one or all at once, alertsRead to its sockets),
// and bad input refused without a change.
func TestNotesAndAlertsREST(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			n := nodeOn(t, dialect, nil)
			op1Tok, op2Tok, op3Tok := n.token(t, "operator-1"), n.token(t, "operator-2"), n.token(t, "operator-3")
			userTok := n.token(t, "user-1")
			op2, op2Ev := dial(t, n, op2Tok)
			mustAck(t, op2, "subscribeOperator")
			op3, _ := dial(t, n, op3Tok) // signed in: known as an operator
			_ = op3
			user, _ := dial(t, n, userTok)
			mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketNm": "Help"})
			op1, _ := dial(t, n, op1Tok)
			_ = op1

			note := func(tok, ticket, body string) (int, map[string]any) {
				t.Helper()
				status, out := rest(t, n, "POST", "/api/v1/tickets/"+ticket+"/notes", tok, body)
				m, _ := out.(map[string]any)
				return status, m
			}
			status, first := note(op1Tok, "t-1", `{"noteId":"n-1","content":"@operator-2 and @operator-3: look. Mail ann@example.com, not @nobody or @user-1; @operator-2 again"}`)
			if status != http.StatusCreated || fmt.Sprint(first["mentions"]) != "[operator-2 operator-3]" || first["isNote"] != true {
				t.Fatalf("note: %d %v", status, first)
			}
			if status, again := note(op1Tok, "t-1", `{"noteId":"n-1","content":"something else"}`); status != http.StatusOK ||
				again["content"] != first["content"] || again["createdAt"] != first["createdAt"] {
				t.Fatalf("retry: %d %v", status, again)
			}
			if status, out := note(op2Tok, "t-1", `{"noteId":"n-1","content":"mine"}`); status != http.StatusConflict {
				t.Fatalf("another's noteId: %d %v", status, out)
			}
			alert := op2Ev.next(t, "alert")[0].(map[string]any)
			if alert["kind"] != "mention" || alert["ticketId"] != "t-1" || alert["noteId"] != "n-1" ||
				alert["byId"] != "operator-1" || alert["byNm"] != "Operator One" || alert["readAt"] != nil {
				t.Fatalf("alert %v", alert)
			}
			// An operator mentioning itself gets no alert; a second alert for operator-2.
			if status, out := note(op2Tok, "t-1", `{"content":"@operator-2 note to self"}`); status != http.StatusCreated {
				t.Fatalf("self-mention: %d %v", status, out)
			}
			if status, out := note(op1Tok, "t-1", `{"content":"@operator-2 `+strings.Repeat("x", 600)+`"}`); status != http.StatusCreated {
				t.Fatalf("long note: %d %v", status, out)
			}

			list := func(tok, query string) (int, []any, float64, string) {
				t.Helper()
				status, out := rest(t, n, "GET", "/api/v1/alerts"+query, tok, "")
				m, _ := out.(map[string]any)
				items, _ := m["items"].([]any)
				unread, _ := m["unreadCount"].(float64)
				next, _ := m["next"].(string)
				return status, items, unread, next
			}
			status, items, unread, _ := list(op2Tok, "")
			if status != http.StatusOK || len(items) != 2 || unread != 2 {
				t.Fatalf("operator-2's alerts: %d %v unread %v", status, items, unread)
			}
			newest := items[0].(map[string]any)
			if text := newest["text"].(string); len(text) > 500 || !strings.HasSuffix(text, "…") || !strings.HasPrefix(text, "@operator-2 xxx") {
				t.Fatalf("a long note's alert text %q", text)
			}
			if _, items, _, next := list(op2Tok, "?limit=1"); len(items) != 1 || next == "" {
				t.Fatalf("first page: %v next %q", items, next)
			} else if _, rest2, _, next2 := list(op2Tok, "?limit=1&cursor="+next); len(rest2) != 1 || next2 != "" ||
				rest2[0].(map[string]any)["id"] != alert["id"] {
				t.Fatalf("second page: %v next %q", rest2, next2)
			}
			if _, items, unread, _ := list(op3Tok, "?unread=true"); len(items) != 1 || unread != 1 {
				t.Fatalf("operator-3's alerts: %v unread %v", items, unread)
			}

			// Read one: only its recipient may, twice changes nothing.
			id := alert["id"].(string)
			if status, out := rest(t, n, "POST", "/api/v1/alerts/"+id+"/read", op3Tok, ""); status != http.StatusNotFound {
				t.Fatalf("another's alert: %d %v", status, out)
			}
			status, out := rest(t, n, "POST", "/api/v1/alerts/"+id+"/read", op2Tok, "")
			read, _ := out.(map[string]any)
			if status != http.StatusOK || read["readAt"] == nil {
				t.Fatalf("read: %d %v", status, out)
			}
			if ev := op2Ev.next(t, "alertsRead")[0].(map[string]any); fmt.Sprint(ev["ids"]) != "["+id+"]" {
				t.Fatalf("alertsRead %v", ev)
			}
			if _, again := rest(t, n, "POST", "/api/v1/alerts/"+id+"/read", op2Tok, ""); again.(map[string]any)["readAt"] != read["readAt"] {
				t.Fatalf("read again: %v", again)
			}
			if _, items, unread, _ := list(op2Tok, "?unread=true"); len(items) != 1 || unread != 1 {
				t.Fatalf("unread after one read: %v %v", items, unread)
			}
			if status, out := rest(t, n, "POST", "/api/v1/alerts/read-all", op2Tok, ""); status != http.StatusOK ||
				out.(map[string]any)["read"] != float64(1) {
				t.Fatalf("read-all: %d %v", status, out)
			}
			if _, items, unread, _ := list(op2Tok, "?unread=true"); len(items) != 0 || unread != 0 {
				t.Fatalf("unread after read-all: %v %v", items, unread)
			}
			if status, out := rest(t, n, "POST", "/api/v1/alerts/read-all", op2Tok, ""); status != http.StatusOK ||
				out.(map[string]any)["read"] != float64(0) {
				t.Fatalf("read-all again: %d %v", status, out)
			}

			// Refused, changing nothing.
			refused := []struct {
				method, path, tok, body string
				status                  int
			}{
				{"POST", "/api/v1/tickets/t-1/notes", userTok, `{"content":"I am no operator"}`, http.StatusForbidden},
				{"POST", "/api/v1/tickets/nope/notes", op1Tok, `{"content":"no ticket"}`, http.StatusNotFound},
				{"POST", "/api/v1/tickets/t-1/notes", op1Tok, `{"content":""}`, http.StatusBadRequest},
				{"POST", "/api/v1/tickets/t-1/notes", op1Tok, `{"content":42}`, http.StatusBadRequest},
				{"POST", "/api/v1/tickets/t-1/notes", op1Tok, `{}`, http.StatusBadRequest},
				{"POST", "/api/v1/tickets/t-1/notes", op1Tok, `[1]`, http.StatusBadRequest},
				{"POST", "/api/v1/tickets/t-1/notes", op1Tok, `{"content":"` + strings.Repeat("y", 16<<10+1) + `"}`, http.StatusBadRequest},
				{"POST", "/api/v1/tickets/t-1/notes", op1Tok, `{"content":"` + manyMentions(21) + `"}`, http.StatusBadRequest},
				{"POST", "/api/v1/tickets/t-1/notes", op1Tok, `{"noteId":7,"content":"x"}`, http.StatusBadRequest},
				{"GET", "/api/v1/tickets/nope/notes", op1Tok, "", http.StatusNotFound},
				{"GET", "/api/v1/alerts", userTok, "", http.StatusForbidden},
				{"GET", "/api/v1/alerts?unread=maybe", op2Tok, "", http.StatusBadRequest},
				{"GET", "/api/v1/alerts?cursor=nonsense", op2Tok, "", http.StatusBadRequest},
				{"GET", "/api/v1/alerts?limit=-1", op2Tok, "", http.StatusBadRequest},
				{"POST", "/api/v1/alerts/nope/read", op2Tok, "", http.StatusNotFound},
				{"POST", "/api/v1/alerts/read-all", userTok, "", http.StatusForbidden},
			}
			for _, r := range refused {
				if status, out := rest(t, n, r.method, r.path, r.tok, r.body); status != r.status {
					t.Errorf("%s %s %.40s: %d %v, want %d", r.method, r.path, r.body, status, out, r.status)
				}
			}
			if status, out := rest(t, n, "GET", "/api/v1/tickets/t-1/notes", op1Tok, ""); status != http.StatusOK ||
				len(out.(map[string]any)["items"].([]any)) != 3 {
				t.Fatalf("notes after the refusals: %d %v", status, out)
			}
			// Over the socket too: bad arguments and a user are refused.
			for _, bad := range [][]any{{"t-1"}, {map[string]any{"ticketId": "t-1"}}, {map[string]any{"ticketId": 1, "content": "x"}},
				{map[string]any{"ticketId": "t-1", "content": []any{"x"}}}} {
				if ack := emitAck(t, op2, "addNote", bad...); ack == nil {
					t.Errorf("addNote %v acked null", bad)
				}
			}
			if ack, _ := emitAck(t, user, "addNote", map[string]any{"ticketId": "t-1", "content": "x"}).(map[string]any); ack["code"] != "FORBIDDEN" {
				t.Errorf("a user's addNote: %v", ack)
			}

			// Erasing operator-2 takes its alerts and its name from the
			// notes; erasing user-1 deletes its ticket's notes and the
			// alerts about it.
			count := func(query string, args ...any) (c int64) {
				t.Helper()
				if err := n.app.db.Raw(query, args...).Scan(&c).Error; err != nil {
					t.Fatal(err)
				}
				return c
			}
			if status, out := rest(t, n, "DELETE", "/api/v1/users/operator-2/data", op1Tok, ""); status != http.StatusOK {
				t.Fatalf("erase operator-2: %d %v", status, out)
			}
			if a, by := count(`SELECT COUNT(*) FROM alerts WHERE recipient_id = 'operator-2'`),
				count(`SELECT COUNT(*) FROM ticket_notes WHERE author_id = 'operator-2' OR mentions LIKE '%operator-2%'`); a != 0 || by != 0 {
				t.Fatalf("after erasing operator-2: %d alerts, %d notes name it", a, by)
			}
			if status, out := rest(t, n, "DELETE", "/api/v1/users/user-1/data", op1Tok, ""); status != http.StatusOK {
				t.Fatalf("erase user-1: %d %v", status, out)
			}
			if notes, alerts := count(`SELECT COUNT(*) FROM ticket_notes WHERE ticket_id = 't-1'`),
				count(`SELECT COUNT(*) FROM alerts WHERE ticket_id = 't-1'`); notes != 0 || alerts != 0 {
				t.Fatalf("after erasing user-1: %d notes, %d alerts of its ticket", notes, alerts)
			}
		})
	}
}

// manyMentions mentions n different ids.
func manyMentions(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "@op-%d ", i)
	}
	return b.String()
}

package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"

	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// searchFor GETs /api/v1/search/tickets with query and returns the
// status, the found tickets' ids in order, the matches by ticket and the
// next cursor.
func searchFor(t *testing.T, n *node, token string, query url.Values) (int, []string, map[string]map[string]any, string) {
	t.Helper()
	status, out := rest(t, n, "GET", "/api/v1/search/tickets?"+query.Encode(), token, "")
	body, _ := out.(map[string]any)
	if status != http.StatusOK {
		return status, nil, nil, fmt.Sprint(body["code"])
	}
	var ids []string
	matches := map[string]map[string]any{}
	for _, it := range body["items"].([]any) {
		item := it.(map[string]any)
		id := item["ticket"].(map[string]any)["ticketId"].(string)
		ids = append(ids, id)
		if m, ok := item["match"].(map[string]any); ok {
			matches[id] = m
		}
	}
	next, _ := body["next"].(string)
	return status, ids, matches, next
}

// TestSearchTickets: operators find tickets by the words of their
// messages (never by a note's), with the matching line and the words'
// byte ranges, and by owner, label, status, handler and creation time,
// page by page, each with its labels; bad parameters are refused; new
// messages are found once the indexer has caught up, and an erasure takes
// the words out at once.
func TestSearchTickets(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			n := nodeOn(t, dialect, nil)
			opTok, op2Tok := n.token(t, "operator-1"), n.token(t, "operator-2")
			u1Tok, u2Tok := n.token(t, "user-1"), n.token(t, "user-2")
			op, _ := dial(t, n, opTok)
			u1, _ := dial(t, n, u1Tok)
			u2, _ := dial(t, n, u2Tok)
			mustAck(t, op, "subscribeOperator")
			mustAck(t, u1, "subscribe", map[string]any{"userId": "user-1"})
			mustAck(t, u2, "subscribe", map[string]any{"userId": "user-2"})
			say := func(s *client.Socket, ticket, id, text string) {
				t.Helper()
				mustAck(t, s, "updateMessage", ticket, id, map[string]any{"content": text, "type": 1}, "")
			}
			mustAck(t, u1, "createTicket", "a", map[string]any{"ticketNm": "Printer"})
			say(u1, "a", "a1", "My printer is jammed.\nThe paper tray clicks when I open it")
			say(u1, "a", "a2", "Still JAMMED: the Printer says E-42")
			time.Sleep(5 * time.Millisecond)
			mustAck(t, u2, "createTicket", "b", map[string]any{"ticketNm": "Refund"})
			say(u2, "b", "b1", "I want a refund for the printer paper")
			mustAck(t, op, "acceptTicket", "b", map[string]any{}, "")
			mustAck(t, op, "addNote", map[string]any{"ticketId": "b", "content": "zebra crossing, jammed"})
			_, created := rest(t, n, "GET", "/api/v1/tickets/b", opTok, "")
			bCreated := created.(map[string]any)["createdAt"].(string)
			time.Sleep(5 * time.Millisecond)
			mustAck(t, u1, "createTicket", "c", map[string]any{"ticketNm": "Other"})
			say(u1, "c", "c1", "Nothing to see at example.com; the printers are fine")
			mustAck(t, op, "updateTicketStatus", "c", map[string]any{}, 10000, "")
			status, label := rest(t, n, "POST", "/api/v1/labels", n.token(t, "supervisor-1"), `{"name":"vip","color":"#ff0000"}`)
			if status != http.StatusCreated {
				t.Fatalf("POST /labels: %d %v", status, label)
			}
			vip := label.(map[string]any)["id"].(string)
			if status, out := rest(t, n, "PUT", "/api/v1/tickets/a/labels/"+vip, opTok, ""); status != http.StatusOK {
				t.Fatalf("label a: %d %v", status, out)
			}
			// New messages reach the index shortly after they commit.
			if err := n.app.tickets.WaitSearchIndexed(context.Background()); err != nil {
				t.Fatal(err)
			}

			q := func(kv ...string) url.Values {
				v := url.Values{}
				for i := 0; i < len(kv); i += 2 {
					v.Set(kv[i], kv[i+1])
				}
				return v
			}
			cases := []struct {
				query url.Values
				want  string
			}{
				{q("q", "printer"), "b a"}, // whole words: "printers" is another word
				{q("q", "jammed printer"), "a"},
				{q("q", "PAPER"), "b a"},
				{q("q", "zebra"), ""}, // notes are not searched
				{q("q", "jam"), ""},
				{q("q", "printer", "user", "user-1"), "a"},
				{q("user", "SER on"), "c a"}, // a part of the owner's name, "User One"
				{q("user", "user-2"), "b"},
				{q("status", "10000"), "c"},
				{q("operator", "operator-1"), "b"}, // c was rejected: no handler
				{q("operator", "operator-1", "q", "refund"), "b"},
				{q("from", bCreated), "c b"},
				{q("to", bCreated), "b a"},
				{q("from", time.Now().UTC().Format("2006-01-02"), "to", time.Now().UTC().Format("2006-01-02")), "c b a"},
				{q("to", "2001-01-01"), ""},
				{q("q", "?!"), "c b a"},  // no words: no text condition
				{q("q", "example"), "c"}, // a part of a host name, on both databases
				{q("q", "Example.COM"), "c"},
				{q("label", vip), "a"},
				{q("label", vip, "q", "paper"), "a"},
				{q("label", "nope"), ""},
			}
			for _, tc := range cases {
				status, ids, _, _ := searchFor(t, n, op2Tok, tc.query)
				if status != http.StatusOK || strings.Join(ids, " ") != tc.want {
					t.Errorf("%s: %d %v, want %q", tc.query.Encode(), status, ids, tc.want)
				}
			}

			// Results carry their tickets' labels.
			_, out := rest(t, n, "GET", "/api/v1/search/tickets?q=paper", op2Tok, "")
			var labels []string
			for _, it := range out.(map[string]any)["items"].([]any) {
				labels = append(labels, fmt.Sprint(it.(map[string]any)["ticket"].(map[string]any)["labels"]))
			}
			if strings.Join(labels, " ") != "[] ["+vip+"]" {
				t.Errorf("the results' labels: %v", labels)
			}

			// The match: the latest matching message, its matching line, the
			// words' byte ranges in it.
			_, _, matches, _ := searchFor(t, n, op2Tok, q("q", "printer jammed"))
			m := matches["a"]
			text, _ := m["text"].(string)
			if m["messageId"] != "a2" || text != "Still JAMMED: the Printer says E-42" ||
				fmt.Sprint(m["highlights"]) != "[[6 12] [18 25]]" {
				t.Fatalf("match %v", m)
			}
			_, _, matches, _ = searchFor(t, n, op2Tok, q("q", "tray"))
			if m := matches["a"]; m["messageId"] != "a1" || m["text"] != "The paper tray clicks when I open it" ||
				fmt.Sprint(m["highlights"]) != "[[10 14]]" {
				t.Fatalf("match on the second line %v", m)
			}
			if _, _, matches, _ := searchFor(t, n, op2Tok, q("user", "user-2")); len(matches) != 0 {
				t.Fatalf("a match without words: %v", matches)
			}

			// Pages: one at a time, each ticket once.
			var paged []string
			cursor := ""
			for i := 0; i < 5; i++ {
				v := q("limit", "1")
				if cursor != "" {
					v.Set("cursor", cursor)
				}
				_, ids, _, next := searchFor(t, n, op2Tok, v)
				paged = append(paged, ids...)
				if cursor = next; cursor == "" {
					break
				}
			}
			if strings.Join(paged, " ") != "c b a" {
				t.Fatalf("pages %v", paged)
			}

			// Refused: a user, and malformed parameters.
			if status, _, _, code := searchFor(t, n, u1Tok, q("q", "printer")); status != http.StatusForbidden || code != "FORBIDDEN" {
				t.Errorf("a user searches: %d %s", status, code)
			}
			for _, bad := range []url.Values{q("status", "7"), q("status", "open"), q("from", "yesterday"),
				q("to", "2026-13-01"), q("from", "2026-02-02", "to", "2026-02-01"), q("cursor", "nonsense"),
				q("limit", "0"), q("limit", "x"), q("q", strings.Repeat("word ", 60))} {
				if status, _, _, code := searchFor(t, n, op2Tok, bad); status != http.StatusBadRequest || code != "INVALID_REQUEST" {
					t.Errorf("%s: %d %s, want 400 INVALID_REQUEST", bad.Encode(), status, code)
				}
			}

			// Erasing user-2 takes its ticket out of the index with it.
			if status, out := rest(t, n, "DELETE", "/api/v1/users/user-2/data", opTok, ""); status != http.StatusOK {
				t.Fatalf("erase user-2: %d %v", status, out)
			}
			if _, ids, _, _ := searchFor(t, n, op2Tok, q("q", "refund")); len(ids) != 0 {
				t.Fatalf("after the erasure, refund finds %v", ids)
			}
			if dialect == "sqlite" {
				var words int64
				if err := n.app.db.Raw(`SELECT COUNT(*) FROM message_words WHERE message_words MATCH 'refund'`).
					Scan(&words).Error; err != nil || words != 0 {
					t.Fatalf("the index still holds the erased message's words: %d %v", words, err)
				}
			}
		})
	}
}

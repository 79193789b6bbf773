package app

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	client "github.com/zishang520/socket.io/clients/socket/v3"

	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// opsNode starts a server on a fresh database of dialect.
func opsNode(t *testing.T, dialect string) *node {
	t.Helper()
	cfg := testConfig(t, t.TempDir(), testEnv(nil))
	if dialect == "postgres" {
		cfg.Database = testdb.PostgresURL(t)
	}
	cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
	cfg.Limits.MaxConnsPerIP, cfg.Limits.MaxConnsPerPrincipal, cfg.Limits.MaxRequests = -1, -1, -1
	return runNode(t, cfg)
}

// roleTokens are the development issuer's tokens of every role.
type roleTokens struct{ user, user2, program, operator, supervisor, admin string }

func tokensOf(t *testing.T, n *node) roleTokens {
	return roleTokens{user: n.token(t, "user-1"), user2: n.token(t, "user-2"), program: n.token(t, "program-42"),
		operator: n.token(t, "operator-2"), supervisor: n.token(t, "supervisor-1"), admin: n.token(t, "operator-1")}
}

type restCase struct {
	name, method, path, token, body string
	status                          int
}

// runCases sends each request and checks its status; the body is the
// openapitest handler's to check.
func runCases(t *testing.T, n *node, cases []restCase) {
	t.Helper()
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, n.base+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status {
			if len(body) > 300 {
				body = body[:300]
			}
			t.Errorf("%s: %s %s: %d %s, want %d", c.name, c.method, c.path, res.StatusCode, body, c.status)
		}
	}
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// TestLabelsOverRESTAndSockets runs labels on the real server on both
// databases: supervisors and administrators manage them, operators read
// them and put them on tickets (ticketLabelsUpdated to operators), users
// and programs are refused; the tickets list filters by label; the owner
// never sees labels; a deleted label leaves every ticket.
func TestLabelsOverRESTAndSockets(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			n := opsNode(t, dialect)
			tk := tokensOf(t, n)
			op, opEv := dial(t, n, tk.operator)
			mustAck(t, op, "subscribeOperator")
			u, _ := dial(t, n, tk.user)
			mustAck(t, u, "subscribe", map[string]any{"userId": "user-1"})
			mustAck(t, u, "createTicket", "t-1", map[string]any{"ticketNm": "Refund"})
			mustAck(t, u, "createTicket", "t-2", map[string]any{"ticketNm": "Other"})
			if got := obj(opEv.nextOf(t, "ticketCreated", "t-1")[0]); fmt.Sprint(got["labels"]) != "[]" || got["rating"] != nil {
				t.Errorf("ticketCreated to operators: labels %v, rating %v", got["labels"], got["rating"])
			}

			status, vip := rest(t, n, "POST", "/api/v1/labels", tk.supervisor, `{"name":"vip","color":"#ff0000"}`)
			if status != http.StatusCreated || obj(vip)["openCount"] != float64(0) {
				t.Fatalf("POST /labels as supervisor: %d %v", status, vip)
			}
			vipID := obj(vip)["id"].(string)
			status, billing := rest(t, n, "POST", "/api/v1/labels", tk.admin, `{"name":"billing","color":"#00AA00"}`)
			if status != http.StatusCreated {
				t.Fatalf("POST /labels as administrator: %d %v", status, billing)
			}
			billingID := obj(billing)["id"].(string)
			runCases(t, n, []restCase{
				{"a user", "POST", "/api/v1/labels", tk.user, `{"name":"x","color":"#000000"}`, 403},
				{"a program", "POST", "/api/v1/labels", tk.program, `{"name":"x","color":"#000000"}`, 403},
				{"an operator", "POST", "/api/v1/labels", tk.operator, `{"name":"x","color":"#000000"}`, 403},
				{"no token", "POST", "/api/v1/labels", "", `{"name":"x","color":"#000000"}`, 401},
				{"a taken name", "POST", "/api/v1/labels", tk.supervisor, `{"name":"vip","color":"#000000"}`, 409},
				{"a bad colour", "POST", "/api/v1/labels", tk.supervisor, `{"name":"x","color":"red"}`, 400},
				{"no colour", "POST", "/api/v1/labels", tk.supervisor, `{"name":"x"}`, 400},
				{"an empty name", "POST", "/api/v1/labels", tk.supervisor, `{"name":"","color":"#000000"}`, 400},
				{"a long name", "POST", "/api/v1/labels", tk.supervisor, `{"name":"` + strings.Repeat("n", 65) + `","color":"#000000"}`, 400},
				{"a number name", "POST", "/api/v1/labels", tk.supervisor, `{"name":5,"color":"#000000"}`, 400},
				{"not an object", "POST", "/api/v1/labels", tk.supervisor, `[1]`, 400},
				{"a huge body", "POST", "/api/v1/labels", tk.supervisor, `{"name":"` + strings.Repeat("n", 1<<20) + `"}`, 400},
				{"users list", "GET", "/api/v1/labels", tk.user, ``, 403},
				{"programs list", "GET", "/api/v1/labels", tk.program, ``, 403},
				{"no token list", "GET", "/api/v1/labels", "", ``, 401},
				{"operators list", "GET", "/api/v1/labels", tk.operator, ``, 200},
				{"supervisors list", "GET", "/api/v1/labels", tk.supervisor, ``, 200},
				{"administrators list", "GET", "/api/v1/labels", tk.admin, ``, 200},
				{"programs change", "PUT", "/api/v1/labels/" + vipID, tk.program, `{"color":"#123456"}`, 403},
				{"a change that is not JSON", "PUT", "/api/v1/labels/" + vipID, tk.supervisor, `color`, 400},
				{"operators change", "PUT", "/api/v1/labels/" + vipID, tk.operator, `{"color":"#123456"}`, 403},
				{"users change", "PUT", "/api/v1/labels/" + vipID, tk.user, `{"color":"#123456"}`, 403},
				{"a rename to a taken name", "PUT", "/api/v1/labels/" + vipID, tk.supervisor, `{"name":"billing"}`, 409},
				{"an unknown label", "PUT", "/api/v1/labels/nope", tk.supervisor, `{"color":"#123456"}`, 404},
				{"a bad colour change", "PUT", "/api/v1/labels/" + vipID, tk.supervisor, `{"color":"#12345"}`, 400},
				{"a recolour", "PUT", "/api/v1/labels/" + vipID, tk.admin, `{"color":"#123456"}`, 200},
				{"operators delete", "DELETE", "/api/v1/labels/" + vipID, tk.operator, ``, 403},
				{"users delete", "DELETE", "/api/v1/labels/" + vipID, tk.user, ``, 403},
				{"programs delete", "DELETE", "/api/v1/labels/" + vipID, tk.program, ``, 403},
				{"an unknown label deleted", "DELETE", "/api/v1/labels/nope", tk.supervisor, ``, 404},
				// A ticket's labels: operators only.
				{"a user labels", "PUT", "/api/v1/tickets/t-1/labels/" + vipID, tk.user, ``, 403},
				{"a program labels", "PUT", "/api/v1/tickets/t-1/labels/" + vipID, tk.program, ``, 403},
				{"an unknown label on a ticket", "PUT", "/api/v1/tickets/t-1/labels/nope", tk.operator, ``, 404},
				{"a label on an unknown ticket", "PUT", "/api/v1/tickets/nope/labels/" + vipID, tk.operator, ``, 404},
				{"a user unlabels", "DELETE", "/api/v1/tickets/t-1/labels/" + vipID, tk.user, ``, 403},
				{"a program unlabels", "DELETE", "/api/v1/tickets/t-1/labels/" + vipID, tk.program, ``, 403},
				{"no token labels", "PUT", "/api/v1/tickets/t-1/labels/" + vipID, "", ``, 401},
				{"a user filters by label", "GET", "/api/v1/tickets?label=" + vipID, tk.user, ``, 403},
			})

			for _, tok := range []string{tk.operator, tk.supervisor, tk.admin} {
				status, got := rest(t, n, "PUT", "/api/v1/tickets/t-1/labels/"+vipID, tok, "")
				if status != http.StatusOK || fmt.Sprint(obj(got)["labels"]) != "["+vipID+"]" {
					t.Fatalf("PUT a label (again) on t-1: %d %v", status, got)
				}
			}
			if got := opEv.nextOf(t, "ticketLabelsUpdated", "t-1"); fmt.Sprint(obj(got[0])["labels"]) != "["+vipID+"]" {
				t.Errorf("ticketLabelsUpdated %v", got)
			}
			rest(t, n, "PUT", "/api/v1/tickets/t-1/labels/"+billingID, tk.operator, "")
			rest(t, n, "PUT", "/api/v1/tickets/t-2/labels/"+billingID, tk.supervisor, "")
			if got := opEv.nextOf(t, "ticketLabelsUpdated", "t-1"); fmt.Sprint(obj(got[0])["labels"]) != "["+vipID+" "+billingID+"]" {
				t.Errorf("ticketLabelsUpdated after the second label %v", got)
			}
			select {
			case extra := <-opEv.of("ticketLabelsUpdated"):
				if obj(extra[0])["ticketId"] != "t-2" {
					t.Errorf("a label put on again is announced again: %v", extra)
				}
			default:
			}

			// The list filter, and the counts.
			status, list := rest(t, n, "GET", "/api/v1/tickets?label="+vipID, tk.operator, "")
			if items, _ := list.([]any); status != 200 || len(items) != 1 || obj(items[0])["ticketId"] != "t-1" {
				t.Errorf("GET /tickets?label=vip: %d %v", status, list)
			}
			status, list = rest(t, n, "GET", "/api/v1/tickets?label="+billingID, tk.admin, "")
			if items, _ := list.([]any); status != 200 || len(items) != 2 {
				t.Errorf("GET /tickets?label=billing: %d %v", status, list)
			}
			mustAck(t, op, "acceptTicket", "t-2", map[string]any{})
			mustAck(t, op, "updateTicketStatus", "t-2", map[string]any{}, 10000)
			_, ls := rest(t, n, "GET", "/api/v1/labels", tk.operator, "")
			counts := map[string]any{}
			for _, it := range obj(ls)["items"].([]any) {
				counts[obj(it)["name"].(string)] = obj(it)["openCount"]
			}
			if fmt.Sprint(counts) != "map[billing:1 vip:1]" {
				t.Errorf("open counts %v (t-2 is closed)", counts)
			}
			if _, got := rest(t, n, "GET", "/api/v1/tickets/t-1", tk.user, ""); obj(got)["labels"] != nil {
				t.Errorf("the owner sees labels: %v", got)
			}

			// Taking one off, then deleting a label, is heard by operators.
			if status, got := rest(t, n, "DELETE", "/api/v1/tickets/t-1/labels/"+billingID, tk.operator, ""); status != 200 ||
				fmt.Sprint(obj(got)["labels"]) != "["+vipID+"]" {
				t.Errorf("DELETE a label: %d %v", status, got)
			}
			opEv.nextOf(t, "ticketLabelsUpdated", "t-1")
			runCases(t, n, []restCase{{"a supervisor deletes", "DELETE", "/api/v1/labels/" + vipID, tk.supervisor, ``, 204}})
			if got := opEv.nextOf(t, "ticketLabelsUpdated", "t-1"); fmt.Sprint(obj(got[0])["labels"]) != "[]" {
				t.Errorf("a deleted label leaves t-1: %v", got)
			}
			status, list = rest(t, n, "GET", "/api/v1/tickets?label="+vipID, tk.operator, "")
			if items, _ := list.([]any); status != 200 || len(items) != 0 {
				t.Errorf("a deleted label still filters: %v", list)
			}
			status, events := rest(t, n, "GET", "/api/v1/tickets/t-1/events", tk.operator, "")
			var actions []string
			for _, e := range events.([]any) {
				actions = append(actions, obj(e)["action"].(string))
			}
			if status != 200 || strings.Join(actions, " ") != "create label label unlabel unlabel" {
				t.Errorf("t-1's audit trail: %v", actions)
			}
		})
	}
}

// TestRatingsOverSocketsAndREST: the owner rates a closed ticket once
// (rateTicket over a real socket), operators and the owner's other
// sockets hear ticketRated; not closed, twice, an operator, someone
// else's ticket and bad input are refused and change nothing; the REST
// route does the same for users and programs; the ticket object and the
// transcript carry the rating.
func TestRatingsOverSocketsAndREST(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			n := opsNode(t, dialect)
			tk := tokensOf(t, n)
			op, opEv := dial(t, n, tk.operator)
			mustAck(t, op, "subscribeOperator")
			u, _ := dial(t, n, tk.user)
			mustAck(t, u, "subscribe", map[string]any{"userId": "user-1"})
			tab, tabEv := dial(t, n, tk.user) // the owner's other tab
			mustAck(t, tab, "subscribe", map[string]any{"userId": "user-1"})
			other, _ := dial(t, n, tk.user2)
			mustAck(t, other, "subscribe", map[string]any{"userId": "user-2"})
			mustAck(t, u, "createTicket", "t-1", map[string]any{"ticketNm": "Refund"})
			mustAck(t, op, "acceptTicket", "t-1", map[string]any{})

			rate := func(s *client.Socket, arg any) string { return errCode(emitAck(t, s, "rateTicket", arg)) }
			if got := rate(u, map[string]any{"ticketId": "t-1", "score": 5}); got != "INVALID_TRANSITION" {
				t.Errorf("rating an open ticket: %q", got)
			}
			mustAck(t, op, "updateTicketStatus", "t-1", map[string]any{}, 10000)
			for _, bad := range []struct {
				s    *client.Socket
				arg  any
				code string
			}{
				{op, map[string]any{"ticketId": "t-1", "score": 5}, "FORBIDDEN"},
				{other, map[string]any{"ticketId": "t-1", "score": 5}, "NOT_FOUND"},
				{u, map[string]any{"ticketId": "nope", "score": 5}, "NOT_FOUND"},
				{u, map[string]any{"ticketId": "t-1", "score": 0}, "INVALID_REQUEST"},
				{u, map[string]any{"ticketId": "t-1", "score": 6}, "INVALID_REQUEST"},
				{u, map[string]any{"ticketId": "t-1", "score": 4.5}, "INVALID_REQUEST"},
				{u, map[string]any{"ticketId": "t-1", "score": "5"}, "INVALID_REQUEST"},
				{u, map[string]any{"ticketId": "t-1"}, "INVALID_REQUEST"},
				{u, map[string]any{"score": 5}, "INVALID_REQUEST"},
				{u, map[string]any{"ticketId": "t-1", "score": 5, "comment": 7}, "INVALID_REQUEST"},
				{u, map[string]any{"ticketId": "t-1", "score": 5, "comment": strings.Repeat("c", 2049)}, "INVALID_REQUEST"},
				{u, "t-1", "INVALID_REQUEST"},
			} {
				if got := rate(bad.s, bad.arg); got != bad.code {
					t.Errorf("rateTicket %v: %q, want %s", bad.arg, got, bad.code)
				}
			}
			if _, got := rest(t, n, "GET", "/api/v1/tickets/t-1", tk.user, ""); obj(got)["rating"] != nil {
				t.Fatalf("refused ratings changed the ticket: %v", got)
			}
			mustAck(t, u, "rateTicket", map[string]any{"ticketId": "t-1", "score": 4, "comment": "quick, thanks"})
			heard := obj(opEv.nextOf(t, "ticketRated", "t-1")[0])
			if heard["score"] != float64(4) || heard["comment"] != "quick, thanks" || heard["at"] == "" {
				t.Errorf("ticketRated to operators: %v", heard)
			}
			if got := obj(tabEv.nextOf(t, "ticketRated", "t-1")[0]); got["score"] != float64(4) {
				t.Errorf("ticketRated to the owner's other tab: %v", got)
			}
			if got := rate(u, map[string]any{"ticketId": "t-1", "score": 1}); got != "CONFLICT" {
				t.Errorf("a second rating: %q", got)
			}
			// Reopened and closed again, it keeps its one rating.
			mustAck(t, op, "updateTicketStatus", "t-1", map[string]any{}, 200)
			mustAck(t, op, "updateTicketStatus", "t-1", map[string]any{}, 10000)
			if got := rate(u, map[string]any{"ticketId": "t-1", "score": 1}); got != "CONFLICT" {
				t.Errorf("a rating after a reopen: %q", got)
			}
			for _, tok := range []string{tk.user, tk.operator} {
				_, got := rest(t, n, "GET", "/api/v1/tickets/t-1", tok, "")
				if r := obj(obj(got)["rating"]); r["score"] != float64(4) || r["comment"] != "quick, thanks" || r["at"] != heard["at"] {
					t.Errorf("the ticket's rating: %v", got)
				}
			}
			req, _ := http.NewRequest("GET", n.base+"/api/v1/tickets/t-1/transcript?format=text", nil)
			req.Header.Set("Authorization", "Bearer "+tk.operator)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			text, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(text), "Rating: 4/5 at ") || !strings.Contains(string(text), "quick, thanks") {
				t.Errorf("the transcript has no rating:\n%s", text)
			}
			_, tr := rest(t, n, "GET", "/api/v1/tickets/t-1/transcript", tk.user, "")
			if r := obj(obj(obj(tr)["ticket"])["rating"]); r["score"] != float64(4) {
				t.Errorf("the JSON transcript's rating: %v", tr)
			}

			// REST: a user's ticket, and a program's for its end user.
			mustAck(t, u, "createTicket", "t-2", map[string]any{"ticketNm": "Other"})
			status, pt := rest(t, n, "POST", "/api/v1/tickets", tk.program, `{"ticketId":"p-1","userId":"u9","ownerNm":"Nine"}`)
			if status != http.StatusCreated {
				t.Fatalf("a program's ticket: %d %v", status, pt)
			}
			runCases(t, n, []restCase{
				{"a new ticket", "POST", "/api/v1/tickets/t-2/rating", tk.user, `{"score":3}`, 409},
			})
			for _, id := range []string{"t-2", "p-1"} {
				mustAck(t, op, "acceptTicket", id, map[string]any{})
				mustAck(t, op, "updateTicketStatus", id, map[string]any{}, 10000)
			}
			runCases(t, n, []restCase{
				{"an operator", "POST", "/api/v1/tickets/t-2/rating", tk.operator, `{"score":3}`, 403},
				{"a supervisor", "POST", "/api/v1/tickets/t-2/rating", tk.supervisor, `{"score":3}`, 403},
				{"an administrator", "POST", "/api/v1/tickets/t-2/rating", tk.admin, `{"score":3}`, 403},
				{"another user", "POST", "/api/v1/tickets/t-2/rating", tk.user2, `{"score":3}`, 404},
				{"a program, another's ticket", "POST", "/api/v1/tickets/t-2/rating", tk.program, `{"score":3}`, 404},
				{"no token", "POST", "/api/v1/tickets/t-2/rating", "", `{"score":3}`, 401},
				{"a score too high", "POST", "/api/v1/tickets/t-2/rating", tk.user, `{"score":9}`, 400},
				{"a score as text", "POST", "/api/v1/tickets/t-2/rating", tk.user, `{"score":"3"}`, 400},
				{"no score", "POST", "/api/v1/tickets/t-2/rating", tk.user, `{"comment":"x"}`, 400},
				{"not JSON", "POST", "/api/v1/tickets/t-2/rating", tk.user, `score=3`, 400},
				{"a huge comment", "POST", "/api/v1/tickets/t-2/rating", tk.user, `{"score":3,"comment":"` + strings.Repeat("c", 1<<20) + `"}`, 400},
				{"the owner", "POST", "/api/v1/tickets/t-2/rating", tk.user, `{"score":3}`, 201},
				{"the owner again", "POST", "/api/v1/tickets/t-2/rating", tk.user, `{"score":2}`, 409},
				{"the program for its end user", "POST", "/api/v1/tickets/p-1/rating", tk.program, `{"score":5,"comment":"great"}`, 201},
			})
			if got := obj(opEv.nextOf(t, "ticketRated", "p-1")[0]); got["score"] != float64(5) || got["comment"] != "great" {
				t.Errorf("ticketRated of the program's ticket: %v", got)
			}
			_, got := rest(t, n, "GET", "/api/v1/tickets/t-2", tk.operator, "")
			if r := obj(obj(got)["rating"]); r["score"] != float64(3) || r["comment"] != "" {
				t.Errorf("t-2's rating: %v", got)
			}
		})
	}
}

// TestSupervisorOverview: supervisor-1 of the development issuer and an
// administrator see every operator with its open tickets and the queue
// with its waits; operators, users and programs are refused.
func TestSupervisorOverview(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			n := opsNode(t, dialect)
			tk := tokensOf(t, n)
			op, _ := dial(t, n, tk.operator)
			mustAck(t, op, "subscribeOperator")
			sup, _ := dial(t, n, tk.supervisor)
			mustAck(t, sup, "subscribeOperator")
			u, _ := dial(t, n, tk.user)
			mustAck(t, u, "subscribe", map[string]any{"userId": "user-1"})
			for _, id := range []string{"t-1", "t-2", "t-3"} {
				mustAck(t, u, "createTicket", id, map[string]any{"ticketNm": "About " + id})
			}
			mustAck(t, op, "acceptTicket", "t-1", map[string]any{})
			mustAck(t, op, "acceptTicket", "t-3", map[string]any{})
			runCases(t, n, []restCase{
				{"a user", "GET", "/api/v1/supervisor/overview", tk.user, ``, 403},
				{"a program", "GET", "/api/v1/supervisor/overview", tk.program, ``, 403},
				{"an operator", "GET", "/api/v1/supervisor/overview", tk.operator, ``, 403},
				{"no token", "GET", "/api/v1/supervisor/overview", "", ``, 401},
			})
			for _, tok := range []string{tk.supervisor, tk.admin} {
				status, body := rest(t, n, "GET", "/api/v1/supervisor/overview", tok, "")
				if status != http.StatusOK {
					t.Fatalf("overview: %d %v", status, body)
				}
				ops := map[string]map[string]any{}
				for _, o := range obj(body)["operators"].([]any) {
					ops[obj(o)["id"].(string)] = obj(o)
				}
				if o := ops["operator-2"]; o == nil || fmt.Sprint(o["tickets"]) != "[t-1 t-3]" || o["load"] != float64(2) ||
					o["online"] != true || o["name"] != "Operator Two" {
					t.Errorf("operator-2 in the overview: %v", o)
				}
				if o := ops["supervisor-1"]; o == nil || fmt.Sprint(o["tickets"]) != "[]" || o["online"] != true {
					t.Errorf("supervisor-1 in the overview: %v", o)
				}
				queue := obj(body)["queue"].([]any)
				if len(queue) != 1 || obj(queue[0])["ticketId"] != "t-2" || obj(queue[0])["ticketNm"] != "About t-2" ||
					obj(queue[0])["ownerNm"] != "User One" || obj(queue[0])["waitingSeconds"].(float64) < 0 {
					t.Errorf("the queue: %v", queue)
				}
			}
			// Taking over stays the assign command, which supervisors have
			// as operators do.
			mustAck(t, sup, "assignTicket", map[string]any{"ticketId": "t-1", "handleById": nil})
			if _, got := rest(t, n, "GET", "/api/v1/tickets/t-1", tk.supervisor, ""); obj(got)["handleById"] != "supervisor-1" {
				t.Errorf("after a take-over: %v", got)
			}
		})
	}
}

// TestEscalationReachesSupervisors: a team's ticket nobody accepts is
// escalated to the team and to the tenant's supervisors (supervisor-1 of
// the development issuer), not to other operators.
func TestEscalationReachesSupervisors(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), testEnv(map[string]string{
		"SWITCHBOARD_ESCALATE_AFTER": "1s", "SWITCHBOARD_ESCALATE_SCHEDULE": "@every 1s"}))
	cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
	n := runNode(t, cfg)
	tk := tokensOf(t, n)
	runCases(t, n, []restCase{{"a team", "PUT", "/api/v1/teams/billing", tk.admin, `{"name":"Billing"}`, 201}})
	op, opEv := dial(t, n, tk.operator) // not in billing
	mustAck(t, op, "subscribeOperator")
	sup, supEv := dial(t, n, tk.supervisor)
	mustAck(t, sup, "subscribeOperator")
	u, _ := dial(t, n, tk.user)
	mustAck(t, u, "subscribe", map[string]any{"userId": "user-1"})
	mustAck(t, u, "createTicket", "t-1", map[string]any{"ticketNm": "Refund", "team": "billing"})
	if got := obj(supEv.nextOf(t, "ticketEscalated", "t-1")[0]); got["waitingSeconds"] == nil {
		t.Errorf("ticketEscalated to the supervisor: %v", got)
	}
	select {
	case got := <-opEv.of("ticketEscalated"):
		t.Errorf("an operator outside the team heard %v", got)
	default:
	}
}

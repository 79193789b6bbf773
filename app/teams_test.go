package app

import (
	"net/http"
	"testing"

	client "github.com/zishang520/socket.io/clients/socket/v3"
)

// TestTeamsOverSockets runs teams on the real server: an administrator
// (operator-1) makes them over REST, another operator may not; a ticket
// opened for a team goes to its member though others are free; an
// unknown or malformed team is refused; the handler transfers the
// ticket to a person with a note, an administrator then to another team,
// whose member routing gives it to.
func TestTeamsOverSockets(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), testEnv(map[string]string{
		"SWITCHBOARD_ROUTING": "least-busy", "SWITCHBOARD_OPERATOR_CAPACITY": "1"}))
	cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
	n := runNode(t, cfg)
	tok1, tok2 := n.token(t, "operator-1"), n.token(t, "operator-2")
	op1, op1Ev := dial(t, n, tok1)
	op2, op2Ev := dial(t, n, tok2)
	op3, op3Ev := dial(t, n, n.token(t, "operator-3"))
	u, uEv := dial(t, n, n.token(t, "user-1"))
	mustAck(t, u, "subscribe", map[string]any{"userId": "user-1"})

	for _, c := range []struct {
		token, method, path, body string
		status                    int
	}{
		{tok2, "PUT", "/api/v1/teams/billing", `{"name": "Billing"}`, http.StatusForbidden},
		{tok1, "PUT", "/api/v1/teams/billing", `{"name": "Billing", "email": "billing@example.com"}`, http.StatusCreated},
		{tok1, "PUT", "/api/v1/teams/billing/members/operator-2", ``, http.StatusOK},
		{tok1, "PUT", "/api/v1/teams/sales", `{"name": "Sales"}`, http.StatusCreated},
		{tok1, "PUT", "/api/v1/teams/sales/members/operator-1", ``, http.StatusOK},
		{tok1, "PUT", "/api/v1/teams/Sales!", `{"name": "Sales"}`, http.StatusBadRequest},
		{tok1, "PUT", "/api/v1/teams/legal/members/operator-1", ``, http.StatusNotFound},
	} {
		if status, body := rest(t, n, c.method, c.path, c.token, c.body); status != c.status {
			t.Fatalf("%s %s: %d %v, want %d", c.method, c.path, status, body, c.status)
		}
	}
	if status, body := rest(t, n, "GET", "/api/v1/teams", tok2, ""); status != http.StatusOK || len(body.([]any)) != 2 {
		t.Fatalf("GET /teams: %d %v", status, body)
	}

	// Operators subscribe after the teams exist, least-busy would give
	// the ticket to any of them; only operator-2 is in billing.
	mustAck(t, op1, "subscribeOperator")
	mustAck(t, op2, "subscribeOperator")
	mustAck(t, op3, "subscribeOperator")
	if got := errCode(emitAck(t, u, "createTicket", "t-x", map[string]any{"ticketNm": "Refund", "team": "legal"})); got != "NOT_FOUND" {
		t.Errorf("createTicket for an unknown team: %q, want NOT_FOUND", got)
	}
	if got := errCode(emitAck(t, u, "createTicket", "t-x", map[string]any{"ticketNm": "Refund", "team": "Legal!"})); got != "INVALID_REQUEST" {
		t.Errorf("createTicket for a malformed team: %q, want INVALID_REQUEST", got)
	}
	mustAck(t, u, "createTicket", "t-1", map[string]any{"ticketNm": "Refund", "team": "billing"})
	if got := op2Ev.nextOf(t, "notifyOfAssignment", "t-1"); got[1] != float64(1) {
		t.Fatalf("operator-2 notifyOfAssignment %v", got)
	}
	if got := uEv.nextOf(t, "ticketAccepted", "t-1")[0].(map[string]any); got["handleById"] != "operator-2" || got["teamId"] != "billing" {
		t.Fatalf("ticketAccepted %v", got)
	}

	bad := []struct {
		s    *client.Socket
		arg  map[string]any
		code string
	}{
		{op3, map[string]any{"ticketId": "t-1", "operatorId": "operator-3"}, "FORBIDDEN"},
		{op2, map[string]any{"ticketId": "t-1"}, "INVALID_REQUEST"},
		{op2, map[string]any{"ticketId": "t-1", "team": "sales", "operatorId": "operator-3"}, "INVALID_REQUEST"},
		{op2, map[string]any{"ticketId": "t-1", "team": 7}, "INVALID_REQUEST"},
		{op2, map[string]any{"ticketId": "t-1", "team": "legal"}, "NOT_FOUND"},
		{op2, map[string]any{"ticketId": "t-1", "operatorId": "user-1"}, "NOT_FOUND"},
		{u, map[string]any{"ticketId": "t-1", "team": "sales"}, "FORBIDDEN"},
	}
	for _, b := range bad {
		if got := errCode(emitAck(t, b.s, "transferTicket", b.arg)); got != b.code {
			t.Errorf("transferTicket %v: %q, want %s", b.arg, got, b.code)
		}
	}

	// To a person, with a note.
	mustAck(t, op2, "transferTicket", map[string]any{"ticketId": "t-1", "operatorId": "operator-3", "note": "wants a refund"})
	if got := op3Ev.nextOf(t, "notifyOfAssignment", "t-1"); got[1] != float64(1) || got[2] != "Operator Two" {
		t.Errorf("operator-3 notifyOfAssignment %v", got)
	}
	tr := op1Ev.nextOf(t, "ticketTransferred", "t-1")
	if tk, detail := tr[0].(map[string]any), tr[1].(map[string]any); tk["handleById"] != "operator-3" ||
		detail["note"] != "wants a refund" || detail["operatorId"] != "operator-3" || detail["byId"] != "operator-2" {
		t.Errorf("ticketTransferred %v", tr)
	}
	if got := uEv.nextOf(t, "ticketAccepted", "t-1")[0].(map[string]any); got["handleById"] != "operator-3" {
		t.Errorf("owner's ticketAccepted %v", got)
	}

	// An administrator sends it to sales: back to the queue, then to
	// operator-1, sales' member.
	mustAck(t, op1, "transferTicket", map[string]any{"ticketId": "t-1", "team": "sales"})
	if got := uEv.nextOf(t, "ticketStatusUpdated", "t-1"); got[1] != float64(100) {
		t.Errorf("ticketStatusUpdated %v", got)
	}
	if got := op3Ev.nextOf(t, "notifyOfAssignment", "t-1"); got[1] != float64(0) {
		t.Errorf("operator-3 told it lost the ticket: %v", got)
	}
	if got := uEv.nextOf(t, "ticketAccepted", "t-1")[0].(map[string]any); got["handleById"] != "operator-1" || got["teamId"] != "sales" {
		t.Errorf("after the transfer to sales: %v", got)
	}
}

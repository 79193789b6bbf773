package app

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestSubjectIsNotAProgramsUser: an end user whose token subject is
// "program-42/7" is not program-42's end user 7, whose stored id that
// subject used to be: it neither lists nor writes to that user's ticket,
// nor hears of it.
func TestSubjectIsNotAProgramsUser(t *testing.T) {
	is := newTestIssuer(t)
	n := startNodeEnv(t, t.TempDir(), map[string]string{"SWITCHBOARD_OIDC_ISSUER": is.srv.URL})
	program := is.tokenFor(t, "program-42", map[string]any{"client_id": "program-42", "program_id": "program-42"})
	mallory := is.tokenFor(t, "program-42/7", map[string]any{"name": "Mallory"})
	operator := is.tokenFor(t, "op-1", map[string]any{"roles": []string{"operator"}, "name": "Olga"})

	prog, progEv := dial(t, n, program)
	mustAck(t, prog, "subscribe", map[string]any{"userId": "7", "programId": "program-42", "fullNm": "Seven"})
	mustAck(t, prog, "createTicket", "t-7", map[string]any{"ticketId": "t-7", "ticketNm": "Refund"})
	mustAck(t, prog, "updateMessage", "t-7", "m-7", map[string]any{"content": "my card number", "type": 1}, "")

	user, userEv := dial(t, n, mallory)
	mustAck(t, user, "subscribe") // its own room, whatever it is named
	if status, body := rest(t, n, "GET", "/api/v1/tickets", mallory, ""); status != 200 || mentions(body, "t-7") {
		t.Fatalf("the subject program-42/7 lists program-42's user 7's ticket: %d %v", status, body)
	}
	if status, _ := rest(t, n, "GET", "/api/v1/tickets/t-7/messages", mallory, ""); status != 404 {
		t.Fatalf("the subject program-42/7 reads user 7's messages: %d", status)
	}
	if err, _ := emitAck(t, user, "updateMessage", "t-7", "m-x", map[string]any{"content": "hi", "type": 1}, "").(map[string]any); err["code"] != "NOT_FOUND" {
		t.Fatalf("the subject program-42/7 writes to user 7's ticket: %v", err)
	}

	// The ticket's owner hears that it was accepted; the subject does not.
	op, _ := dial(t, n, operator)
	mustAck(t, op, "subscribeOperator")
	mustAck(t, op, "acceptTicket", "t-7", map[string]any{"ticketId": "t-7"}, "7")
	if got := progEv.next(t, "ticketAccepted")[0].(map[string]any); got["ownerId"] != "program-42/7" {
		t.Fatalf("ticketAccepted to the program: %v", got)
	}
	select {
	case got := <-userEv.of("ticketAccepted"):
		t.Fatalf("the subject program-42/7 heard of user 7's ticket: %v", got)
	case <-time.After(300 * time.Millisecond):
	}
}

// mentions reports whether a JSON value contains s anywhere.
func mentions(v any, s string) bool {
	b, _ := json.Marshal(v)
	return strings.Contains(string(b), s)
}

package app

import (
	"fmt"
	"testing"
	"time"
)

// nextOf waits for the next name event whose first argument has field
// "ticketId" (or is) id, skipping others.
func (e *events) nextOf(t *testing.T, name, id string) []any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case a := <-e.of(name):
			if len(a) > 0 && (a[0] == id || fmt.Sprint(a[0].(map[string]any)["ticketId"]) == id) {
				return a
			}
		case <-deadline:
			t.Fatalf("no %s event for %s", name, id)
			return nil
		}
	}
}

// TestRoutingOverSockets runs least-busy routing with a capacity of one
// on the real server: a new ticket is assigned to the online operator
// (notifyOfAssignment, ticketAccepted), the next waits and its owner is
// told its place (again when it connects again), closing the first
// assigns it; a declined ticket goes
// back to the queue and the operator gets the next one instead.
func TestRoutingOverSockets(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), testEnv(map[string]string{
		"SWITCHBOARD_ROUTING": "least-busy", "SWITCHBOARD_OPERATOR_CAPACITY": "1"}))
	cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
	n := runNode(t, cfg)
	op, opEv := dial(t, n, n.token(t, "operator-1"))
	u1, u1Ev := dial(t, n, n.token(t, "user-1"))
	u2, u2Ev := dial(t, n, n.token(t, "user-2"))
	mustAck(t, op, "subscribeOperator")
	mustAck(t, u1, "subscribe", map[string]any{"userId": "user-1"})
	mustAck(t, u2, "subscribe", map[string]any{"userId": "user-2"})

	mustAck(t, u1, "createTicket", "t-1", map[string]any{"ticketId": "t-1", "ticketNm": "Printer"})
	if got := opEv.nextOf(t, "notifyOfAssignment", "t-1"); got[1] != float64(1) || got[2] != "Switchboard" {
		t.Fatalf("notifyOfAssignment %v", got)
	}
	if got := u1Ev.nextOf(t, "ticketAccepted", "t-1")[0].(map[string]any); got["handleById"] != "operator-1" {
		t.Fatalf("ticketAccepted %v", got)
	}

	mustAck(t, u2, "createTicket", "t-2", map[string]any{"ticketId": "t-2", "ticketNm": "Scanner"})
	mustAck(t, u1, "createTicket", "t-3", map[string]any{"ticketId": "t-3", "ticketNm": "Fax"})
	if got := u2Ev.nextOf(t, "queuePosition", "t-2")[0].(map[string]any); got["position"] != float64(1) {
		t.Fatalf("t-2 queuePosition %v", got)
	}
	if got := u1Ev.nextOf(t, "queuePosition", "t-3")[0].(map[string]any); got["position"] != float64(2) {
		t.Fatalf("t-3 queuePosition %v", got)
	}

	// A second connection of t-2's owner (a reload) is told again.
	again, againEv := dial(t, n, n.token(t, "user-2"))
	mustAck(t, again, "subscribe", map[string]any{"userId": "user-2"})
	if got := againEv.nextOf(t, "queuePosition", "t-2")[0].(map[string]any); got["position"] != float64(1) {
		t.Fatalf("t-2 told again %v", got)
	}

	// Closing t-1 frees the operator: t-2 is next, t-3 moves up.
	mustAck(t, op, "updateTicketStatus", "t-1", map[string]any{}, 10000, "user-1")
	if got := u2Ev.nextOf(t, "ticketAccepted", "t-2")[0].(map[string]any); got["handleById"] != "operator-1" {
		t.Fatalf("t-2 ticketAccepted %v", got)
	}
	if got := u1Ev.nextOf(t, "queuePosition", "t-3")[0].(map[string]any); got["position"] != float64(1) ||
		got["estimatedWaitSeconds"] == nil {
		t.Fatalf("t-3 after the close: %v (two accepts make an estimate)", got)
	}

	// Declining t-2 gives the operator t-3; t-2 waits for someone else.
	mustAck(t, op, "declineTicket", "t-2")
	if got := u1Ev.nextOf(t, "ticketAccepted", "t-3")[0].(map[string]any); got["handleById"] != "operator-1" {
		t.Fatalf("t-3 ticketAccepted %v", got)
	}
	if got := u2Ev.nextOf(t, "queuePosition", "t-2")[0].(map[string]any); got["position"] != float64(1) {
		t.Fatalf("t-2 after the decline: %v", got)
	}
	if got := emitAck(t, op, "declineTicket", "t-2"); got == nil {
		t.Fatal("declining a ticket one no longer has was acknowledged")
	}
}

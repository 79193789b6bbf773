package tickets

import (
	"fmt"
	"testing"

	"github.com/switchboard-chat/switchboard"
)

// TestDecideExhaustive checks every state × command × actor against a
// table written out by hand from spec/livechat.md.
func TestDecideExhaustive(t *testing.T) {
	states := map[string]State{
		"new":       {Status: StatusNew},
		"open(A)":   {Status: StatusOpen, Handler: "A"},
		"closed(A)": {Status: StatusClosed, Handler: "A"},
		"rejected":  {Status: StatusClosed},
	}
	commands := map[string]Command{
		"accept":   {Kind: CmdAccept},
		"set100":   {Kind: CmdSetStatus, Status: StatusNew},
		"set200":   {Kind: CmdSetStatus, Status: StatusOpen},
		"set10000": {Kind: CmdSetStatus, Status: StatusClosed},
		"assignA":  {Kind: CmdAssign, Target: "A"},
		"assignB":  {Kind: CmdAssign, Target: "B"},
		"hijack":   {Kind: CmdAssign},
		"decline":  {Kind: CmdDecline},
	}
	// want is "ERRCODE", "noop" or "status/handler/action".
	want := map[string]string{
		// operator A (the handler of open(A) and closed(A))
		"new|accept|A": "200/A/accept", "new|set100|A": "INVALID_TRANSITION", "new|set200|A": "INVALID_TRANSITION",
		"new|set10000|A": "10000//reject", "new|assignA|A": "200/A/assign", "new|assignB|A": "200/B/assign", "new|hijack|A": "200/A/hijack",
		"open(A)|accept|A": "noop", "open(A)|set100|A": "INVALID_TRANSITION", "open(A)|set200|A": "noop",
		"open(A)|set10000|A": "10000/A/close", "open(A)|assignA|A": "noop", "open(A)|assignB|A": "200/B/assign", "open(A)|hijack|A": "noop",
		"closed(A)|accept|A": "INVALID_TRANSITION", "closed(A)|set100|A": "INVALID_TRANSITION", "closed(A)|set200|A": "200/A/reopen",
		"closed(A)|set10000|A": "noop", "closed(A)|assignA|A": "INVALID_TRANSITION", "closed(A)|assignB|A": "INVALID_TRANSITION", "closed(A)|hijack|A": "INVALID_TRANSITION",
		"rejected|accept|A": "INVALID_TRANSITION", "rejected|set100|A": "INVALID_TRANSITION", "rejected|set200|A": "200/A/reopen",
		"rejected|set10000|A": "noop", "rejected|assignA|A": "INVALID_TRANSITION", "rejected|assignB|A": "INVALID_TRANSITION", "rejected|hijack|A": "INVALID_TRANSITION",
		"new|decline|A": "INVALID_TRANSITION", "open(A)|decline|A": "100//decline",
		"closed(A)|decline|A": "INVALID_TRANSITION", "rejected|decline|A": "INVALID_TRANSITION",
		// operator B (never the handler)
		"new|accept|B": "200/B/accept", "new|set100|B": "INVALID_TRANSITION", "new|set200|B": "INVALID_TRANSITION",
		"new|set10000|B": "10000//reject", "new|assignA|B": "200/A/assign", "new|assignB|B": "200/B/assign", "new|hijack|B": "200/B/hijack",
		"open(A)|accept|B": "CONFLICT", "open(A)|set100|B": "INVALID_TRANSITION", "open(A)|set200|B": "FORBIDDEN",
		"open(A)|set10000|B": "FORBIDDEN", "open(A)|assignA|B": "noop", "open(A)|assignB|B": "200/B/assign", "open(A)|hijack|B": "200/B/hijack",
		"closed(A)|accept|B": "INVALID_TRANSITION", "closed(A)|set100|B": "INVALID_TRANSITION", "closed(A)|set200|B": "200/B/reopen",
		"closed(A)|set10000|B": "noop", "closed(A)|assignA|B": "INVALID_TRANSITION", "closed(A)|assignB|B": "INVALID_TRANSITION", "closed(A)|hijack|B": "INVALID_TRANSITION",
		"rejected|accept|B": "INVALID_TRANSITION", "rejected|set100|B": "INVALID_TRANSITION", "rejected|set200|B": "200/B/reopen",
		"rejected|set10000|B": "noop", "rejected|assignA|B": "INVALID_TRANSITION", "rejected|assignB|B": "INVALID_TRANSITION", "rejected|hijack|B": "INVALID_TRANSITION",
		"new|decline|B": "INVALID_TRANSITION", "open(A)|decline|B": "FORBIDDEN",
		"closed(A)|decline|B": "INVALID_TRANSITION", "rejected|decline|B": "INVALID_TRANSITION",
	}
	actors := map[string]Actor{
		"A": {ID: "A", Role: switchboard.RoleOperator},
		"B": {ID: "B", Role: switchboard.RoleOperator},
		"U": {ID: "A", Role: switchboard.RoleUser}, // a user, even one sharing the handler's id
		"P": {ID: "A", Role: switchboard.RoleProgram},
		"S": {ID: "routing", Role: RoleSystem},
	}
	checked := 0
	for sn, st := range states {
		for cn, cmd := range commands {
			for an, actor := range actors {
				key := sn + "|" + cn + "|" + an
				expect, ok := want[key]
				if an == "U" || an == "P" {
					expect, ok = "FORBIDDEN", true
				}
				if an == "S" {
					expect, ok = systemExpects(sn, cmd), true
				}
				if !ok {
					t.Fatalf("no expectation for %s", key)
				}
				out, err := Decide(st, cmd, actor)
				if got := describe(out, err); got != expect {
					t.Errorf("%s: got %s, want %s", key, got, expect)
				}
				if err == nil && !out.Noop && !out.State.Status.Valid() {
					t.Errorf("%s: invalid resulting status %d", key, out.State.Status)
				}
				checked++
			}
		}
	}
	if checked != len(states)*len(commands)*len(actors) || len(want) != len(states)*len(commands)*2 {
		t.Fatalf("table incomplete: checked %d, table %d", checked, len(want))
	}
}

// systemExpects: routing may only assign a new ticket to a named
// operator (a ticket that is no longer new is someone else's win), and
// automation may only close an open ticket (a closed one is a retry, a
// new one changed since it was found idle).
func systemExpects(state string, cmd Command) string {
	if cmd.Kind == CmdSetStatus && cmd.Status == StatusClosed {
		switch state {
		case "open(A)":
			return "10000/A/close"
		case "new":
			return "CONFLICT"
		}
		return "noop"
	}
	switch {
	case cmd.Kind != CmdAssign || cmd.Target == "":
		return "FORBIDDEN"
	case state != "new":
		return "CONFLICT"
	}
	return "200/" + cmd.Target + "/assign"
}

func describe(out Outcome, err error) string {
	switch {
	case err != nil:
		return switchboard.ErrorCode(err)
	case out.Noop:
		return "noop"
	}
	return fmt.Sprintf("%d/%s/%s", out.State.Status, out.State.Handler, out.Action)
}

func TestDecideUnknownCommand(t *testing.T) {
	_, err := Decide(State{Status: StatusNew}, Command{Kind: CommandKind(99)}, Actor{ID: "A", Role: switchboard.RoleOperator})
	if switchboard.ErrorCode(err) != switchboard.EINVALID {
		t.Fatalf("got %v", err)
	}
}

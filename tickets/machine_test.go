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

// TestDecideTransfer: the handler or an administrator transfers an open
// ticket, any operator a waiting one; to a person it is an assign that
// keeps the team, to a team it is back to that team's queue; a closed
// ticket is not transferred; every other move keeps the team.
func TestDecideTransfer(t *testing.T) {
	waiting := State{Status: StatusNew, Team: "t1"}
	open := State{Status: StatusOpen, Handler: "A", Team: "t1"}
	closed := State{Status: StatusClosed, Handler: "A", Team: "t1"}
	A, B := Actor{ID: "A", Role: switchboard.RoleOperator}, Actor{ID: "B", Role: switchboard.RoleOperator}
	admin := Actor{ID: "C", Role: switchboard.RoleOperator, Admin: true}
	toB, toT2, toT1 := Command{Kind: CmdTransfer, Target: "B"}, Command{Kind: CmdTransfer, Team: "t2"}, Command{Kind: CmdTransfer, Team: "t1"}
	for _, c := range []struct {
		name string
		cur  State
		cmd  Command
		by   Actor
		want string
	}{
		{"open, by its handler, to B", open, toB, A, "200/B/t1/assign"},
		{"open, by its handler, to a team", open, toT2, A, "100//t2/transfer"},
		{"open, by its handler, to its own team", open, toT1, A, "100//t1/transfer"},
		{"open, by another operator", open, toB, B, "FORBIDDEN"},
		{"open, by an administrator", open, toT2, admin, "100//t2/transfer"},
		{"open, to its handler", open, Command{Kind: CmdTransfer, Target: "A"}, admin, "noop"},
		{"waiting, by anyone, to B", waiting, toB, B, "200/B/t1/assign"},
		{"waiting, to another team", waiting, toT2, B, "100//t2/transfer"},
		{"waiting, to its team", waiting, toT1, B, "noop"},
		{"closed", closed, toT2, admin, "INVALID_TRANSITION"},
		{"to nobody", open, Command{Kind: CmdTransfer}, A, "INVALID_REQUEST"},
		{"to both", open, Command{Kind: CmdTransfer, Target: "B", Team: "t2"}, A, "INVALID_REQUEST"},
		{"by the system", waiting, toT2, Actor{ID: "S", Role: RoleSystem}, "FORBIDDEN"},
		{"by a user", waiting, toT2, Actor{ID: "A", Role: switchboard.RoleUser}, "FORBIDDEN"},
		{"accept keeps the team", waiting, Command{Kind: CmdAccept}, B, "200/B/t1/accept"},
		{"decline keeps the team", open, Command{Kind: CmdDecline}, A, "100//t1/decline"},
		{"routing keeps the team", waiting, Command{Kind: CmdAssign, Target: "B"}, Actor{ID: "S", Role: RoleSystem}, "200/B/t1/assign"},
	} {
		out, err := Decide(c.cur, c.cmd, c.by)
		got := switchboard.ErrorCode(err)
		switch {
		case err == nil && out.Noop:
			got = "noop"
		case err == nil:
			got = fmt.Sprintf("%d/%s/%s/%s", out.State.Status, out.State.Handler, out.State.Team, out.Action)
		}
		if got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

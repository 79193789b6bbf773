package tickets

import "github.com/switchboard-chat/switchboard"

// Action names a ticket transition in the audit trail and in events.
type Action string

const (
	ActionCreate Action = "create"
	ActionAccept Action = "accept"
	ActionAssign Action = "assign"
	ActionHijack Action = "hijack"
	ActionReject Action = "reject"
	ActionClose  Action = "close"
	ActionReopen Action = "reopen"
	// ActionDecline gives an automatically assigned ticket back to the
	// queue.
	ActionDecline Action = "decline"
	// ActionTransfer gives a ticket to a team: it waits in that team's
	// queue. (A transfer to a person is an assign.)
	ActionTransfer Action = "transfer"
)

// CommandKind is what an operator asks of a ticket.
type CommandKind int

const (
	// CmdAccept takes a new ticket (acceptTicket).
	CmdAccept CommandKind = iota
	// CmdSetStatus is updateTicketStatus: reject, close or reopen.
	CmdSetStatus
	// CmdAssign is assignTicket: to Target, or to the actor (hijack) when
	// Target is "".
	CmdAssign
	// CmdDecline is declineTicket: the handler gives a ticket routing gave
	// it back to the queue.
	CmdDecline
	// CmdTransfer is transferTicket: to Target (a person: a reassignment)
	// or to Team (the team's queue), exactly one of the two.
	CmdTransfer
)

// State is the part of a ticket the state machine decides on.
type State struct {
	Status  Status
	Handler string
	// Team is the team the ticket is for ("" = none). Only a transfer to
	// a team changes it; every other move keeps it.
	Team string
}

// to is the state with status and handler, the team kept.
func (s State) to(status Status, handler string) State { return State{status, handler, s.Team} }

// withTeam is the state with team instead of its own.
func (s State) withTeam(team string) State { s.Team = team; return s }

// Command is one request to change a ticket.
type Command struct {
	Kind   CommandKind
	Status Status // for CmdSetStatus
	Target string // for CmdAssign ("" = hijack) and CmdTransfer
	Team   string // for CmdTransfer
}

// RoleSystem is Switchboard itself, the actor of automatic routing and
// automation: it may only assign a new ticket and close an open one.
const RoleSystem switchboard.Role = "system"

// Actor is who asks: the role decides what it may do.
type Actor struct {
	ID   string
	Role switchboard.Role
	// Admin is an operator who administers its tenant: it may transfer
	// any ticket.
	Admin bool
}

// Outcome is the decided change. Noop means the ticket already is what the
// command asks for (a retry): nothing is written and nothing is emitted.
type Outcome struct {
	State  State
	Action Action
	Noop   bool
}

// Decide is the ticket state machine: the one place that says which
// commands may change a ticket, by whom, and into what.
//
//	new(100) ──accept/assign/hijack──▶ open(200) ──close──▶ closed(10000)
//	new ──reject──▶ closed;  closed ──reopen──▶ open (handler = actor)
//	open ──assign/hijack──▶ open (another handler)
//	open ──decline──▶ new (no handler)
//	new/open ──transfer to a person──▶ open (that handler: an assign)
//	new/open ──transfer to a team──▶ new (no handler, that team)
//
// Only operators command tickets; the system routes new ones and closes
// idle open ones (decideSystem). Accepting an open ticket someone else
// handles is CONFLICT (the loser of an accept race); closing a ticket one
// does not handle is FORBIDDEN; any other move is INVALID_TRANSITION.
func Decide(cur State, cmd Command, by Actor) (Outcome, error) {
	if by.Role == RoleSystem {
		return decideSystem(cur, cmd)
	}
	if by.Role != switchboard.RoleOperator {
		return Outcome{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may change a ticket")
	}
	switch cmd.Kind {
	case CmdAccept:
		return decideAccept(cur, by)
	case CmdSetStatus:
		return decideStatus(cur, cmd.Status, by)
	case CmdAssign:
		return decideAssign(cur, cmd.Target, by)
	case CmdDecline:
		return decideDecline(cur, by)
	case CmdTransfer:
		return decideTransfer(cur, cmd, by)
	}
	return Outcome{}, switchboard.Errorf(switchboard.EINVALID, "unknown command")
}

// decideSystem: routing assigns a new ticket (one no longer new is
// CONFLICT: someone was first) and automation closes an open one (one
// already closed is a no-op, one not open is CONFLICT: it changed since it
// was found idle). Nothing else is Switchboard's to decide.
func decideSystem(cur State, cmd Command) (Outcome, error) {
	switch {
	case cmd.Kind == CmdAssign && cmd.Target != "":
		if cur.Status != StatusNew {
			return Outcome{}, switchboard.Errorf(switchboard.ECONFLICT, "the ticket is no longer waiting")
		}
		return Outcome{State: cur.to(StatusOpen, cmd.Target), Action: ActionAssign}, nil
	case cmd.Kind == CmdSetStatus && cmd.Status == StatusClosed:
		switch cur.Status {
		case StatusOpen:
			return Outcome{State: cur.to(StatusClosed, cur.Handler), Action: ActionClose}, nil
		case StatusClosed:
			return Outcome{State: cur, Action: ActionClose, Noop: true}, nil
		}
		return Outcome{}, switchboard.Errorf(switchboard.ECONFLICT, "the ticket is no longer open")
	}
	return Outcome{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may change a ticket")
}

func decideAccept(cur State, by Actor) (Outcome, error) {
	switch {
	case cur.Status == StatusNew:
		return Outcome{State: cur.to(StatusOpen, by.ID), Action: ActionAccept}, nil
	case cur.Status == StatusOpen && cur.Handler == by.ID:
		return Outcome{State: cur, Action: ActionAccept, Noop: true}, nil
	case cur.Status == StatusOpen:
		return Outcome{}, switchboard.Errorf(switchboard.ECONFLICT, "ticket already accepted by another operator")
	}
	return Outcome{}, switchboard.Errorf(switchboard.EINVALIDTRANSITION, "only a new ticket can be accepted")
}

func decideStatus(cur State, to Status, by Actor) (Outcome, error) {
	invalid := switchboard.Errorf(switchboard.EINVALIDTRANSITION, "cannot change a ticket from %d to %d", cur.Status, to)
	switch {
	case cur.Status == StatusNew && to == StatusClosed:
		return Outcome{State: cur.to(StatusClosed, cur.Handler), Action: ActionReject}, nil
	case cur.Status == StatusOpen && to == StatusClosed:
		if cur.Handler != by.ID {
			return Outcome{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only the ticket's handler may close it")
		}
		return Outcome{State: cur.to(StatusClosed, cur.Handler), Action: ActionClose}, nil
	case cur.Status == StatusOpen && to == StatusOpen:
		if cur.Handler != by.ID {
			return Outcome{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only the ticket's handler may change it")
		}
		return Outcome{State: cur, Action: ActionReopen, Noop: true}, nil
	case cur.Status == StatusClosed && to == StatusOpen:
		return Outcome{State: cur.to(StatusOpen, by.ID), Action: ActionReopen}, nil
	case cur.Status == StatusClosed && to == StatusClosed:
		return Outcome{State: cur, Action: ActionClose, Noop: true}, nil
	}
	return Outcome{}, invalid
}

func decideAssign(cur State, target string, by Actor) (Outcome, error) {
	if cur.Status == StatusClosed {
		return Outcome{}, switchboard.Errorf(switchboard.EINVALIDTRANSITION, "a closed ticket cannot be assigned; reopen it first")
	}
	action := ActionAssign
	if target == "" {
		target, action = by.ID, ActionHijack
	}
	if cur.Status == StatusOpen && cur.Handler == target {
		return Outcome{State: cur, Action: action, Noop: true}, nil
	}
	return Outcome{State: cur.to(StatusOpen, target), Action: action}, nil
}

// decideDecline: only the handler of an open ticket may give it back.
// Whether routing gave it to them is the service's check (it needs the
// audit trail).
func decideDecline(cur State, by Actor) (Outcome, error) {
	switch {
	case cur.Status != StatusOpen:
		return Outcome{}, switchboard.Errorf(switchboard.EINVALIDTRANSITION, "only an open ticket can be declined")
	case cur.Handler != by.ID:
		return Outcome{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only the ticket's handler may decline it")
	}
	return Outcome{State: cur.to(StatusNew, ""), Action: ActionDecline}, nil
}

// decideTransfer: the handler or an administrator passes a ticket on, to
// a person (a reassignment, recorded as an assign) or to a team (back to
// the queue, that team's). A waiting ticket has no handler: any operator
// may transfer it, as any operator may already take or reject it.
func decideTransfer(cur State, cmd Command, by Actor) (Outcome, error) {
	switch {
	case (cmd.Target == "") == (cmd.Team == ""):
		return Outcome{}, switchboard.Errorf(switchboard.EINVALID, "transfer to a team or to an operator, exactly one")
	case cur.Status == StatusClosed:
		return Outcome{}, switchboard.Errorf(switchboard.EINVALIDTRANSITION, "a closed ticket cannot be transferred; reopen it first")
	case cur.Status == StatusOpen && cur.Handler != by.ID && !by.Admin:
		return Outcome{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only the ticket's handler or an administrator may transfer it")
	case cmd.Target != "":
		next := cur.to(StatusOpen, cmd.Target)
		return Outcome{State: next, Action: ActionAssign, Noop: next == cur}, nil
	}
	next := State{Status: StatusNew, Team: cmd.Team}
	return Outcome{State: next, Action: ActionTransfer, Noop: next == cur}, nil
}

package tickets

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/operators"
)

// automationActor is the id automatic closes and escalations are recorded
// under, beside routing's.
const automationActor = "switchboard:automation"

// ActionEscalate records in the audit trail that a waiting ticket was
// escalated. It changes nothing of the ticket: the row is the marker that
// makes an escalation happen once per ticket.
const ActionEscalate Action = "escalate"

// AutomationBatch bounds the tickets one run of an automation handles, so
// one transaction stays short; the next slot takes the rest.
const AutomationBatch = 500

// AutoClose closes up to limit open tickets in which nothing happened (no
// message, no change of the ticket) for idle before now, as the system,
// through the state machine: each gets its audit row, a system message in
// its conversation and the events a close by hand sends. It runs inside
// the caller's transaction (a scheduled job's Op) and returns the events
// to publish after commit and how many tickets it closed. A closed ticket
// is not open, so a second run leaves it alone.
func (s *Service) AutoClose(tx *gorm.DB, now time.Time, idle time.Duration, limit int) ([]switchboard.Event, int, error) {
	if ok, err := oneAtATime(tx, "close"); !ok || err != nil {
		return nil, 0, err
	}
	cutoff := now.Add(-idle).UnixMilli()
	var idleTickets []Ticket
	// A message touches the ticket's session, not always the ticket.
	if err := tx.Raw(`SELECT `+ticketColumns+` FROM tickets WHERE status = ? AND updated_at <= ?
		AND NOT EXISTS (SELECT 1 FROM chat_sessions s WHERE s.id = tickets.id AND s.updated_at > ?)
		ORDER BY updated_at, id LIMIT ?`, StatusOpen, cutoff, cutoff, limit).Scan(&idleTickets).Error; err != nil {
		return nil, 0, err
	}
	var evs []switchboard.Event
	closed := 0
	for _, t := range idleTickets {
		more, err := s.changeAt(tx, systemCaller(t.Tenant, automationActor), t,
			Command{Kind: CmdSetStatus, Status: StatusClosed}, now.UnixMilli())
		if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
			// Changed since it was read (another node's operator): it is
			// not idle any more, and nothing of it was written.
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("closing idle ticket %s: %w", t.ID, err)
		}
		evs = append(evs, more...)
		closed++
	}
	return evs, closed, nil
}

// Escalate escalates up to limit new tickets nobody accepted within wait
// of their creation and that were not escalated before: the tenant's
// operators hear ticketEscalated, the conversation gets a system message,
// and an audit row (ActionEscalate) marks the ticket so that it is
// escalated once. Like AutoClose it runs in the caller's transaction and
// returns the events and how many tickets it escalated.
func (s *Service) Escalate(tx *gorm.DB, now time.Time, wait time.Duration, limit int) ([]switchboard.Event, int, error) {
	if ok, err := oneAtATime(tx, "escalate"); !ok || err != nil {
		return nil, 0, err
	}
	cutoff := now.Add(-wait).UnixMilli()
	var waiting []Ticket
	if err := tx.Raw(`SELECT `+ticketColumns+` FROM tickets WHERE status = ? AND created_at <= ?
		AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.action = ?)
		ORDER BY created_at, id LIMIT ?`, StatusNew, cutoff, ActionEscalate, limit).Scan(&waiting).Error; err != nil {
		return nil, 0, err
	}
	var evs []switchboard.Event
	for _, t := range waiting {
		more, err := escalate(tx, t, now)
		if err != nil {
			return nil, 0, fmt.Errorf("escalating ticket %s: %w", t.ID, err)
		}
		evs = append(evs, more...)
	}
	return evs, len(waiting), nil
}

// oneAtATime reports whether this run of the named automation may go on:
// not while a run on another node sharing the PostgreSQL database has
// yet to commit. A slot runs on one node, but two slots can run at once
// on two nodes (a run outlasting its period, clocks a moment apart);
// without the lock both would find the same ticket not yet escalated.
// The lock is the transaction's (pg_try_advisory_xact_lock), so a run
// that gets it sees under READ COMMITTED what every earlier run
// committed. A run that does not get it does nothing and the next slot
// catches up: waiting instead could deadlock, because a group-commit
// batch holds the lock until its last Op, and two nodes' batches may take
// the two automations' locks in opposite orders. On SQLite the Committer
// is the one writer and runs one Op at a time.
func oneAtATime(tx *gorm.DB, automation string) (bool, error) {
	if tx.Dialector.Name() != "postgres" {
		return true, nil
	}
	var ok bool
	err := database.QueryRow(tx, "SELECT pg_try_advisory_xact_lock(hashtext(?))", "switchboard-automation:"+automation).Scan(&ok)
	return ok, err
}

// escalate marks one waiting ticket escalated and says so to its
// conversation and to those who can act: for a ticket of a team, the
// team's operators and the tenant's administrators (the supervisors);
// for one of no team, every operator of the tenant.
func escalate(tx *gorm.DB, t Ticket, now time.Time) ([]switchboard.Event, error) {
	to, err := escalationRooms(tx, t)
	if err != nil {
		return nil, err
	}
	at := now.UnixMilli()
	waiting := State{t.Status, t.HandlerID, t.Team}
	if err := audit(tx, t.ID, ActionEscalate, automationActor, waiting, waiting, at); err != nil {
		return nil, err
	}
	waited := (at - t.CreatedAt) / 1000
	evs := []switchboard.Event{{Name: "ticketEscalated",
		Args: []any{map[string]any{"ticketId": t.ID, "waitingSeconds": waited}},
		To:   to, SessionID: t.ID}}
	chats := chat.StoreIn(tx)
	sess, found, err := chats.FindSession(t.Tenant, t.ID)
	if err != nil || !found {
		return evs, err
	}
	text := fmt.Sprintf("Switchboard escalated the ticket: nobody has accepted it for %s", time.Duration(waited)*time.Second)
	_, more, err := chats.Notify(sess, automationActor, "Switchboard", text, string(ActionEscalate), at)
	return append(evs, more...), err
}

// escalationRooms are the rooms told of t's escalation.
func escalationRooms(tx *gorm.DB, t Ticket) ([]string, error) {
	if t.Team == "" {
		return []string{switchboard.OperatorsRoom(t.Tenant)}, nil
	}
	team, _, err := operators.FindTeam(tx, t.Tenant, t.Team)
	if err != nil {
		return nil, err
	}
	rooms := []string{switchboard.AdminsRoom(t.Tenant)}
	for _, id := range team.Members {
		rooms = append(rooms, switchboard.OperatorRoom(t.Tenant, id))
	}
	return rooms, nil
}

package tickets

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// ActionRemind records in the audit trail that the handler of an open
// ticket was reminded of a user waiting for a reply. Like ActionEscalate
// it changes nothing of the ticket: the row is the marker that makes one
// reminder per waiting spell.
const ActionRemind Action = "remind"

// A waiting spell is the time a user waits for a reply: it starts with
// the owner's first message after the last reply of an operator (or the
// ticket's first message) and ends with the next reply. It is counted
// from its first message, not its last: a user who writes again and
// again has waited longer, not less. Reading the messages does not end
// it; only a reply does.

// Remind reminds the handlers of up to limit open tickets whose owner
// has been waiting for a reply for wait or more and whose handler was not
// reminded in this waiting spell: the handler hears ticketReminder and
// the audit trail gets a remind row, dated now, which marks the spell.
// Unlike AutoClose and Escalate it leaves no system message in the
// conversation: the conversation is shared with the user, and a message
// has no way to be shown to operators only, so a note that the operator
// was reminded would be shown to the user waiting. Like them it runs in
// the caller's transaction and returns the events and how many handlers
// it reminded.
func (s *Service) Remind(tx *gorm.DB, now time.Time, wait time.Duration, limit int) ([]switchboard.Event, int, error) {
	if ok, err := oneAtATime(tx, "remind"); !ok || err != nil {
		return nil, 0, err
	}
	spells, err := waitingSpells(tx, now.Add(-wait).UnixMilli(), limit)
	if err != nil {
		return nil, 0, err
	}
	var evs []switchboard.Event
	reminded := 0
	for _, w := range spells {
		t, found, err := findTicketAnyTenant(tx, w.ID)
		if err != nil {
			return nil, 0, fmt.Errorf("reminding the handler of ticket %s: %w", w.ID, err)
		}
		if !found || t.Status != StatusOpen || t.HandlerID == "" {
			continue
		}
		at := now.UnixMilli()
		state := State{t.Status, t.HandlerID, t.Team}
		if err := audit(tx, t.ID, ActionRemind, automationActor, state, state, at); err != nil {
			return nil, 0, fmt.Errorf("reminding the handler of ticket %s: %w", t.ID, err)
		}
		evs = append(evs, switchboard.Event{Name: "ticketReminder",
			Args: []any{map[string]any{"ticketId": t.ID, "waitingSeconds": (at - w.Started) / 1000,
				"waitingSince": chat.FormatMillis(w.Started)}},
			To: []string{switchboard.OperatorRoom(t.Tenant, t.HandlerID)}, SessionID: t.ID})
		reminded++
	}
	return evs, reminded, nil
}

// waitingSpell is an open ticket whose owner waits for a reply since
// Started (Unix ms, the spell's first message).
type waitingSpell struct {
	ID      string `gorm:"column:id"`
	Started int64  `gorm:"column:started"`
}

// waitingSpells lists, oldest first, up to limit open tickets with a
// handler whose owner's waiting spell started at or before cutoff and
// has no remind row since it started. The reminder is dated at the
// slot's time, later than the spell's start by at least the wait, so a
// spell's own reminder always counts and one of an earlier spell never
// does.
func waitingSpells(tx *gorm.DB, cutoff int64, limit int) ([]waitingSpell, error) {
	var out []waitingSpell
	err := tx.Raw(`SELECT w.id, w.started FROM (
			SELECT t.id AS id, MIN(m.created_at) AS started
			FROM tickets t JOIN messages m ON m.session_id = t.id
			WHERE t.status = ? AND t.handler_id <> '' AND m.kind = ? AND m.sender_id = t.owner_id
			AND m.seq > COALESCE((SELECT MAX(r.seq) FROM messages r
				WHERE r.session_id = t.id AND r.kind = ? AND r.sender_id <> t.owner_id), 0)
			GROUP BY t.id) w
		WHERE w.started <= ?
		AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = w.id AND e.action = ? AND e.at >= w.started)
		ORDER BY w.started, w.id LIMIT ?`,
		StatusOpen, chat.KindUser, chat.KindUser, cutoff, ActionRemind, limit).Scan(&out).Error
	return out, err
}

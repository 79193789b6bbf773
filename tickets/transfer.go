package tickets

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/operators"
)

// MaxTransferNoteBytes bounds a transfer's note.
const MaxTransferNoteBytes = 4 << 10

// Transfer is where an operator passes a ticket on: to a team (Team) or
// to a person (OperatorID), exactly one, with an optional note for
// whoever takes it: an internal note, which only operators see.
type Transfer struct {
	Team       string
	OperatorID string
	Note       string
}

// TransferTicket passes ticket id on, through the state machine. To a
// person it is a reassignment (an assign in the audit trail, the events of
// assignTicket). To a team the ticket takes that team and goes back to
// the queue, the team's, with no handler (a transfer in the audit trail,
// ticketStatusUpdated(id, 100) if it was open); routing then runs. Either
// way the move is written into the conversation as its system message,
// the note (if any) is the ticket's internal note by the caller (only
// operators see it: not in the system message, which a chat-protocol
// owner receives), and operators hear ticketTransferred and noteAdded. Only the handler or an
// administrator may transfer an open ticket; any operator a waiting one.
// The team must exist (NOT_FOUND), the person be an operator of the
// tenant (NOT_FOUND); a person need not belong to the ticket's team,
// which the ticket keeps.
func (s *Service) TransferTicket(c Caller, id string, tr Transfer, done database.Done) {
	if !isOperator(c) {
		done.Call(switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may transfer a ticket"))
		return
	}
	if (tr.Team == "") == (tr.OperatorID == "") {
		done.Call(switchboard.Errorf(switchboard.EINVALID, "transfer to a team or to an operator, exactly one"))
		return
	}
	if tr.Note != "" {
		if err := checkNote(tr.Note); err != nil {
			done.Call(err)
			return
		}
	}
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		t, found, err := findTicket(tx, c.Tenant(), id)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no ticket %s", id)
		}
		if err := teamExists(tx, c.Tenant(), tr.Team); err != nil {
			return nil, err
		}
		cmd := Command{Kind: CmdTransfer, Target: tr.OperatorID, Team: tr.Team}
		evs, err := s.change(tx, c, t, cmd)
		if err != nil || len(evs) == 0 { // refused, or already there
			return nil, err
		}
		if t, _, err = findTicket(tx, c.Tenant(), id); err != nil {
			return nil, err
		}
		evs = append(evs, switchboard.Event{Name: "ticketTransferred", SessionID: t.ID,
			To: []string{switchboard.OperatorsRoom(t.Tenant)},
			Args: []any{t.Wire(), map[string]any{"teamId": tr.Team, "operatorId": tr.OperatorID, "note": tr.Note,
				"byId": c.UserID, "byNm": c.Name}}})
		if tr.Note == "" {
			return evs, nil
		}
		_, _, noted, err := addNote(tx, c, t, "", tr.Note, s.millis())
		return append(evs, noted...), err
	}, s.routeAfter(c.Tenant(), done))
}

// transferText is the transfer's system message. It leaves the note
// out: system messages reach chat-protocol owners; the note is an
// internal note.
func transferText(c Caller, t Ticket, cmd Command) string {
	if cmd.Team != "" {
		return c.Name + " transferred the ticket to the team " + cmd.Team + "; it waits in the team's queue"
	}
	return c.Name + " transferred the ticket to " + t.HandlerName
}

// teamExists refuses a team tenant does not have ("" is no team: fine).
func teamExists(tx *gorm.DB, tenant, team string) error {
	if team == "" {
		return nil
	}
	_, found, err := operators.FindTeam(tx, tenant, team)
	if err == nil && !found {
		err = switchboard.Errorf(switchboard.ENOTFOUND, "no team %s", team)
	}
	return err
}

// LeaveTeam gives every ticket still for a team being deleted back to no
// team, keeping its status and handler: a waiting one then waits for any
// operator. Each is audited (a transfer by the administrator, from the
// team to none), gets a system message, and operators hear
// ticketTransferred. It runs in the deleting transaction
// (operators.TeamsOptions.Disbanded); closed tickets keep their team as
// history.
func (s *Service) LeaveTeam(tx *gorm.DB, by switchboard.Principal, team string, now int64) ([]switchboard.Event, error) {
	var ts []Ticket
	if err := tx.Raw(`SELECT `+ticketColumns+` FROM tickets WHERE tenant = ? AND team_id = ? AND status <> ?
		ORDER BY created_at, id`, by.Tenant, team, StatusClosed).Scan(&ts).Error; err != nil {
		return nil, err
	}
	var evs []switchboard.Event
	chats := chat.StoreIn(tx)
	for _, t := range ts {
		if err := tx.Exec(`UPDATE tickets SET team_id = '', updated_at = ? WHERE id = ?`, now, t.ID).Error; err != nil {
			return nil, err
		}
		from := State{t.Status, t.HandlerID, t.Team}
		if err := audit(tx, t.ID, ActionTransfer, by.ID, from, from.withTeam(""), now); err != nil {
			return nil, err
		}
		t.Team, t.UpdatedAt = "", now
		evs = append(evs, switchboard.Event{Name: "ticketTransferred", SessionID: t.ID,
			To: []string{switchboard.OperatorsRoom(t.Tenant)},
			Args: []any{t.Wire(), map[string]any{"teamId": "", "operatorId": "", "note": "",
				"byId": by.ID, "byNm": by.DisplayName}}})
		sess, found, err := chats.FindSession(t.Tenant, t.ID)
		if err != nil {
			return nil, err
		}
		if found {
			_, more, err := chats.Notify(sess, by.ID, by.DisplayName, by.DisplayName+" deleted the team "+team+
				"; the ticket is for no team now", string(ActionTransfer), now)
			if err != nil {
				return nil, err
			}
			evs = append(evs, more...)
		}
	}
	return evs, nil
}

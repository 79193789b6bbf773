package tickets

import (
	"database/sql"
	"errors"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// ticketColumns are a Ticket's columns in scanTicket's order. Loading a
// ticket is on the path of every message and status change: a prepared
// statement scanned field by field, not a gorm query.
const ticketColumns = `id, tenant, status, owner_id, owner_name, handler_id, handler_name, program_id,
	is_external, display_name, ticket_name, awaiting_response, created_at, accepted_at, closed_at,
	last_response_at, updated_at, team_id, rating_score, rating_comment, rated_at`

func scanTicket(row database.Row) (t Ticket, found bool, err error) {
	err = row.Scan(&t.ID, &t.Tenant, &t.Status, &t.OwnerID, &t.OwnerName, &t.HandlerID, &t.HandlerName,
		&t.ProgramID, &t.IsExternal, &t.DisplayName, &t.TicketName, &t.AwaitingResponse, &t.CreatedAt,
		&t.AcceptedAt, &t.ClosedAt, &t.LastResponseAt, &t.UpdatedAt, &t.Team, &t.RatingScore, &t.RatingComment, &t.RatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, false, nil
	}
	return t, err == nil, err
}

// findTicket loads a ticket of tenant, or found=false.
func findTicket(db *gorm.DB, tenant, id string) (t Ticket, found bool, err error) {
	return scanTicket(database.QueryRow(db, `SELECT `+ticketColumns+` FROM tickets WHERE id = ? AND tenant = ?`, id, tenant))
}

// findReceipt loads what a status change needs of a message on a ticket:
// the message's routing fields and its ticket's owner and program (who
// may see it), in one statement. A message outside every ticket (a plain
// chat session's) is not found: the livechat protocol does not reach it.
func findReceipt(db *gorm.DB, tenant, messageID string) (m chat.Message, t Ticket, found bool, err error) {
	err = database.QueryRow(db, `SELECT m.seq, m.id, m.session_id, m.tenant, m.sender_id, m.recipient_id,
		m.status_id, t.owner_id, t.program_id
		FROM messages m JOIN tickets t ON t.id = m.session_id AND t.tenant = m.tenant
		WHERE m.id = ? AND m.tenant = ?`, messageID, tenant).
		Scan(&m.Seq, &m.ID, &m.SessionID, &m.Tenant, &m.SenderID, &m.RecipientID, &m.StatusID,
			&t.OwnerID, &t.ProgramID)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Message{}, Ticket{}, false, nil
	}
	t.ID, t.Tenant = m.SessionID, m.Tenant
	return m, t, err == nil, err
}

// findTicketAnyTenant is for id uniqueness checks only: a ticket id is a
// global key, whoever holds it.
func findTicketAnyTenant(db *gorm.DB, id string) (t Ticket, found bool, err error) {
	return scanTicket(database.QueryRow(db, `SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id))
}

// applyTransition writes a decided transition if and only if the ticket is
// still in the state the decision was made on. This conditional update is
// what settles races between nodes: of two operators accepting the same
// ticket, exactly one update matches.
func applyTransition(tx *gorm.DB, t *Ticket, from State, out Outcome, handlerName string, now int64) error {
	acceptedAt, closedAt := t.AcceptedAt, t.ClosedAt
	switch out.Action {
	case ActionAccept, ActionAssign, ActionHijack:
		if acceptedAt == 0 || out.Action == ActionAccept {
			acceptedAt = now
		}
	case ActionClose, ActionReject:
		closedAt = now
	case ActionReopen:
		closedAt = 0
	case ActionDecline, ActionTransfer:
		if out.State.Status == StatusNew {
			acceptedAt = 0 // waiting again: it was not taken
		}
	}
	res := tx.Model(&Ticket{}).
		Where("id = ? AND status = ? AND handler_id = ? AND team_id = ?", t.ID, from.Status, from.Handler, from.Team).
		Updates(map[string]any{
			"status":       out.State.Status,
			"handler_id":   out.State.Handler,
			"handler_name": handlerName,
			"accepted_at":  acceptedAt,
			"closed_at":    closedAt,
			"updated_at":   now,
			"team_id":      out.State.Team,
		})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return switchboard.Errorf(switchboard.ECONFLICT, "the ticket changed meanwhile; reload it")
	}
	t.Status, t.HandlerID, t.HandlerName, t.UpdatedAt = out.State.Status, out.State.Handler, handlerName, now
	t.AcceptedAt, t.ClosedAt, t.Team = acceptedAt, closedAt, out.State.Team
	return nil
}

// auditRow is one ticket_events row.
type auditRow struct {
	ID          int64  `gorm:"column:id;primaryKey;autoIncrement"`
	TicketID    string `gorm:"column:ticket_id"`
	Action      Action `gorm:"column:action"`
	ActorID     string `gorm:"column:actor_id"`
	FromStatus  Status `gorm:"column:from_status"`
	ToStatus    Status `gorm:"column:to_status"`
	FromHandler string `gorm:"column:from_handler"`
	ToHandler   string `gorm:"column:to_handler"`
	FromTeam    string `gorm:"column:from_team"`
	ToTeam      string `gorm:"column:to_team"`
	At          int64  `gorm:"column:at"`
}

func (auditRow) TableName() string { return "ticket_events" }

// audit records who moved a ticket from what to what.
func audit(tx *gorm.DB, ticketID string, action Action, actorID string, from, to State, now int64) error {
	return tx.Create(&auditRow{TicketID: ticketID, Action: action, ActorID: actorID,
		FromStatus: from.Status, ToStatus: to.Status, FromHandler: from.Handler, ToHandler: to.Handler,
		FromTeam: from.Team, ToTeam: to.Team, At: now}).Error
}

// AuditEntry is one recorded transition, oldest first.
type AuditEntry = auditRow

// AuditTrail returns a ticket's recorded transitions in order.
func AuditTrail(db *gorm.DB, ticketID string) ([]AuditEntry, error) {
	var out []AuditEntry
	return out, db.Where("ticket_id = ?", ticketID).Order("id").Find(&out).Error
}

// TicketFilter selects tickets for a listing.
type TicketFilter struct {
	Tenant    string
	Status    Status // 0 = any
	OwnerID   string // "" = any
	ProgramID string // "" = any
	HandlerID string // "" = any
	// UpdatedSince keeps tickets updated at or after it (0 = any).
	UpdatedSince int64
	// Label keeps tickets that carry this label ("" = any).
	Label string
	Limit int
	// After, when set, lists only the tickets after that one in the
	// listing's order (newest first, then by id).
	After *ticketCursor
}

func listTickets(db *gorm.DB, f TicketFilter) ([]Ticket, error) {
	q := db.Where("tenant = ?", f.Tenant)
	if f.Status != 0 {
		q = q.Where("status = ?", f.Status)
	}
	if f.OwnerID != "" {
		q = q.Where("owner_id = ?", f.OwnerID)
	}
	if f.ProgramID != "" {
		q = q.Where("program_id = ?", f.ProgramID)
	}
	if f.HandlerID != "" {
		q = q.Where("handler_id = ?", f.HandlerID)
	}
	if f.UpdatedSince != 0 {
		q = q.Where("updated_at >= ?", f.UpdatedSince)
	}
	if f.Label != "" {
		q = q.Where("EXISTS (SELECT 1 FROM ticket_labels l WHERE l.ticket_id = tickets.id AND l.label_id = ?)", f.Label)
	}
	if f.After != nil {
		q = q.Where("(created_at < ? OR (created_at = ? AND id > ?))", f.After.CreatedAt, f.After.CreatedAt, f.After.ID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []Ticket
	return out, q.Order("created_at DESC, id").Find(&out).Error
}

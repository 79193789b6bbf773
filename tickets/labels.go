package tickets

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/labels"
)

// A ticket's labels are its own state: putting one on is a change of the
// ticket, authorized against it, audited in its trail and announced to
// operators (the only ones who see labels). The catalogue of labels is
// package labels'.

// Audit actions of labelling: the ticket's state is the same before and
// after, the label is the change.
const (
	ActionLabel   Action = "label"
	ActionUnlabel Action = "unlabel"
)

// ticketLabel is one ticket_labels row.
type ticketLabel struct {
	TicketID string `gorm:"column:ticket_id;primaryKey"`
	LabelID  string `gorm:"column:label_id;primaryKey"`
	Tenant   string `gorm:"column:tenant"`
	AddedAt  int64  `gorm:"column:added_at"`
}

func (ticketLabel) TableName() string { return "ticket_labels" }

// LabelTicket puts label on ticket id (on) or takes it off: operators
// only. Doing what is done already changes nothing and announces
// nothing. It returns the ticket with its labels.
func (s *Service) LabelTicket(ctx context.Context, c Caller, id, label string, on bool) (Ticket, error) {
	if !isOperator(c) {
		return Ticket{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators label tickets")
	}
	now := s.millis()
	var t Ticket
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		var err error
		if t, err = see(tx, c, id); err != nil {
			return nil, err
		}
		if err := labels.MustExist(tx, c.Tenant(), label); err != nil {
			return nil, err
		}
		var res *gorm.DB
		if on {
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).
				Create(&ticketLabel{TicketID: t.ID, LabelID: label, Tenant: t.Tenant, AddedAt: now})
		} else {
			res = tx.Where("ticket_id = ? AND label_id = ?", t.ID, label).Delete(&ticketLabel{})
		}
		if res.Error != nil {
			return nil, res.Error
		}
		ts := []Ticket{t}
		if err := withLabels(tx, ts); err != nil {
			return nil, err
		}
		t = ts[0]
		if res.RowsAffected == 0 {
			return nil, nil
		}
		action := ActionUnlabel
		if on {
			action = ActionLabel
		}
		state := State{t.Status, t.HandlerID, t.Team}
		if err := audit(tx, t.ID, action, c.UserID, state, state, now); err != nil {
			return nil, err
		}
		return []switchboard.Event{labelsEvent(t)}, nil
	})
	return t, err
}

// labelsEvent tells operators a ticket's labels now.
func labelsEvent(t Ticket) switchboard.Event {
	return switchboard.Event{Name: "ticketLabelsUpdated",
		Args:      []any{map[string]any{"ticketId": t.ID, "labels": t.Labels}},
		To:        []string{switchboard.OperatorsRoom(t.Tenant)},
		SessionID: t.ID}
}

// DropLabel takes a deleted label off every ticket of the tenant, inside
// the transaction that deletes it (labels.Options.Removed), with an
// audit row and a ticketLabelsUpdated for each ticket that carried it.
func DropLabel(tx *gorm.DB, by switchboard.Principal, label string, now int64) ([]switchboard.Event, error) {
	var ids []string
	if err := tx.Model(&ticketLabel{}).Where("tenant = ? AND label_id = ?", by.Tenant, label).
		Order("ticket_id").Pluck("ticket_id", &ids).Error; err != nil || len(ids) == 0 {
		return nil, err
	}
	if err := tx.Where("tenant = ? AND label_id = ?", by.Tenant, label).Delete(&ticketLabel{}).Error; err != nil {
		return nil, err
	}
	var ts []Ticket
	if err := tx.Raw(`SELECT `+ticketColumns+` FROM tickets WHERE tenant = ? AND id IN ? ORDER BY id`, by.Tenant, ids).
		Scan(&ts).Error; err != nil {
		return nil, err
	}
	if err := withLabels(tx, ts); err != nil {
		return nil, err
	}
	evs := make([]switchboard.Event, 0, len(ts))
	for _, t := range ts {
		state := State{t.Status, t.HandlerID, t.Team}
		if err := audit(tx, t.ID, ActionUnlabel, by.ID, state, state, now); err != nil {
			return nil, err
		}
		evs = append(evs, labelsEvent(t))
	}
	return evs, nil
}

// withLabels sets the Labels of ts (never nil after), in the order they
// were put on, with one query.
func withLabels(db *gorm.DB, ts []Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]string, len(ts))
	for i := range ts {
		ids[i] = ts[i].ID
		ts[i].Labels = []string{}
	}
	var rows []ticketLabel
	if err := db.Where("ticket_id IN ?", ids).Order("added_at, label_id").Find(&rows).Error; err != nil {
		return err
	}
	at := make(map[string]int, len(ts))
	for i := range ts {
		at[ts[i].ID] = i
	}
	for _, r := range rows {
		if i, ok := at[r.TicketID]; ok {
			ts[i].Labels = append(ts[i].Labels, r.LabelID)
		}
	}
	return nil
}

// OpenLabelCounts counts the new or open tickets of tenant carrying each
// label (labels.Options.OpenCounts).
func (s *Service) OpenLabelCounts(ctx context.Context, tenant string) (map[string]int, error) {
	var rows []struct {
		LabelID string `gorm:"column:label_id"`
		N       int    `gorm:"column:n"`
	}
	err := s.db.WithContext(ctx).Raw(`SELECT l.label_id, COUNT(*) AS n FROM ticket_labels l
		JOIN tickets t ON t.id = l.ticket_id
		WHERE l.tenant = ? AND t.status IN (?, ?) GROUP BY l.label_id`, tenant, StatusNew, StatusOpen).Scan(&rows).Error
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.LabelID] = r.N
	}
	return out, err
}

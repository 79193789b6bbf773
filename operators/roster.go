package operators

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// Operator is one operator as the roster shows it.
type Operator struct {
	ID          string
	DisplayName string
	Status      string
	Online      bool
}

// Roster lists the operators Switchboard knows (every operator that has
// authenticated once) with their status and presence.
type Roster struct {
	db        *database.DB
	committer *database.Committer
	presence  *Presence
	// statusEvents, when set, are the events of a status change (the chat
	// protocol's statusChanged to the users sharing a session).
	statusEvents StatusEvents
}

// StatusEvents are the events of an operator's status change, returned
// inside its transaction (chat.Service's StatusEvents: the chat
// protocol's statusChanged to the users sharing a session).
type StatusEvents func(tx *gorm.DB, tenant, id, before string) ([]switchboard.Event, error)

// NewRoster returns the roster over db, writing through committer;
// statusEvents (may be nil) are published with each status change.
func NewRoster(db *database.DB, committer *database.Committer, presence *Presence, statusEvents StatusEvents) *Roster {
	return &Roster{db: db, committer: committer, presence: presence, statusEvents: statusEvents}
}

// OperatorPage selects one page of List.
type OperatorPage struct {
	// Limit is how many operators at most: 0 is switchboard.DefaultPageLimit,
	// more than switchboard.MaxPageLimit is that.
	Limit int
	// Cursor is where the page starts: "" for the first, else a cursor an
	// earlier page returned.
	Cursor string
}

// operatorCursor is the last operator of a page in List's order.
type operatorCursor struct {
	Name string `json:"n"`
	ID   string `json:"id"`
}

// List returns a page of a tenant's operators by name, and the cursor of
// the next page ("" on the last). An INVISIBLE operator is shown offline,
// except to itself.
func (r *Roster) List(ctx context.Context, viewer switchboard.Principal, p OperatorPage) ([]Operator, string, error) {
	limit := switchboard.ClampPageLimit(p.Limit)
	q := r.db.WithContext(ctx).Where("tenant = ? AND role = ?", viewer.Tenant, string(switchboard.RoleOperator))
	if p.Cursor != "" {
		var after operatorCursor
		if err := switchboard.DecodeCursor(p.Cursor, &after); err != nil {
			return nil, "", err
		}
		q = q.Where("(full_name > ? OR (full_name = ? AND id > ?))", after.Name, after.Name, after.ID)
	}
	var users []chat.User
	if err := q.Order("full_name, id").Limit(limit + 1).Find(&users).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(users) > limit {
		users = users[:limit]
		last := users[limit-1]
		next = switchboard.EncodeCursor(operatorCursor{Name: last.FullName, ID: last.ID})
	}
	out := make([]Operator, len(users))
	for i, u := range users {
		online := r.presence.Online(u.Tenant, u.ID)
		status := u.Status
		if status == chat.Invisible && u.ID != viewer.ID {
			online, status = false, "AVAILABLE"
		}
		out[i] = Operator{ID: u.ID, DisplayName: u.DisplayName(), Status: status, Online: online}
	}
	return out, next, nil
}

// SetStatus records the caller's own status. An operator who goes AWAY
// keeps its tickets; others see it away.
func (r *Roster) SetStatus(ctx context.Context, p switchboard.Principal, status string) error {
	status = strings.ToUpper(status)
	if !chat.ValidUserStatus(status) {
		return switchboard.Errorf(switchboard.EINVALID, "status must be one of %s", strings.Join(chat.UserStatuses, ", "))
	}
	return r.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		var before string
		if err := tx.Model(&chat.User{}).Select("status").Where("tenant = ? AND id = ?", p.Tenant, p.ID).
			Limit(1).Scan(&before).Error; err != nil {
			return nil, err
		}
		if err := tx.Model(&chat.User{}).Where("tenant = ? AND id = ?", p.Tenant, p.ID).Update("status", status).Error; err != nil {
			return nil, err
		}
		if r.statusEvents == nil || before == status {
			return nil, nil
		}
		return r.statusEvents(tx, p.Tenant, p.ID, before)
	})
}

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
	// Capacity is the most open tickets routing gives the operator.
	Capacity int
	// Load is how many open tickets the operator handles now.
	Load int
}

// Roster lists the operators Switchboard knows (every operator that has
// authenticated once) with their status and presence.
type Roster struct {
	db        *database.DB
	committer *database.Committer
	presence  *Presence
	opts      RosterOptions
}

// RosterOptions configure a Roster. Zero values work.
type RosterOptions struct {
	// StatusEvents, when set, are the events of a status change (the chat
	// protocol's statusChanged to the users sharing a session).
	StatusEvents StatusEvents
	// MayTakeMore, when set, hears (after commit) of an operator who may
	// take more tickets now: it became AVAILABLE or got a higher capacity.
	// Routing runs the tenant's queue again.
	MayTakeMore func(tenant string)
	// DefaultCapacity is the capacity of an operator without its own, as
	// the roster shows it (0: none shown).
	DefaultCapacity int
}

// StatusEvents are the events of an operator's status change, returned
// inside its transaction (chat.Service's StatusEvents: the chat
// protocol's statusChanged to the users sharing a session).
type StatusEvents func(tx *gorm.DB, tenant, id, before string) ([]switchboard.Event, error)

// NewRoster returns the roster over db, writing through committer.
func NewRoster(db *database.DB, committer *database.Committer, presence *Presence, opts RosterOptions) *Roster {
	return &Roster{db: db, committer: committer, presence: presence, opts: opts}
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
		out[i] = Operator{ID: u.ID, DisplayName: u.DisplayName(), Status: status, Online: online,
			Capacity: r.opts.DefaultCapacity}
	}
	if err := r.capacities(ctx, viewer.Tenant, out); err != nil {
		return nil, "", err
	}
	return out, next, r.loads(ctx, viewer.Tenant, out)
}

// loads sets each operator's Load: the open tickets it handles.
func (r *Roster) loads(ctx context.Context, tenant string, ops []Operator) error {
	if len(ops) == 0 {
		return nil
	}
	ids := make([]string, len(ops))
	for i, o := range ops {
		ids[i] = o.ID
	}
	var rows []struct {
		ID   string `gorm:"column:handler_id"`
		Open int    `gorm:"column:open"`
	}
	if err := r.db.WithContext(ctx).Raw(`SELECT handler_id, COUNT(*) AS open FROM tickets
		WHERE tenant = ? AND status = 200 AND handler_id IN ? GROUP BY handler_id`, tenant, ids).Scan(&rows).Error; err != nil {
		return err
	}
	byID := make(map[string]int, len(rows))
	for _, row := range rows {
		byID[row.ID] = row.Open
	}
	for i := range ops {
		ops[i].Load = byID[ops[i].ID]
	}
	return nil
}

// SetStatus records the caller's own status. An operator who goes AWAY
// keeps its tickets; others see it away.
func (r *Roster) SetStatus(ctx context.Context, p switchboard.Principal, status string) error {
	status = strings.ToUpper(status)
	if !chat.ValidUserStatus(status) {
		return switchboard.Errorf(switchboard.EINVALID, "status must be one of %s", strings.Join(chat.UserStatuses, ", "))
	}
	var before string
	err := r.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		if err := tx.Model(&chat.User{}).Select("status").Where("tenant = ? AND id = ?", p.Tenant, p.ID).
			Limit(1).Scan(&before).Error; err != nil {
			return nil, err
		}
		if err := tx.Model(&chat.User{}).Where("tenant = ? AND id = ?", p.Tenant, p.ID).Update("status", status).Error; err != nil {
			return nil, err
		}
		if r.opts.StatusEvents == nil || before == status {
			return nil, nil
		}
		return r.opts.StatusEvents(tx, p.Tenant, p.ID, before)
	})
	if err == nil && status == "AVAILABLE" && before != status && r.opts.MayTakeMore != nil {
		r.opts.MayTakeMore(p.Tenant)
	}
	return err
}

// MaxCapacity bounds an operator's capacity.
const MaxCapacity = 1000

// SetCapacity sets how many open tickets routing gives operator id of
// the caller's tenant at once (0: the server's default). An operator may
// set its own; an administrator anyone's.
func (r *Roster) SetCapacity(ctx context.Context, p switchboard.Principal, id string, capacity int) error {
	if capacity < 0 || capacity > MaxCapacity {
		return switchboard.Errorf(switchboard.EINVALID, "capacity must be 0 (the default) to %d", MaxCapacity)
	}
	if id != p.ID && !p.Admin {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only an administrator sets another operator's capacity")
	}
	err := r.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		res := tx.Exec(`UPDATE users SET capacity = ? WHERE tenant = ? AND id = ? AND role = ?`,
			capacity, p.Tenant, id, string(switchboard.RoleOperator))
		if res.Error == nil && res.RowsAffected == 0 {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no operator %s", id)
		}
		return nil, res.Error
	})
	if err == nil && r.opts.MayTakeMore != nil {
		r.opts.MayTakeMore(p.Tenant)
	}
	return err
}

// capacities fills in the operators' own capacities.
func (r *Roster) capacities(ctx context.Context, tenant string, ops []Operator) error {
	if len(ops) == 0 {
		return nil
	}
	ids := make([]string, len(ops))
	for i, o := range ops {
		ids[i] = o.ID
	}
	var own []struct {
		ID       string `gorm:"column:id"`
		Capacity int    `gorm:"column:capacity"`
	}
	if err := r.db.WithContext(ctx).Raw(`SELECT id, capacity FROM users WHERE tenant = ? AND id IN ? AND capacity > 0`,
		tenant, ids).Scan(&own).Error; err != nil {
		return err
	}
	byID := make(map[string]int, len(own))
	for _, o := range own {
		byID[o.ID] = o.Capacity
	}
	for i := range ops {
		if c, ok := byID[ops[i].ID]; ok {
			ops[i].Capacity = c
		}
	}
	return nil
}

package operators

import (
	"context"
	"time"

	"github.com/switchboard-chat/switchboard"
)

// Overview is what a supervisor watches: every operator with the tickets
// it handles, and the queue. Taking a ticket over or reassigning it are
// the tickets' own commands (assignTicket), not the overview's.
type Overview struct {
	Operators []Watched
	Queue     []Waiting
}

// Watched is one operator of the overview: the roster's view and the ids
// of the open tickets it handles, oldest first.
type Watched struct {
	Operator
	Tickets []string
}

// Waiting is one ticket of the queue.
type Waiting struct {
	TicketID, TicketName, OwnerName, Team string
	// Since is when the ticket was created (Unix milliseconds).
	Since int64
	// WaitingSeconds is how long it has waited, in whole seconds.
	WaitingSeconds int64 `gorm:"-"`
}

// Overview returns the tenant's operators (at most a page of
// switchboard.MaxPageLimit, by name) with their open tickets, and the
// waiting tickets oldest first (as many). Supervisors and administrators
// only.
func (r *Roster) Overview(ctx context.Context, p switchboard.Principal) (Overview, error) {
	if !p.IsSupervisor() {
		return Overview{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only supervisors see the overview")
	}
	ops, _, err := r.List(ctx, p, OperatorPage{Limit: switchboard.MaxPageLimit})
	if err != nil {
		return Overview{}, err
	}
	db := r.db.WithContext(ctx)
	var open []struct {
		HandlerID string `gorm:"column:handler_id"`
		ID        string `gorm:"column:id"`
	}
	if err := db.Raw(`SELECT handler_id, id FROM tickets WHERE tenant = ? AND status = 200
		ORDER BY created_at, id`, p.Tenant).Scan(&open).Error; err != nil {
		return Overview{}, err
	}
	byHandler := map[string][]string{}
	for _, t := range open {
		byHandler[t.HandlerID] = append(byHandler[t.HandlerID], t.ID)
	}
	out := Overview{Operators: make([]Watched, len(ops)), Queue: []Waiting{}}
	for i, o := range ops {
		out.Operators[i] = Watched{Operator: o, Tickets: byHandler[o.ID]}
		if out.Operators[i].Tickets == nil {
			out.Operators[i].Tickets = []string{}
		}
	}
	err = db.Raw(`SELECT id AS ticket_id, ticket_name, owner_name, team_id AS team, created_at AS since
		FROM tickets WHERE tenant = ? AND status = 100 ORDER BY created_at, id LIMIT ?`,
		p.Tenant, switchboard.MaxPageLimit).Scan(&out.Queue).Error
	now := time.Now().UnixMilli()
	for i, w := range out.Queue {
		out.Queue[i].WaitingSeconds = max(0, (now-w.Since)/1000)
	}
	return out, err
}

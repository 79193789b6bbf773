package tickets

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/operators"
)

// RoutingMode says how waiting tickets reach operators.
type RoutingMode string

const (
	// RoutingManual leaves new tickets in the queue for operators to
	// accept by hand.
	RoutingManual RoutingMode = "manual"
	// RoutingLeastBusy gives each waiting ticket to the operator with the
	// fewest open tickets; of equals, the one routing served longest ago.
	RoutingLeastBusy RoutingMode = "least-busy"
	// RoutingRoundRobin gives waiting tickets to operators in turn.
	RoutingRoundRobin RoutingMode = "round-robin"
)

// ParseRoutingMode reads a routing mode; "" is manual.
func ParseRoutingMode(s string) (RoutingMode, error) {
	switch m := RoutingMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", RoutingManual:
		return RoutingManual, nil
	case RoutingLeastBusy, RoutingRoundRobin:
		return m, nil
	}
	return "", fmt.Errorf("routing %q: want manual, least-busy or round-robin", s)
}

// DefaultCapacity is how many open tickets routing gives an operator at
// once when neither the server nor the operator says otherwise.
const DefaultCapacity = 3

// RoutingOptions configure the router. Zero values work (manual).
type RoutingOptions struct {
	Mode RoutingMode
	// Capacity is an operator's capacity unless its own is set.
	Capacity int
	// Presence says which operators are online (subscribed) on this node:
	// routing gives tickets to those only.
	Presence *operators.Presence
	// Sweep is how often every tenant with waiting tickets is routed
	// even without a trigger (default 10 s; negative: never). It catches
	// what this node hears of only indirectly: an operator who became
	// available through the chat protocol, a ticket closed on another node.
	Sweep  time.Duration
	Logger *slog.Logger
}

// routingActor is the id the system's assignments are recorded under.
const routingActor = "switchboard:routing"

// systemCaller is the caller Switchboard's own changes of tenant's
// tickets run as, recorded under actor (routingActor, automationActor).
func systemCaller(tenant, actor string) Caller {
	return Caller{Principal: switchboard.Principal{ID: actor, Role: RoleSystem, Tenant: tenant,
		DisplayName: "Switchboard"}, UserID: actor, Name: "Switchboard"}
}

// router runs "route the queue of tenant T" passes. A pass is one Op: it
// assigns what it can (unless routing is manual) and tells the owners of
// the tickets still waiting their new place in the queue. Triggers
// coalesce: while a tenant's pass runs, any number of triggers make one
// more pass after it.
type router struct {
	svc  *Service
	opts RoutingOptions
	log  *slog.Logger

	mu     sync.Mutex
	queues map[string]*queue
	closed bool
	stop   chan struct{}
	wg     sync.WaitGroup
}

// queue is one tenant's routing state on this node.
type queue struct {
	running, pending bool // under router.mu
	// told is what each waiting ticket's owner was last told; only the
	// tenant's running pass reads and replaces it.
	told map[string]placeInQueue
	// owners are the owners in told, and retell those to tell again
	// even if nothing changed (they connected again); under router.mu.
	owners, retell map[string]bool
}

// placeInQueue is what a waiting ticket's owner is told.
type placeInQueue struct {
	owner    string
	position int
	wait     int // estimated seconds; -1 = unknown
}

func newRouter(s *Service, opts RoutingOptions) *router {
	if opts.Mode == "" {
		opts.Mode = RoutingManual
	}
	if opts.Capacity <= 0 {
		opts.Capacity = DefaultCapacity
	}
	if opts.Presence == nil {
		opts.Presence = &operators.Presence{}
	}
	if opts.Sweep == 0 {
		opts.Sweep = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &router{svc: s, opts: opts, log: opts.Logger, queues: map[string]*queue{}, stop: make(chan struct{})}
	if opts.Mode != RoutingManual && opts.Sweep > 0 {
		r.wg.Add(1)
		go r.sweep()
	}
	return r
}

// route runs a pass over tenant's queue soon (nil: no routing). It never
// blocks: it may be called from the Committer's callbacks.
func (r *router) route(tenant string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	q := r.queues[tenant]
	if q == nil {
		q = &queue{}
		r.queues[tenant] = q
	}
	if q.running {
		q.pending = true
		return
	}
	q.running = true
	r.wg.Add(1)
	go r.drain(tenant, q)
}

// retell tells owner its waiting tickets' places again at the next pass
// (it has just connected), if it has any.
func (r *router) retell(tenant, owner string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	q := r.queues[tenant]
	known := q != nil && q.owners[owner]
	if known {
		if q.retell == nil {
			q.retell = map[string]bool{}
		}
		q.retell[owner] = true
	}
	r.mu.Unlock()
	if known {
		r.route(tenant)
	}
}

// drain runs passes until no trigger came in during the last one.
func (r *router) drain(tenant string, q *queue) {
	defer r.wg.Done()
	for {
		r.pass(tenant, q)
		r.mu.Lock()
		if !q.pending || r.closed {
			q.running = false
			r.mu.Unlock()
			return
		}
		q.pending = false
		r.mu.Unlock()
	}
}

// close stops the sweeps and waits for the passes under way.
func (r *router) close() {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.stop)
	r.mu.Unlock()
	r.wg.Wait()
}

// sweep routes every tenant with waiting tickets now and then.
func (r *router) sweep() {
	defer r.wg.Done()
	tick := time.NewTicker(r.opts.Sweep)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		var tenants []string
		if err := r.svc.db.Model(&Ticket{}).Distinct("tenant").Where("status = ?", StatusNew).
			Pluck("tenant", &tenants).Error; err != nil {
			r.log.Error("routing: listing the queues failed", "err", err)
			continue
		}
		for _, t := range tenants {
			r.route(t)
		}
	}
}

// pass assigns what it can and pushes the queue positions that changed.
func (r *router) pass(tenant string, q *queue) {
	r.mu.Lock()
	retell := q.retell
	q.retell = nil
	r.mu.Unlock()
	var told map[string]placeInQueue
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.svc.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		evs, err := r.assign(tx, tenant)
		if err != nil {
			return nil, err
		}
		var more []switchboard.Event
		told, more, err = r.positions(tx, tenant, q.told, retell)
		return append(evs, more...), err
	})
	if err != nil {
		r.log.Error("routing: a pass failed; the next trigger or sweep retries", "tenant", tenant, "err", err)
		return
	}
	q.told = told
	owners := make(map[string]bool, len(told))
	for _, p := range told {
		owners[p.owner] = true
	}
	r.mu.Lock()
	q.owners = owners
	r.mu.Unlock()
}

// candidate is an operator routing may give a ticket to.
type candidate struct {
	ID             string `gorm:"column:id"`
	Capacity       int    `gorm:"column:capacity"`
	LastAssignedAt int64  `gorm:"column:last_assigned_at"`
	Open           int    `gorm:"column:open"`
}

// assign gives waiting tickets, oldest first, to operators below their
// capacity. It counts each operator's open tickets inside the Op's
// transaction and assigns through the state machine, so the count it
// decides on is the count it commits on: on one node the Committer runs
// one Op at a time; nodes sharing PostgreSQL take a per-tenant
// transaction lock first. An assignment is a conditional update of a
// ticket still new: a ticket accepted meanwhile is never assigned twice.
func (r *router) assign(tx *gorm.DB, tenant string) ([]switchboard.Event, error) {
	if r.opts.Mode == RoutingManual {
		return nil, nil
	}
	if tx.Dialector.Name() == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "switchboard-routing:"+tenant).Error; err != nil {
			return nil, err
		}
	}
	ops, free, err := r.candidates(tx, tenant)
	if err != nil || free == 0 {
		return nil, err
	}
	teams, err := operators.TeamMembers(tx, tenant)
	if err != nil {
		return nil, err
	}
	waiting, err := r.waiting(tx, tenant, ops, free, teams)
	if err != nil {
		return nil, err
	}
	stamp := r.svc.millis()
	for _, o := range ops {
		stamp = max(stamp, o.LastAssignedAt+1)
	}
	sys := systemCaller(tenant, routingActor)
	var evs []switchboard.Event
	for _, t := range waiting {
		declined, err := declinedBy(tx, t.ID)
		if err != nil {
			return nil, err
		}
		var team map[string]bool // nil: anyone
		if t.Team != "" {
			team = teams[t.Team]
		}
		o := r.pick(ops, declined, t.Team != "", team)
		if o == nil {
			continue
		}
		more, err := r.svc.change(tx, sys, t, Command{Kind: CmdAssign, Target: o.ID})
		if err != nil {
			return nil, err
		}
		evs = append(evs, more...)
		o.Open++
		o.LastAssignedAt, stamp = stamp, stamp+1
		if err := tx.Exec(`UPDATE users SET last_assigned_at = ? WHERE tenant = ? AND id = ?`,
			o.LastAssignedAt, tenant, o.ID).Error; err != nil {
			return nil, err
		}
		if free--; free == 0 {
			break
		}
	}
	return evs, nil
}

// candidates are the tenant's operators who are AVAILABLE, online on this
// node and below capacity, with their open tickets counted now; free is
// how many tickets they can take in all.
func (r *router) candidates(tx *gorm.DB, tenant string) (ops []*candidate, free int, err error) {
	var all []*candidate
	if err := tx.Raw(`SELECT u.id, u.capacity, u.last_assigned_at,
		(SELECT COUNT(*) FROM tickets t WHERE t.tenant = u.tenant AND t.handler_id = u.id AND t.status = ?) AS open
		FROM users u WHERE u.tenant = ? AND u.role = ? AND u.status = 'AVAILABLE'`,
		StatusOpen, tenant, string(switchboard.RoleOperator)).Scan(&all).Error; err != nil {
		return nil, 0, err
	}
	for _, o := range all {
		if o.Capacity <= 0 {
			o.Capacity = r.opts.Capacity
		}
		if o.Open < o.Capacity && r.opts.Presence.Online(tenant, o.ID) {
			ops = append(ops, o)
			free += o.Capacity - o.Open
		}
	}
	return ops, free, nil
}

// waiting are the tickets one pass may assign, oldest first, read queue
// by queue: the tickets for no team, which any candidate may take, and
// each team's that has a candidate among its members. Each queue is read
// only as far as its candidates can take (and a few more, since
// declined tickets are skipped), so a long queue of one team whose
// members are busy holds up no other queue.
func (r *router) waiting(tx *gorm.DB, tenant string, ops []*candidate, free int, teams map[string]map[string]bool) ([]Ticket, error) {
	limits := map[string]int{"": free}
	for team, members := range teams {
		for _, o := range ops {
			if members[o.ID] {
				limits[team] += o.Capacity - o.Open
			}
		}
	}
	var all []Ticket
	for team, n := range limits {
		if n == 0 {
			continue
		}
		var some []Ticket
		if err := tx.Raw(`SELECT `+ticketColumns+` FROM tickets WHERE tenant = ? AND status = ? AND team_id = ?
			ORDER BY created_at, id LIMIT ?`, tenant, StatusNew, team, n+64).Scan(&some).Error; err != nil {
			return nil, err
		}
		all = append(all, some...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].CreatedAt != all[j].CreatedAt {
			return all[i].CreatedAt < all[j].CreatedAt
		}
		return all[i].ID < all[j].ID
	})
	return all, nil
}

// pick chooses the operator for one ticket, or nil if none may take it.
// A ticket for a team (forTeam) goes only to the team's members.
func (r *router) pick(ops []*candidate, declined map[string]bool, forTeam bool, members map[string]bool) *candidate {
	var best *candidate
	for _, o := range ops {
		if o.Open >= o.Capacity || declined[o.ID] || forTeam && !members[o.ID] {
			continue
		}
		if best == nil || r.before(o, best) {
			best = o
		}
	}
	return best
}

// before orders candidates: round-robin by whom routing served longest
// ago (the rotation, persisted as last_assigned_at); least-busy by open
// tickets first, then the same.
func (r *router) before(a, b *candidate) bool {
	if r.opts.Mode == RoutingLeastBusy && a.Open != b.Open {
		return a.Open < b.Open
	}
	if a.LastAssignedAt != b.LastAssignedAt {
		return a.LastAssignedAt < b.LastAssignedAt
	}
	return a.ID < b.ID
}

// declinedBy are the operators who declined the ticket, or handled it
// when it was transferred to a team: routing does not offer it to them
// again.
func declinedBy(tx *gorm.DB, ticketID string) (map[string]bool, error) {
	var ids []string
	if err := tx.Model(&auditRow{}).Where("ticket_id = ? AND action IN ? AND from_handler <> ''", ticketID,
		[]Action{ActionDecline, ActionTransfer}).Pluck("from_handler", &ids).Error; err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// mayDecline refuses to let operatorID decline a ticket routing did not
// give them: one they accepted or were assigned by hand is theirs to pass
// on with assignTicket.
func mayDecline(tx *gorm.DB, t Ticket, operatorID string) error {
	if t.Status != StatusOpen || t.HandlerID != operatorID {
		return nil // the state machine says why not
	}
	var last auditRow
	if err := tx.Where("ticket_id = ?", t.ID).Order("id DESC").Limit(1).Find(&last).Error; err != nil {
		return err
	}
	if last.Action != ActionAssign || last.ActorID != routingActor || last.ToHandler != operatorID {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only a ticket routing gave you can be declined")
	}
	return nil
}

// queueLimit bounds the waiting tickets told their place per pass.
const queueLimit = 1000

// positions reads the tenant's queues, oldest first, and returns what
// each owner is to be told now and the queuePosition events for those
// whose place or estimated wait changed since prev, or who are to be told
// again. Each team has a queue of its own, and the tickets for no team
// another: a ticket's position is its place in its queue, its estimate
// that times the queue's accept interval.
func (r *router) positions(tx *gorm.DB, tenant string, prev map[string]placeInQueue, retell map[string]bool) (map[string]placeInQueue, []switchboard.Event, error) {
	var waiting []struct {
		ID      string `gorm:"column:id"`
		OwnerID string `gorm:"column:owner_id"`
		Team    string `gorm:"column:team_id"`
	}
	if err := tx.Raw(`SELECT id, owner_id, team_id FROM tickets WHERE tenant = ? AND status = ?
		ORDER BY created_at, id LIMIT ?`, tenant, StatusNew, queueLimit).Scan(&waiting).Error; err != nil {
		return nil, nil, err
	}
	if len(waiting) == 0 {
		return nil, nil, nil
	}
	places := map[string]int{}
	intervals := map[string]time.Duration{}
	told := make(map[string]placeInQueue, len(waiting))
	var evs []switchboard.Event
	for _, w := range waiting {
		interval, known := intervals[w.Team]
		if !known {
			var err error
			if interval, err = r.acceptInterval(tx, tenant, w.Team); err != nil {
				return nil, nil, err
			}
			intervals[w.Team] = interval
		}
		places[w.Team]++
		p := placeInQueue{owner: w.OwnerID, position: places[w.Team], wait: -1}
		var wait any // null: no estimate yet
		if interval > 0 {
			p.wait = int(math.Ceil(float64(p.position) * interval.Seconds()))
			wait = p.wait
		}
		told[w.ID] = p
		if prev[w.ID] == p && !retell[w.OwnerID] {
			continue
		}
		evs = append(evs, switchboard.Event{Name: "queuePosition", SessionID: w.ID,
			To:   []string{switchboard.UserRoom(tenant, w.OwnerID)},
			Args: []any{map[string]any{"ticketId": w.ID, "position": p.position, "estimatedWaitSeconds": wait}}})
	}
	return told, evs, nil
}

// acceptInterval is how often one queue's tickets (team's; "" the
// tickets for no team) were taken lately: the mean time between the last
// (up to 20) accepts or assignments of the past hour, 0 with fewer than
// two. A ticket at position n waits about n intervals.
func (r *router) acceptInterval(tx *gorm.DB, tenant, team string) (time.Duration, error) {
	since := r.svc.millis() - time.Hour.Milliseconds()
	var times []int64
	if err := tx.Raw(`SELECT accepted_at FROM tickets WHERE tenant = ? AND team_id = ? AND accepted_at > ?
		ORDER BY accepted_at DESC LIMIT 20`, tenant, team, since).Scan(&times).Error; err != nil {
		return 0, err
	}
	if len(times) < 2 {
		return 0, nil
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	span := times[len(times)-1] - times[0]
	return time.Duration(span/int64(len(times)-1)) * time.Millisecond, nil
}

// RouteQueue routes tenant's waiting tickets again soon: call it when an
// operator may take more (became AVAILABLE, came online, got a higher
// capacity).
func (s *Service) RouteQueue(tenant string) { s.router.route(tenant) }

// routeAfter wraps done so that tenant's queue is routed once the write
// it reports on has committed.
func (s *Service) routeAfter(tenant string, done func(error)) func(error) {
	return func(err error) {
		if err == nil {
			s.router.route(tenant)
		}
		if done != nil {
			done(err)
		}
	}
}

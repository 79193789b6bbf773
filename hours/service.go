package hours

import (
	"context"
	"regexp"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Staffed reports whether anyone who could take team's tickets in
// tenant is online and available now. The app wires it to operator
// presence; a team's members narrow it once teams exist.
type Staffed func(ctx context.Context, tenant, team string) (bool, error)

// Service keeps the business hours and answers whether a tenant's team
// is there for a live chat. Administrators set schedules; anyone signed
// in may ask for availability.
type Service struct {
	db        *database.DB
	committer *database.Committer
	opts      Options
}

// Options configure a Service. Zero values work: always staffed, no
// address for offline tickets, the wall clock.
type Options struct {
	Staffed Staffed
	// OfflineEmailTo is where offline tickets are announced when the
	// schedule names no address (SWITCHBOARD_OFFLINE_EMAIL_TO).
	OfflineEmailTo string
	Now            func() time.Time
}

// NewService returns the service over db, writing through committer.
func NewService(db *database.DB, committer *database.Committer, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, committer: committer, opts: opts}
}

// Reasons a team is not open for a live chat.
const (
	ReasonHours        = "hours"         // outside its business hours
	ReasonNobodyOnline = "nobody-online" // within them, but nobody is online and available
)

// Availability is whether a visitor can chat live now, and if not, why
// and (outside hours) when that changes.
type Availability struct {
	Open       bool
	Reason     string
	NextOpenAt time.Time // zero: not known
}

// teamID is a team's short id ("billing"); "" is the tenant itself.
var teamID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

func checkTeam(team string) error {
	if team != "" && !teamID.MatchString(team) {
		return switchboard.Errorf(switchboard.EINVALID, "team %q is not a team id (letters, digits, - and _, at most 64)", team)
	}
	return nil
}

func mustBeAdmin(p switchboard.Principal) error {
	if !p.IsOperator() || !p.Admin {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only administrators may change business hours")
	}
	return nil
}

// Schedule returns the schedule stored for team ("" = the tenant's),
// not the one it inherits; operators only.
func (s *Service) Schedule(ctx context.Context, p switchboard.Principal, team string) (Schedule, bool, error) {
	if !p.IsOperator() {
		return Schedule{}, false, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may read business hours")
	}
	if err := checkTeam(team); err != nil {
		return Schedule{}, false, err
	}
	return find(ctx, s.db.DB, p.Tenant, team)
}

// SetSchedule stores team's schedule; administrators only.
func (s *Service) SetSchedule(ctx context.Context, p switchboard.Principal, team string, w Wire) (Schedule, error) {
	if err := mustBeAdmin(p); err != nil {
		return Schedule{}, err
	}
	if err := checkTeam(team); err != nil {
		return Schedule{}, err
	}
	sched, err := Parse(w)
	if err != nil {
		return Schedule{}, err
	}
	r := row{Tenant: p.Tenant, Team: team, Schedule: sched.encode(), UpdatedBy: p.ID, UpdatedAt: s.opts.Now().UnixMilli()}
	return sched, s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) { return nil, save(tx, r) })
}

// DeleteSchedule removes team's schedule: the team follows its tenant's
// again, a tenant without one is always open. Administrators only.
func (s *Service) DeleteSchedule(ctx context.Context, p switchboard.Principal, team string) (deleted bool, err error) {
	if err := mustBeAdmin(p); err != nil {
		return false, err
	}
	if err := checkTeam(team); err != nil {
		return false, err
	}
	err = s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		deleted, err = remove(tx, p.Tenant, team)
		return nil, err
	})
	return deleted, err
}

// Availability says whether tenant's team takes live chats now: within
// its schedule (its own, else the tenant's; none: always) and with
// someone to answer.
func (s *Service) Availability(ctx context.Context, tenant, team string) (Availability, error) {
	if err := checkTeam(team); err != nil {
		return Availability{}, err
	}
	sched, found, err := effective(ctx, s.db.DB, tenant, team)
	if err != nil {
		return Availability{}, err
	}
	now := s.opts.Now()
	if found && !Open(sched, now) {
		next, _ := NextOpen(sched, now)
		return Availability{Reason: ReasonHours, NextOpenAt: next}, nil
	}
	if s.opts.Staffed != nil {
		staffed, err := s.opts.Staffed(ctx, tenant, team)
		if err != nil {
			return Availability{}, err
		}
		if !staffed {
			return Availability{Reason: ReasonNobodyOnline}, nil
		}
	}
	return Availability{Open: true}, nil
}

// OfflineAddress is where a ticket left for team while it was offline
// is announced: the address of its schedule (its own, else the
// tenant's), else the server's OfflineEmailTo; "" = nowhere. This is the
// one lookup of that address: a team's own address goes first here once
// teams have one.
func (s *Service) OfflineAddress(ctx context.Context, tenant, team string) (string, error) {
	sched, found, err := effective(ctx, s.db.DB, tenant, team)
	if err != nil {
		return "", err
	}
	if found && sched.Email != "" {
		return sched.Email, nil
	}
	if team != "" {
		if own, found, err := find(ctx, s.db.DB, tenant, ""); err != nil {
			return "", err
		} else if found && own.Email != "" {
			return own.Email, nil
		}
	}
	return s.opts.OfflineEmailTo, nil
}

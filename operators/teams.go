package operators

import (
	"context"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Team is a group of a tenant's operators. A ticket may be opened for a
// team or transferred to one; routing then gives it only to the team's
// members. Only an administrator changes teams; every operator sees them.
type Team struct {
	// ID is the short name an administrator chose (see ValidTeamID),
	// unique within the tenant: what widgets, programs and transfers name.
	ID   string
	Name string
	// Email is the team's own address ("" = none).
	Email string
	// Members are the ids of the operators in the team, sorted.
	Members []string
}

// teamIDPattern: lower-case letters, digits and '-', 1 to 40 characters.
var teamIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// ValidTeamID reports whether id may name a team.
func ValidTeamID(id string) bool { return teamIDPattern.MatchString(id) }

// CheckTeamID refuses an id no team can have, saying what one looks like.
func CheckTeamID(id string) error {
	if !ValidTeamID(id) {
		return switchboard.Errorf(switchboard.EINVALID,
			"team id %q: use 1 to 40 lower-case letters, digits and '-'", clip(id))
	}
	return nil
}

// Bounds of a team's name and address.
const (
	maxTeamName  = 200
	maxTeamEmail = 254
)

// teamRow is one teams row.
type teamRow struct {
	Tenant    string `gorm:"column:tenant;primaryKey"`
	ID        string `gorm:"column:id;primaryKey"`
	Name      string `gorm:"column:name"`
	Email     string `gorm:"column:email"`
	CreatedAt int64  `gorm:"column:created_at"`
	UpdatedAt int64  `gorm:"column:updated_at"`
}

func (teamRow) TableName() string { return "teams" }

// memberRow is one team_members row.
type memberRow struct {
	Tenant     string `gorm:"column:tenant;primaryKey"`
	TeamID     string `gorm:"column:team_id;primaryKey"`
	OperatorID string `gorm:"column:operator_id;primaryKey"`
	AddedAt    int64  `gorm:"column:added_at"`
}

func (memberRow) TableName() string { return "team_members" }

// Teams keeps a tenant's teams and their members.
type Teams struct {
	db        *database.DB
	committer *database.Committer
	opts      TeamsOptions
}

// TeamsOptions configure Teams. Zero values work.
type TeamsOptions struct {
	// Disbanded, when set, runs inside the transaction that deletes a
	// team: the tickets still for it are given back to no team (tickets'
	// LeaveTeam), and its events are published after commit.
	Disbanded func(tx *gorm.DB, by switchboard.Principal, team string, now int64) ([]switchboard.Event, error)
	// Changed, when set, hears (after commit) of a change of who may take
	// a tenant's team tickets: routing runs its queue again.
	Changed func(tenant string)
	Now     func() time.Time
}

// NewTeams returns the teams over db, writing through committer.
func NewTeams(db *database.DB, committer *database.Committer, opts TeamsOptions) *Teams {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Teams{db: db, committer: committer, opts: opts}
}

// List returns the viewer's tenant's teams by id, with their members.
// Any operator may see them.
func (ts *Teams) List(ctx context.Context, viewer switchboard.Principal) ([]Team, error) {
	if !viewer.IsOperator() {
		return nil, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may see the teams")
	}
	db := ts.db.WithContext(ctx)
	var rows []teamRow
	if err := db.Where("tenant = ?", viewer.Tenant).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	members, err := TeamMembers(db, viewer.Tenant)
	if err != nil {
		return nil, err
	}
	out := make([]Team, len(rows))
	for i, r := range rows {
		out[i] = Team{ID: r.ID, Name: r.Name, Email: r.Email, Members: sortedKeys(members[r.ID])}
	}
	return out, nil
}

// Get returns team id of the viewer's tenant (NOT_FOUND if there is
// none). Any operator may see it.
func (ts *Teams) Get(ctx context.Context, viewer switchboard.Principal, id string) (Team, error) {
	if !viewer.IsOperator() {
		return Team{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may see the teams")
	}
	t, found, err := FindTeam(ts.db.WithContext(ctx), viewer.Tenant, id)
	if err == nil && !found {
		err = noTeam(id)
	}
	return t, err
}

// Put creates team id or renames it and sets its address; created says
// which. Administrators only.
func (ts *Teams) Put(ctx context.Context, p switchboard.Principal, id, name, email string) (t Team, created bool, err error) {
	if err := mustAdminister(p); err != nil {
		return t, false, err
	}
	if err := CheckTeamID(id); err != nil {
		return t, false, err
	}
	name, email = strings.TrimSpace(name), strings.TrimSpace(email)
	if err := checkTeamDetails(name, email); err != nil {
		return t, false, err
	}
	now := ts.opts.Now().UnixMilli()
	err = ts.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		res := tx.Model(&teamRow{}).Where("tenant = ? AND id = ?", p.Tenant, id).
			Updates(map[string]any{"name": name, "email": email, "updated_at": now})
		if res.Error != nil || res.RowsAffected > 0 {
			return nil, res.Error
		}
		created = true
		return nil, tx.Create(&teamRow{Tenant: p.Tenant, ID: id, Name: name, Email: email,
			CreatedAt: now, UpdatedAt: now}).Error
	})
	if err != nil {
		return t, false, err
	}
	t, _, err = FindTeam(ts.db.WithContext(ctx), p.Tenant, id)
	return t, created, err
}

// Delete removes team id and its memberships. Tickets still for it are
// given back to no team in the same transaction (Disbanded), so none
// waits for a team that is gone. Administrators only.
func (ts *Teams) Delete(ctx context.Context, p switchboard.Principal, id string) error {
	if err := mustAdminister(p); err != nil {
		return err
	}
	if err := CheckTeamID(id); err != nil {
		return err
	}
	now := ts.opts.Now().UnixMilli()
	err := ts.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		res := tx.Where("tenant = ? AND id = ?", p.Tenant, id).Delete(&teamRow{})
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 {
			return nil, noTeam(id)
		}
		if err := tx.Where("tenant = ? AND team_id = ?", p.Tenant, id).Delete(&memberRow{}).Error; err != nil {
			return nil, err
		}
		if ts.opts.Disbanded == nil {
			return nil, nil
		}
		return ts.opts.Disbanded(tx, p, id, now)
	})
	if err == nil {
		ts.changed(p.Tenant)
	}
	return err
}

// AddMember puts operator operatorID in team id (a no-op if it is in
// already). Both must exist. Administrators only.
func (ts *Teams) AddMember(ctx context.Context, p switchboard.Principal, id, operatorID string) error {
	return ts.membership(ctx, p, id, operatorID, true)
}

// RemoveMember takes operator operatorID out of team id (a no-op if it is
// not in it). Administrators only.
func (ts *Teams) RemoveMember(ctx context.Context, p switchboard.Principal, id, operatorID string) error {
	return ts.membership(ctx, p, id, operatorID, false)
}

func (ts *Teams) membership(ctx context.Context, p switchboard.Principal, id, operatorID string, in bool) error {
	if err := mustAdminister(p); err != nil {
		return err
	}
	if err := CheckTeamID(id); err != nil {
		return err
	}
	if operatorID == "" || len(operatorID) > 1024 {
		return switchboard.Errorf(switchboard.EINVALID, "operator id: 1 to 1024 bytes")
	}
	now := ts.opts.Now().UnixMilli()
	err := ts.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		if _, found, err := FindTeam(tx, p.Tenant, id); err != nil || !found {
			if err == nil {
				err = noTeam(id)
			}
			return nil, err
		}
		if !in {
			return nil, tx.Where("tenant = ? AND team_id = ? AND operator_id = ?", p.Tenant, id, operatorID).
				Delete(&memberRow{}).Error
		}
		var n int64
		if err := tx.Table("users").Where("tenant = ? AND id = ? AND role = ?", p.Tenant, operatorID,
			string(switchboard.RoleOperator)).Count(&n).Error; err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no operator %s (an operator is known once it has signed in)", clip(operatorID))
		}
		var already int64
		if err := tx.Model(&memberRow{}).Where("tenant = ? AND team_id = ? AND operator_id = ?", p.Tenant, id, operatorID).
			Count(&already).Error; err != nil || already > 0 {
			return nil, err
		}
		return nil, tx.Create(&memberRow{Tenant: p.Tenant, TeamID: id, OperatorID: operatorID, AddedAt: now}).Error
	})
	if err == nil {
		ts.changed(p.Tenant)
	}
	return err
}

func (ts *Teams) changed(tenant string) {
	if ts.opts.Changed != nil {
		ts.opts.Changed(tenant)
	}
}

// FindTeam loads team id of tenant with its members, or found=false. It
// reads through db, which may be a transaction: tickets checks a team
// inside its own.
func FindTeam(db *gorm.DB, tenant, id string) (t Team, found bool, err error) {
	var rows []teamRow
	if err := db.Where("tenant = ? AND id = ?", tenant, id).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return t, false, err
	}
	var members []string
	if err := db.Model(&memberRow{}).Where("tenant = ? AND team_id = ?", tenant, id).Order("operator_id").
		Pluck("operator_id", &members).Error; err != nil {
		return t, false, err
	}
	r := rows[0]
	return Team{ID: r.ID, Name: r.Name, Email: r.Email, Members: members}, true, nil
}

// TeamMembers is every team of tenant that has members, as team id → the
// set of its operators' ids: what routing decides on, read inside its
// transaction.
func TeamMembers(db *gorm.DB, tenant string) (map[string]map[string]bool, error) {
	var rows []memberRow
	if err := db.Where("tenant = ?", tenant).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for _, r := range rows {
		if out[r.TeamID] == nil {
			out[r.TeamID] = map[string]bool{}
		}
		out[r.TeamID][r.OperatorID] = true
	}
	return out, nil
}

// ForgetMember removes operatorID of tenant from every team, inside tx:
// an erased operator (package privacy) belongs to none.
func ForgetMember(tx *gorm.DB, tenant, operatorID string) error {
	return tx.Where("tenant = ? AND operator_id = ?", tenant, operatorID).Delete(&memberRow{}).Error
}

// mustAdminister refuses anyone but an administrator.
func mustAdminister(p switchboard.Principal) error {
	if !p.IsOperator() || !p.Admin {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only an administrator may change teams")
	}
	return nil
}

func checkTeamDetails(name, email string) error {
	switch {
	case name == "":
		return switchboard.Errorf(switchboard.EINVALID, "name is required")
	case len(name) > maxTeamName || !utf8.ValidString(name):
		return switchboard.Errorf(switchboard.EINVALID, "name: at most %d bytes of UTF-8", maxTeamName)
	case email == "":
		return nil
	case len(email) > maxTeamEmail:
		return switchboard.Errorf(switchboard.EINVALID, "email: at most %d bytes", maxTeamEmail)
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return switchboard.Errorf(switchboard.EINVALID, "email %q is not an address like team@example.com", clip(email))
	}
	return nil
}

func noTeam(id string) error { return switchboard.Errorf(switchboard.ENOTFOUND, "no team %s", id) }

// clip shortens what a client sent for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

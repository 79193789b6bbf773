package operators_test

import (
	"context"
	"testing"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/operators"
)

// TestStaffed: a tenant is staffed while one of its operators is both
// online and AVAILABLE; away, offline, or another tenant's do not count.
// A team is staffed by its members only.
func TestStaffed(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			users := []chat.User{
				{Tenant: "t", ID: "away", Role: string(switchboard.RoleOperator), Status: "AWAY"},
				{Tenant: "t", ID: "ready", Role: string(switchboard.RoleOperator), Status: "AVAILABLE"},
				{Tenant: "t", ID: "visitor", Role: string(switchboard.RoleUser), Status: "AVAILABLE"},
				{Tenant: "u", ID: "elsewhere", Role: string(switchboard.RoleOperator), Status: "AVAILABLE"},
			}
			if err := db.Create(&users).Error; err != nil {
				t.Fatal(err)
			}
			c := database.NewCommitter(db, nil, database.CommitterOptions{})
			t.Cleanup(c.Close)
			presence := &operators.Presence{}
			roster := operators.NewRoster(db, c, presence, operators.RosterOptions{})
			staffed := func() bool { return staffedBy(t, roster, "") }
			presence.Join("t", "away")
			presence.Join("t", "visitor")
			presence.Join("u", "elsewhere")
			if staffed() {
				t.Fatal("staffed by an away operator, a user or another tenant's operator")
			}
			presence.Join("t", "ready")
			if !staffed() {
				t.Fatal("an online, available operator does not staff the tenant")
			}
			teams := operators.NewTeams(db, c, operators.TeamsOptions{})
			admin := switchboard.Principal{ID: "away", Tenant: "t", Role: switchboard.RoleOperator, Admin: true}
			if _, _, err := teams.Put(context.Background(), admin, "billing", "Billing", ""); err != nil {
				t.Fatal(err)
			}
			if err := teams.AddMember(context.Background(), admin, "billing", "away"); err != nil {
				t.Fatal(err)
			}
			if staffedBy(t, roster, "billing") {
				t.Fatal("a team staffed by an operator who is not its member")
			}
			if err := teams.AddMember(context.Background(), admin, "billing", "ready"); err != nil {
				t.Fatal(err)
			}
			if !staffedBy(t, roster, "billing") {
				t.Fatal("a team not staffed by its online, available member")
			}
			presence.Leave("t", "ready")
			if staffed() || staffedBy(t, roster, "billing") {
				t.Fatal("staffed by an operator who went offline")
			}
		})
	}
}

func staffedBy(t *testing.T, roster *operators.Roster, team string) bool {
	t.Helper()
	ok, err := roster.Staffed(context.Background(), "t", team)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

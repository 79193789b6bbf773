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
			staffed := func() bool {
				ok, err := roster.Staffed(context.Background(), "t")
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
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
			presence.Leave("t", "ready")
			if staffed() {
				t.Fatal("staffed by an operator who went offline")
			}
		})
	}
}

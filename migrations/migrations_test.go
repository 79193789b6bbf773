package migrations_test

import (
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/migrations"
)

// Every placeholder is expanded on every dialect: a forgotten one would
// only fail when that dialect's migration runs.
func TestPlaceholdersExpanded(t *testing.T) {
	for _, d := range testdb.Dialects() {
		all, err := migrations.All(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range all {
			if strings.Contains(m.SQL, "{{") {
				t.Errorf("%s: %04d_%s has an unexpanded placeholder", d, m.Version, m.Name)
			}
		}
	}
}

// The schema applies on both databases, and again as a no-op.
func TestApply(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := testdb.Open(t, d) // applies every migration
			if err := migrations.Apply(db.DB, d); err != nil {
				t.Fatalf("second Apply: %v", err)
			}
			var ages []string
			if err := db.Raw(`SELECT age FROM chat_members`).Scan(&ages).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO job_runs (name, slot, node, started_at) VALUES ('j', 1, 'n', 1)`).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO job_runs (name, slot, node, started_at) VALUES ('j', 1, 'm', 2)`).Error; err == nil {
				t.Fatal("a second run of the same job slot was accepted")
			}
		})
	}
}

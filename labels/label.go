// Package labels holds a tenant's labels: named colours operators put on
// tickets to sort them ("billing", "vip"). The catalogue is the
// supervisors' to manage; which tickets carry which label is the
// tickets' own state (tickets/labels.go), since putting a label on a
// ticket is a change of that ticket: authorized against it, audited
// with it and announced with it.
package labels

import (
	"regexp"

	"github.com/switchboard-chat/switchboard"
)

// MaxName bounds a label's name: a word or two shown on a chip.
const MaxName = 64

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Label is one of a tenant's labels.
type Label struct {
	ID     string `gorm:"column:id;primaryKey"`
	Tenant string `gorm:"column:tenant"`
	Name   string `gorm:"column:name"`
	// Color is "#rrggbb".
	Color     string `gorm:"column:color"`
	CreatedAt int64  `gorm:"column:created_at"`
	UpdatedAt int64  `gorm:"column:updated_at"`
	// OpenCount is how many new or open tickets carry it (List only).
	OpenCount int `gorm:"-"`
}

// TableName maps Label to its table.
func (Label) TableName() string { return "labels" }

func invalid(format string, args ...any) error {
	return switchboard.Errorf(switchboard.EINVALID, format, args...)
}

func checkName(s string) error {
	if s == "" || len(s) > MaxName {
		return invalid("name must be 1 to %d bytes", MaxName)
	}
	return nil
}

func checkColor(s string) error {
	if !colorPattern.MatchString(s) {
		return invalid(`color must be "#rrggbb"`)
	}
	return nil
}

func mustSupervise(p switchboard.Principal) error {
	if !p.IsSupervisor() {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only supervisors manage labels")
	}
	return nil
}

func noLabel(id string) error {
	if len(id) > 64 {
		id = id[:64] + "…"
	}
	return switchboard.Errorf(switchboard.ENOTFOUND, "no label %s", id)
}

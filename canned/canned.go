// Package canned holds canned responses: texts operators insert from the
// dashboard's composer by a shortcut. A response is the tenant's (shared
// by every operator, managed by supervisors) or one operator's own.
package canned

import (
	"regexp"

	"github.com/switchboard-chat/switchboard"
)

// Scope says whose a canned response is.
type Scope string

const (
	// ScopeTenant: every operator of the tenant uses it; supervisors (and
	// administrators) create, change and delete it.
	ScopeTenant Scope = "tenant"
	// ScopePersonal: its owner alone sees, uses and changes it.
	ScopePersonal Scope = "personal"
)

// MaxText bounds a response's text: a paragraph or a few, not a document.
const MaxText = 4096

// shortcutPattern is what an operator types after '/' in the composer.
var shortcutPattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Response is one canned response. Its text is stored as written:
// placeholders ({{user.name}}, {{operator.name}}, {{ticket.id}}) are the
// dashboard's to fill in when it inserts the text, since only it knows
// the conversation the text goes into.
type Response struct {
	ID       string `gorm:"column:id;primaryKey"`
	Tenant   string `gorm:"column:tenant"`
	Scope    Scope  `gorm:"column:scope"`
	OwnerID  string `gorm:"column:owner_id"` // "" for the tenant's
	Shortcut string `gorm:"column:shortcut"`
	Text     string `gorm:"column:text"`
	// CreatedAt and UpdatedAt are Unix milliseconds.
	CreatedAt int64 `gorm:"column:created_at"`
	UpdatedAt int64 `gorm:"column:updated_at"`
}

// TableName maps Response to its table.
func (Response) TableName() string { return "canned_responses" }

func invalid(format string, args ...any) error {
	return switchboard.Errorf(switchboard.EINVALID, format, args...)
}

func checkShortcut(s string) error {
	if !shortcutPattern.MatchString(s) {
		return invalid("shortcut must be 1 to 32 of a-z, 0-9, '_' and '-'")
	}
	return nil
}

func checkText(s string) error {
	if s == "" || len(s) > MaxText {
		return invalid("text must be 1 to %d bytes", MaxText)
	}
	return nil
}

// mayManage reports whether p may create, change or delete r: a tenant
// response is the supervisors', a personal one its owner's.
func mayManage(p switchboard.Principal, r Response) bool {
	if r.Scope == ScopeTenant {
		return p.IsSupervisor()
	}
	return p.IsOperator() && r.OwnerID == p.ID
}

// visibleTo reports whether p uses r: every operator the tenant's, its
// owner a personal one.
func visibleTo(p switchboard.Principal, r Response) bool {
	return r.Tenant == p.Tenant && (r.Scope == ScopeTenant || r.OwnerID == p.ID)
}

func mustBeOperator(p switchboard.Principal) error {
	if !p.IsOperator() {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "canned responses are for operators")
	}
	return nil
}

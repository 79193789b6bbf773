// Package switchboard holds the vocabulary every part of the Switchboard
// live-chat ticket server shares: who is acting (Principal), what went wrong
// (Error and its codes) and what happened (Event). It imports nothing of the
// project, so every other package may import it.
package switchboard

import (
	"strings"
	"time"
)

// Role is what a verified access token makes its bearer.
type Role string

const (
	// RoleUser is an end user who opens tickets from the chat widget.
	RoleUser Role = "user"
	// RoleOperator is a support agent working in the dashboard.
	RoleOperator Role = "operator"
	// RoleProgram is an external program (an OAuth client) acting for its
	// own end users, who are scoped to it.
	RoleProgram Role = "program"
)

// Principal is the verified identity behind a socket or an HTTP request.
// It comes from an access token, never from anything the client claims.
type Principal struct {
	// ID is the token subject for users and operators (as SubjectUserID
	// encodes it), the program id for programs.
	ID          string
	Role        Role
	DisplayName string
	// Admin is set for an operator whose token also carries the admin
	// role: it may manage the tenant (operators' capacities, teams,
	// retention and data-protection requests).
	Admin bool
	// Supervisor is set for an operator whose token also carries the
	// supervisor role: it may manage the tenant's canned responses and
	// labels and read the overview and the reports (IsSupervisor).
	Supervisor bool
	// ProgramID is set for program principals.
	ProgramID string
	// Tenant separates users, sessions and messages; nothing crosses it.
	Tenant    string
	ExpiresAt time.Time
}

// IsOperator reports whether p may use operator events.
func (p Principal) IsOperator() bool { return p.Role == RoleOperator }

// IsSupervisor reports whether p may supervise its tenant's operators:
// an operator with the supervisor role, or an administrator (who may
// manage the tenant, so may watch it too).
func (p Principal) IsSupervisor() bool { return p.IsOperator() && (p.Supervisor || p.Admin) }

// Names reports whether name, as a client calls itself, is p: its id, or
// for a user or operator also its token subject as the token has it.
func (p Principal) Names(name string) bool {
	return name == p.ID || (p.Role != RoleProgram && SubjectUserID(name) == p.ID)
}

// SubjectUserID is the stored identity of a user or operator whose token
// subject is sub: sub with '%' and '/' percent-encoded ("%25", "%2F"). No
// such id contains a '/', so none is ever a program's end user's
// (ScopedUserID), and the encoding is one-to-one. A subject without those
// two characters is its own id, as it always was.
func SubjectUserID(sub string) string { return idEscaper.Replace(sub) }

// ScopedUserID is the stored identity of an end user a program acts for:
// user "42" of program A is "A/42", never the same person as "42" of B.
// Each part is percent-encoded as SubjectUserID encodes a subject, so the
// one '/' left parts the two: no two (program, user) pairs share an id,
// and none is a subject's. Without a program it is SubjectUserID.
func ScopedUserID(programID, userID string) string {
	if programID == "" {
		return SubjectUserID(userID)
	}
	return idEscaper.Replace(programID) + "/" + idEscaper.Replace(userID)
}

// idEscaper percent-encodes the characters that give ids their shape:
// '/' parts a scoped id, and '%' begins an encoding.
var idEscaper = strings.NewReplacer("%", "%25", "/", "%2F")

// Package switchboard holds the vocabulary every part of the Switchboard
// live-chat ticket server shares: who is acting (Principal), what went wrong
// (Error and its codes) and what happened (Event). It imports nothing of the
// project, so every other package may import it.
package switchboard

import "time"

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
	// ID is the token subject for users and operators, the program id for
	// programs.
	ID          string
	Role        Role
	DisplayName string
	// ProgramID is set for program principals.
	ProgramID string
	// Tenant separates users, sessions and messages; nothing crosses it.
	Tenant    string
	ExpiresAt time.Time
}

// IsOperator reports whether p may use operator events.
func (p Principal) IsOperator() bool { return p.Role == RoleOperator }

// ScopedUserID is the stored identity of an end user a program acts for:
// user "42" of program A is "A/42", never the same person as "42" of B.
func ScopedUserID(programID, userID string) string {
	if programID == "" {
		return userID
	}
	return programID + "/" + userID
}

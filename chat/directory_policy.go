package chat

import (
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// Directory is the policy on whom a chat user may find and reach over the
// chat protocol. On a public chat widget every customer is a user of the
// same tenant: letting them list and message each other invites
// harassment and spam, so the default keeps them apart.
type Directory string

const (
	// DirectoryOperators (the default) keeps end users apart. An end user
	// sees (getChatUsers) only operators, itself and the members of the
	// sessions it is in, and starts chats or adds members only with
	// operators. A program sees operators, its own end users and the
	// members of its sessions, and reaches operators and its own end
	// users. Operators see and reach everyone in their tenant. A chat
	// user writes (sendMsg, editMsg, setChatDetails) only in a session
	// where it reaches every other member or an operator is a member.
	DirectoryOperators Directory = "operators"
	// DirectoryTenant is the general chat model: everyone in a tenant sees
	// and reaches everyone, for deployments that use the chat protocol as
	// a team chat.
	DirectoryTenant Directory = "tenant"
)

// ParseDirectory reads a directory setting; "" is the default.
func ParseDirectory(s string) (Directory, error) {
	switch d := Directory(s); d {
	case "":
		return DirectoryOperators, nil
	case DirectoryOperators, DirectoryTenant:
		return d, nil
	}
	return "", fmt.Errorf("chat directory %q: want %q or %q", s, DirectoryOperators, DirectoryTenant)
}

// reach is what one caller may see and reach under the service's
// directory. It is derived from the verified principal only.
type reach struct {
	everyone bool   // the whole tenant
	program  string // a program's own end users too
	self     string
}

func (s *Service) reachOf(c Caller) reach {
	p := c.Principal
	r := reach{self: p.ID, everyone: s.opts.Directory == DirectoryTenant || p.Role == switchboard.RoleOperator}
	if p.Role == switchboard.RoleProgram {
		r.program = p.ProgramID
	}
	return r
}

// reaches reports whether the caller may start a chat with u, add u to
// one or write where u reads.
func (r reach) reaches(u User) bool {
	switch {
	case r.everyone, u.ID == r.self, u.Role == string(switchboard.RoleOperator):
		return true
	}
	return r.program != "" && u.ProgramID == r.program && u.Role == string(switchboard.RoleUser)
}

// visible narrows a query over users (unaliased) to those the caller may
// see: whom it reaches, and the members of the sessions it is in.
func (r reach) visible(q *gorm.DB, tenant string) *gorm.DB {
	if r.everyone {
		return q
	}
	cond := `(role = ? OR id = ? OR id IN (SELECT o.user_id FROM chat_members me
		JOIN chat_members o ON o.session_id = me.session_id
		JOIN chat_sessions s ON s.id = me.session_id
		WHERE s.tenant = ? AND me.user_id = ? AND me.left_at = 0 AND o.left_at = 0)`
	args := []any{switchboard.RoleOperator, r.self, tenant, r.self}
	if r.program != "" {
		cond += ` OR (program_id = ? AND role = ?)`
		args = append(args, r.program, switchboard.RoleUser)
	}
	return q.Where(cond+")", args...)
}

// mustReach refuses ids that are no user of tenant or that the caller may
// not reach. To a caller who does not reach everyone, an unknown user
// looks like one it may not reach: whether a customer exists is not its
// business.
func (s *Service) mustReach(tx *gorm.DB, c Caller, ids []string) error {
	users, err := FindUsers(tx, c.Tenant(), ids)
	if err != nil {
		return err
	}
	r := s.reachOf(c)
	var unknown, refused []string
	for _, id := range ids {
		u, ok := users[id]
		switch {
		case ok && r.reaches(u):
		case !ok && r.everyone:
			unknown = append(unknown, id)
		default:
			refused = append(refused, id)
		}
	}
	if len(refused) > 0 {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "you may not reach %s: end users chat with operators only",
			strings.Join(refused, ", "))
	}
	if len(unknown) > 0 {
		return switchboard.Errorf(switchboard.EINVALID, "unknown users: %s", strings.Join(unknown, ", "))
	}
	return nil
}

// mayWrite refuses a write the other members of a session would see when
// the caller does not reach one of them and no operator is among them, so
// that a session of two end users made while the directory was open
// (DirectoryTenant) is no way around it.
func (s *Service) mayWrite(tx *gorm.DB, c Caller, sessionID string) error {
	r := s.reachOf(c)
	if r.everyone {
		return nil
	}
	members, err := ActiveMembers(tx, sessionID)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.UserID)
	}
	users, err := FindUsers(tx, c.Tenant(), ids)
	if err != nil {
		return err
	}
	all := true
	for _, id := range ids {
		u, ok := users[id]
		if ok && u.Role == string(switchboard.RoleOperator) {
			return nil
		}
		all = all && ok && r.reaches(u)
	}
	if !all {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "you may not write to the members of chat session %s", sessionID)
	}
	return nil
}

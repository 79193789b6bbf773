package chat

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// Text search components (METextSearchComponent).
const (
	ComponentSessionTitle       = "SESSION_TITLE"
	ComponentMembersDisplayName = "MEMBERS_DISPLAY_NAME"
	ComponentMembersUsername    = "MEMBERS_USERNAME"
	ComponentMessagesBody       = "MESSAGES_BODY"
)

// Criteria is findByProperties' MCriteria, decoded.
type Criteria struct {
	// SearchKey is matched, case-insensitively, as a substring of the
	// Components (all four when none are given); "" matches everything.
	SearchKey  string
	Components []string
	// SesTypes, SessionIDs and Ages keep only the sessions of those
	// types, ids and ages (none = any).
	SesTypes   []SessionType
	SessionIDs []string
	Ages       []string
	// From and To (Unix ms, 0 = open) bound the session's last update.
	From, To int64
}

// Search lists the caller's sessions matching the criteria, most
// recently updated first, each with its latest messages.
func (s *Service) Search(ctx context.Context, c Caller, cr Criteria, sessions, msgs Page) (SessionList, error) {
	db := s.read(ctx)
	ids, err := searchMemberSessions(db, c.Tenant(), c.UserID(), cr)
	if err != nil {
		return SessionList{}, err
	}
	ms, total, err := MemberSessions(db, SessionFilter{Tenant: c.Tenant(), UserID: c.UserID(), IDs: ids,
		Offset: sessions.Offset, Limit: sessions.Limit})
	if err != nil {
		return SessionList{}, err
	}
	ds, err := s.details(db, c.Tenant(), c.UserID(), ms, msgs)
	return SessionList{Count: total, Sessions: ds}, err
}

// likePattern is key as a LIKE substring pattern (escape character \).
func likePattern(key string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(key)) + "%"
}

// searchMemberSessions selects the ids of the user's sessions matching
// cr: a case-insensitive substring match on both databases.
func searchMemberSessions(db *gorm.DB, tenant, userID string, cr Criteria) ([]string, error) {
	q := db.Table("chat_sessions AS s").Select("s.id").
		Joins("JOIN chat_members AS m ON m.session_id = s.id").
		Where("s.tenant = ? AND m.user_id = ? AND m.left_at = 0", tenant, userID)
	if len(cr.SesTypes) > 0 {
		q = q.Where("s.type IN ?", cr.SesTypes)
	}
	if cr.SessionIDs != nil {
		q = q.Where("s.id IN ?", append(cr.SessionIDs, ""))
	}
	if cr.From > 0 {
		q = q.Where("s.updated_at >= ?", cr.From)
	}
	if cr.To > 0 {
		q = q.Where("s.updated_at <= ?", cr.To)
	}
	if len(cr.Ages) > 0 {
		q = q.Where("m.age IN ?", cr.Ages)
	}
	if cr.SearchKey != "" {
		comps := cr.Components
		if len(comps) == 0 {
			comps = []string{ComponentSessionTitle, ComponentMembersDisplayName, ComponentMembersUsername, ComponentMessagesBody}
		}
		pat := likePattern(cr.SearchKey)
		var conds []string
		var args []any
		for _, comp := range sortedUnique(comps) {
			switch comp {
			case ComponentSessionTitle:
				conds = append(conds, `LOWER(s.title) LIKE ? ESCAPE '\'`)
				args = append(args, pat)
			case ComponentMembersDisplayName:
				conds = append(conds, `EXISTS (SELECT 1 FROM chat_members om JOIN users u ON u.tenant = s.tenant AND u.id = om.user_id
					WHERE om.session_id = s.id AND om.left_at = 0
					AND (LOWER(u.full_name) LIKE ? ESCAPE '\' OR (u.full_name = '' AND LOWER(u.username) LIKE ? ESCAPE '\')))`)
				args = append(args, pat, pat)
			case ComponentMembersUsername:
				conds = append(conds, `EXISTS (SELECT 1 FROM chat_members om WHERE om.session_id = s.id AND om.left_at = 0
					AND LOWER(om.user_id) LIKE ? ESCAPE '\')`)
				args = append(args, pat)
			case ComponentMessagesBody:
				conds = append(conds, `EXISTS (SELECT 1 FROM messages mm WHERE mm.session_id = s.id AND mm.removed_at = 0
					AND mm.type = 1 AND LOWER(mm.content) LIKE ? ESCAPE '\')`)
				args = append(args, pat)
			}
		}
		if len(conds) == 0 {
			return []string{}, nil
		}
		q = q.Where("("+strings.Join(conds, " OR ")+")", args...)
	}
	ids := []string{}
	return ids, q.Pluck("s.id", &ids).Error
}

package chat

import (
	"context"
	"time"
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

// Search lists the caller's sessions matching the criteria (see
// Search's SearchQuery), most recently updated first, each with its
// matching messages (or its latest ones when no message body is
// searched).
func (s *Service) Search(ctx context.Context, c Caller, cr Criteria, sessions, msgs Page) (SessionList, error) {
	db := s.read(ctx)
	q := SearchQuery{Tenant: c.Tenant(), UserID: c.UserID(), Key: cr.SearchKey, Components: cr.Components,
		SessionTypes: cr.SesTypes, SessionIDs: cr.SessionIDs, SessionAges: cr.Ages,
		Offset: sessions.Offset, NumOfRes: sessions.Limit, OffsetMsg: msgs.Offset, NumOfResMsg: msgs.Limit}
	if cr.From > 0 {
		q.FromDate = time.UnixMilli(cr.From)
	}
	if cr.To > 0 {
		q.ToDate = time.UnixMilli(cr.To)
	}
	total, err := CountSearch(db, s.db.Dialect, q)
	if err != nil {
		return SessionList{}, err
	}
	hits, err := Search(db, s.db.Dialect, q)
	if err != nil {
		return SessionList{}, err
	}
	ids := make([]string, len(hits))
	found := make(map[string][]Message, len(hits))
	for i, h := range hits {
		ids[i] = h.SessionID
		found[h.SessionID] = h.Messages
	}
	ms, _, err := MemberSessions(db, SessionFilter{Tenant: c.Tenant(), UserID: c.UserID(), IDs: ids})
	if err != nil {
		return SessionList{}, err
	}
	ds, err := s.details(db, c.Tenant(), c.UserID(), ms, msgs, found)
	return SessionList{Count: total, Sessions: ds}, err
}

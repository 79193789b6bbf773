package chat

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// SearchQuery is findByProperties (MFindByPropertiesPayload with its
// MCriteria) for one user.
type SearchQuery struct {
	// Tenant and UserID are the caller's: only sessions of the tenant that
	// the user is a current member of are searched.
	Tenant string
	UserID string
	// Key, trimmed, is matched case-insensitively as a substring (on
	// PostgreSQL also as words: every word of Key, in any order) of the
	// Components. "" matches every session.
	Key string
	// Components are METextSearchComponent names: SESSION_TITLE,
	// MEMBERS_DISPLAY_NAME, MEMBERS_USERNAME, MESSAGES_BODY. None = all.
	// Members are the session's current members other than the caller
	// (searching one's own name would match every session).
	Components []string
	// SessionTypes (MTextSearch.sesTypes), SessionIDs and SessionAges
	// (RECENT / ARCHIVED) keep only the sessions listed; empty = any.
	SessionTypes []SessionType
	SessionIDs   []string
	SessionAges  []string
	// AgeCutoff, when set (Unix ms, now minus the archive window), judges
	// ages with AgeOf at query time, as the session lists do; when 0, the
	// stored chat_members.age is read (current as of the last
	// RefreshAges or RefreshSessionAges).
	AgeCutoff int64
	// FromDate and ToDate (zero = open) keep the sessions active within
	// the interval (created by ToDate, updated since FromDate) and the
	// messages sent within it.
	FromDate, ToDate time.Time
	// Offset and NumOfRes page the sessions, most recently updated first;
	// OffsetMsg and NumOfResMsg page each session's messages, newest
	// first. A count of 0 means no limit, below 0 none.
	Offset, NumOfRes       int
	OffsetMsg, NumOfResMsg int
}

// SearchHit is one matching session.
type SearchHit struct {
	SessionID string
	// Messages are the session's messages that match the key, when the
	// search covers MESSAGES_BODY with a key; otherwise its latest
	// messages (as a session list shows them). Within FromDate/ToDate,
	// never removed ones, newest first, one page of them.
	Messages []Message
	// MessageCount is how many messages match in all (for paging them).
	MessageCount int64
}

// Search runs findByProperties: the caller's matching sessions, most
// recently updated first, with their matching messages. dialect is the
// database's ("sqlite" or "postgres"). SQLite folds case for ASCII letters
// only; PostgreSQL folds all.
func Search(db *gorm.DB, dialect string, q SearchQuery) ([]SearchHit, error) {
	s, err := newSearch(dialect, q)
	if err != nil {
		return nil, err
	}
	if q.NumOfRes < 0 {
		return []SearchHit{}, nil
	}
	sessions := db.Table("chat_sessions AS s").Select("s.id")
	sessions = s.where(sessions).Order("s.updated_at DESC, s.id").Offset(max(q.Offset, 0))
	if q.NumOfRes > 0 {
		sessions = sessions.Limit(q.NumOfRes)
	}
	var ids []string
	if err := sessions.Pluck("s.id", &ids).Error; err != nil {
		return nil, err
	}
	hits := make([]SearchHit, len(ids))
	byID := make(map[string]*SearchHit, len(ids))
	for i, id := range ids {
		hits[i] = SearchHit{SessionID: id, Messages: []Message{}}
		byID[id] = &hits[i]
	}
	if len(ids) == 0 || q.NumOfResMsg < 0 {
		return hits, nil
	}
	return hits, s.messages(db, ids, byID)
}

// CountSearch counts every session Search would find, ignoring the pages
// (MSearchResultsPayload.count).
func CountSearch(db *gorm.DB, dialect string, q SearchQuery) (int64, error) {
	s, err := newSearch(dialect, q)
	if err != nil {
		return 0, err
	}
	var n int64
	return n, s.where(db.Table("chat_sessions AS s")).Count(&n).Error
}

// Search components (METextSearchComponent).
var searchComponents = []string{"SESSION_TITLE", "MEMBERS_DISPLAY_NAME", "MEMBERS_USERNAME", "MESSAGES_BODY"}

// search is a validated query with its SQL fragments.
type search struct {
	q          SearchQuery
	postgres   bool
	components map[string]bool
	pattern    string // Key as a LIKE pattern, escape character '!'
}

func newSearch(dialect string, q SearchQuery) (*search, error) {
	if q.Tenant == "" || q.UserID == "" {
		return nil, errors.New("chat: search needs the caller's tenant and user")
	}
	if dialect != "sqlite" && dialect != "postgres" {
		return nil, errors.New("chat: search: unknown dialect " + dialect)
	}
	q.Key = strings.TrimSpace(q.Key)
	s := &search{q: q, postgres: dialect == "postgres", components: map[string]bool{}}
	for _, c := range q.Components {
		known := false
		for _, k := range searchComponents {
			known = known || c == k
		}
		if !known {
			return nil, switchboard.Errorf(switchboard.EINVALID, "unknown text search component %q", c)
		}
		s.components[c] = true
	}
	if len(s.components) == 0 {
		for _, k := range searchComponents {
			s.components[k] = true
		}
	}
	for _, a := range q.SessionAges {
		if a != AgeRecent && a != AgeArchived {
			return nil, switchboard.Errorf(switchboard.EINVALID, "unknown session age %q", a)
		}
	}
	if !q.FromDate.IsZero() && !q.ToDate.IsZero() && q.ToDate.Before(q.FromDate) {
		return nil, switchboard.Errorf(switchboard.EINVALID, "toDate is before fromDate")
	}
	s.pattern = ContainsPattern(q.Key)
	return s, nil
}

// likeEscaper makes LIKE's wildcards literal with the escape character
// '!', which needs no quoting in either dialect's string literals.
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// ContainsPattern is the LIKE pattern (escape character '!': write
// `LIKE ? ESCAPE '!'`) of the strings that contain s, whatever LIKE's
// wildcards s holds. Ticket search filters owners' names with it too.
func ContainsPattern(s string) string { return "%" + likeEscaper.Replace(s) + "%" }

// match is "column contains the key": a substring match, and on
// PostgreSQL also a word match that its GIN indexes serve (fts marks the
// columns that have one: the expression must be the index's).
func (s *search) match(column string, fts bool) (string, []any) {
	if !s.postgres {
		return column + " LIKE ? ESCAPE '!'", []any{s.pattern}
	}
	if !fts {
		return column + " ILIKE ? ESCAPE '!'", []any{s.pattern}
	}
	return "(" + column + " ILIKE ? ESCAPE '!' OR to_tsvector('simple', " + column + ") @@ plainto_tsquery('simple', ?))",
		[]any{s.pattern, s.q.Key}
}

// where adds the session conditions to a query over chat_sessions AS s.
func (s *search) where(db *gorm.DB) *gorm.DB {
	q := s.q
	db = db.Joins("JOIN chat_members AS m ON m.session_id = s.id").
		Where("s.tenant = ? AND m.user_id = ? AND m.left_at = 0", q.Tenant, q.UserID)
	if len(q.SessionTypes) > 0 {
		db = db.Where("s.type IN ?", q.SessionTypes)
	}
	if len(q.SessionIDs) > 0 {
		db = db.Where("s.id IN ?", q.SessionIDs)
	}
	switch {
	case len(q.SessionAges) == 0:
	case q.AgeCutoff > 0:
		db = db.Where(`CASE WHEN m.archived = TRUE THEN 'ARCHIVED'
			WHEN m.starred = TRUE OR s.updated_at >= ? THEN 'RECENT' ELSE 'ARCHIVED' END IN ?`, q.AgeCutoff, q.SessionAges)
	default:
		db = db.Where("m.age IN ?", q.SessionAges)
	}
	if !q.FromDate.IsZero() {
		db = db.Where("s.updated_at >= ?", q.FromDate.UnixMilli())
	}
	if !q.ToDate.IsZero() {
		db = db.Where("s.created_at <= ?", q.ToDate.UnixMilli())
	}
	if q.Key == "" {
		return db
	}
	var conds []string
	var args []any
	add := func(cond string, a ...any) { conds, args = append(conds, cond), append(args, a...) }
	if s.components["SESSION_TITLE"] {
		cond, a := s.match("s.title", true)
		add(cond, a...)
	}
	// Members without a users row (never authenticated) are known by id,
	// as User.DisplayName would show them.
	const others = `EXISTS (SELECT 1 FROM chat_members om
		LEFT JOIN users u ON u.tenant = s.tenant AND u.id = om.user_id
		WHERE om.session_id = s.id AND om.left_at = 0 AND om.user_id <> ? AND `
	if s.components["MEMBERS_DISPLAY_NAME"] {
		cond, a := s.match(`CASE WHEN COALESCE(u.full_name, '') <> '' THEN u.full_name
			WHEN COALESCE(u.username, '') <> '' THEN u.username ELSE om.user_id END`, false)
		add(others+cond+")", append([]any{q.UserID}, a...)...)
	}
	if s.components["MEMBERS_USERNAME"] {
		// The chat protocol's username is the user's id; a profile may
		// also carry a username of its own.
		byID, a1 := s.match("om.user_id", false)
		byName, a2 := s.match("COALESCE(u.username, '')", false)
		add(others+"("+byID+" OR "+byName+"))", append(append([]any{q.UserID}, a1...), a2...)...)
	}
	if s.components["MESSAGES_BODY"] {
		msgs, a := s.messageConds("mm")
		add(`EXISTS (SELECT 1 FROM messages mm WHERE mm.session_id = s.id AND `+msgs+`)`, a...)
	}
	return db.Where("("+strings.Join(conds, " OR ")+")", args...)
}

// searchesBodies reports whether messages must match the key.
func (s *search) searchesBodies() bool { return s.q.Key != "" && s.components["MESSAGES_BODY"] }

// messageConds is "message alias is one Search shows": of the tenant, not
// removed, within the dates and, when bodies are searched, a text whose
// body contains the key (an image's content is its data, not words).
func (s *search) messageConds(alias string) (string, []any) {
	q := s.q
	conds := []string{alias + ".tenant = ?", alias + ".removed_at = 0"}
	args := []any{q.Tenant}
	if !q.FromDate.IsZero() {
		conds, args = append(conds, alias+".created_at >= ?"), append(args, q.FromDate.UnixMilli())
	}
	if !q.ToDate.IsZero() {
		conds, args = append(conds, alias+".created_at <= ?"), append(args, q.ToDate.UnixMilli())
	}
	if s.searchesBodies() {
		cond, a := s.match(alias+".content", true)
		conds, args = append(conds, alias+".type = ?", cond), append(append(args, TypeText), a...)
	}
	return strings.Join(conds, " AND "), args
}

// messages fills in each hit's page of messages and its count: two
// queries for all the sessions of the page, whatever their number.
func (s *search) messages(db *gorm.DB, ids []string, byID map[string]*SearchHit) error {
	conds, args := s.messageConds("mm")
	args = append([]any{ids}, args...)
	var counts []struct {
		SessionID string `gorm:"column:session_id"`
		N         int64  `gorm:"column:n"`
	}
	if err := db.Raw(`SELECT mm.session_id, COUNT(*) AS n FROM messages mm
		WHERE mm.session_id IN ? AND `+conds+` GROUP BY mm.session_id`, args...).Scan(&counts).Error; err != nil {
		return err
	}
	for _, c := range counts {
		byID[c.SessionID].MessageCount = c.N
	}
	from := max(s.q.OffsetMsg, 0)
	page, pageArgs := "x.rn > ?", []any{from}
	if s.q.NumOfResMsg > 0 {
		page, pageArgs = page+" AND x.rn <= ?", append(pageArgs, from+s.q.NumOfResMsg)
	}
	var rows []struct {
		Message
		RN int64 `gorm:"column:rn"`
	}
	err := db.Raw(`SELECT * FROM (
			SELECT mm.*, ROW_NUMBER() OVER (PARTITION BY mm.session_id ORDER BY mm.seq DESC) AS rn
			FROM messages mm WHERE mm.session_id IN ? AND `+conds+`) x
		WHERE `+page+` ORDER BY x.session_id, x.seq DESC`, append(args, pageArgs...)...).Scan(&rows).Error
	for _, r := range rows {
		h := byID[r.SessionID]
		h.Messages = append(h.Messages, r.Message)
	}
	return err
}

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
	q := SearchQuery{Tenant: c.Tenant(), UserID: c.UserID, Key: cr.SearchKey, Components: cr.Components,
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
	ms, _, err := MemberSessions(db, SessionFilter{Tenant: c.Tenant(), UserID: c.UserID, IDs: ids})
	if err != nil {
		return SessionList{}, err
	}
	ds, err := s.details(db, c.Tenant(), c.UserID, ms, msgs, found)
	return SessionList{Count: total, Sessions: ds}, err
}

package tickets

import (
	"context"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// Ticket search: operators find their tenant's tickets by the words of
// their messages and by who, what and when. The databases' full-text
// indexes find the messages (searchIndex); which words matched where is
// worked out here, the same way for both, from the message's text.
//
// It is not the chat protocol's findByProperties (chat.Search): that one
// searches one member's own sessions by substrings (titles, members'
// names, bodies), as that protocol defines, and has no ticket filters;
// this one searches a whole tenant's tickets, so it must be served by an
// index of words, and quotes the matching line. What they share is the
// owner-name LIKE pattern (chat.ContainsPattern).

// MaxSearchText bounds a search's words, in bytes.
const MaxSearchText = 256

// Search pages: DefaultSearchLimit results unless asked for fewer or
// more, never more than MaxSearchLimit.
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 100
)

// TicketQuery is one ticket search; zero fields do not filter.
type TicketQuery struct {
	// Text's words must all be in one text message of the ticket (whole
	// words, case-insensitively).
	Text string
	// User is the owner's id, or a part of the owner's name
	// (case-insensitive; on SQLite for ASCII letters only).
	User string
	// Label is a label the ticket carries (a ticket_labels row).
	Label    string
	Status   Status
	Operator string // the handler's id
	// From and To bound the ticket's creation, Unix ms, both included.
	From, To int64
	Cursor   string
	Limit    int // 0: DefaultSearchLimit
}

// SearchResult is one ticket found, with the message whose words matched.
type SearchResult struct {
	Ticket Ticket
	Match  *Match // nil without words to match
}

// Match is where a ticket's latest matching message matched: Text is the
// line of it that holds the first matched word (at most
// maxMatchTextBytes), Highlights the byte ranges [start, end) in Text of
// every word of the query.
type Match struct {
	MessageID  string
	Text       string
	Highlights [][2]int
}

// Wire is the result as the REST API shows it.
func (r SearchResult) Wire() map[string]any {
	w := map[string]any{"ticket": r.Ticket.Wire()}
	if r.Match != nil {
		hs := make([][]int, len(r.Match.Highlights))
		for i, h := range r.Match.Highlights {
			hs[i] = []int{h[0], h[1]}
		}
		w["match"] = map[string]any{"messageId": r.Match.MessageID, "text": r.Match.Text, "highlights": hs}
	}
	return w
}

// searchCursor is where a page of results ends (newest first).
type searchCursor struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
}

// SearchTickets returns one page of the tenant's tickets matching q,
// newest first (by creation, then id), and the next page's cursor ("" on
// the last page). Operators only.
func (s *Service) SearchTickets(ctx context.Context, c Caller, q TicketQuery) ([]SearchResult, string, error) {
	if !isOperator(c) {
		return nil, "", switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may search tickets")
	}
	if len(q.Text) > MaxSearchText {
		return nil, "", invalid("q holds at most %d bytes", MaxSearchText)
	}
	if q.From != 0 && q.To != 0 && q.To < q.From {
		return nil, "", invalid("to is before from")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	words := searchWords(q.Text)
	index := indexFor(s.db.Dialect)
	db := s.db.WithContext(ctx).Model(&Ticket{}).Where("tenant = ?", c.Tenant())
	if q.Status != 0 {
		db = db.Where("status = ?", q.Status)
	}
	if q.Operator != "" {
		db = db.Where("handler_id = ?", q.Operator)
	}
	if q.User != "" {
		db = db.Where("(owner_id = ? OR LOWER(owner_name) LIKE LOWER(?) ESCAPE '!')", q.User, chat.ContainsPattern(q.User))
	}
	if q.Label != "" {
		db = db.Where("EXISTS (SELECT 1 FROM ticket_labels l WHERE l.ticket_id = tickets.id AND l.label_id = ?)", q.Label)
	}
	if q.From != 0 {
		db = db.Where("created_at >= ?", q.From)
	}
	if q.To != 0 {
		db = db.Where("created_at <= ?", q.To)
	}
	if q.Cursor != "" {
		var at searchCursor
		if err := switchboard.DecodeCursor(q.Cursor, &at); err != nil {
			return nil, "", err
		}
		db = db.Where("(created_at < ? OR (created_at = ? AND id < ?))", at.CreatedAt, at.CreatedAt, at.ID)
	}
	if len(words) > 0 {
		cond, args := index.matching(words)
		db = db.Where("id IN (SELECT m.session_id FROM messages m WHERE m.tenant = ? AND "+searchable+" AND "+cond+")",
			append([]any{c.Tenant()}, args...)...)
	}
	var ts []Ticket
	if err := db.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&ts).Error; err != nil {
		return nil, "", err
	}
	if err := withLabels(s.db.WithContext(ctx), ts); err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) > limit {
		ts = ts[:limit]
		last := ts[limit-1]
		next = switchboard.EncodeCursor(searchCursor{last.CreatedAt, last.ID})
	}
	rs := make([]SearchResult, len(ts))
	for i, t := range ts {
		rs[i].Ticket = t
	}
	if len(words) == 0 || len(ts) == 0 {
		return rs, next, nil
	}
	return rs, next, s.matches(ctx, rs, index, words)
}

// searchable is the condition on messages AS m that search looks into:
// text the conversation's parties wrote, not removed (system messages
// and images have no words of theirs; notes are not messages).
const searchable = "m.kind = 'USER' AND m.type = 1 AND m.removed_at = 0"

// matches fills in each result's latest matching message, in one query
// for the page.
func (s *Service) matches(ctx context.Context, rs []SearchResult, index searchIndex, words []string) error {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.Ticket.ID
	}
	cond, args := index.matching(words)
	var rows []struct {
		SessionID string `gorm:"column:session_id"`
		ID        string `gorm:"column:id"`
		Content   string `gorm:"column:content"`
	}
	err := s.db.WithContext(ctx).Raw(`SELECT x.session_id, x.id, x.content FROM (
			SELECT m.session_id, m.id, m.content, ROW_NUMBER() OVER (PARTITION BY m.session_id ORDER BY m.seq DESC) AS rn
			FROM messages m WHERE m.session_id IN ? AND `+searchable+` AND `+cond+`) x
		WHERE x.rn = 1`, append([]any{ids}, args...)...).Scan(&rows).Error
	if err != nil {
		return err
	}
	byID := make(map[string]*SearchResult, len(rs))
	for i := range rs {
		byID[rs[i].Ticket.ID] = &rs[i]
	}
	for _, row := range rows {
		text, hs := highlight(row.Content, words)
		byID[row.SessionID].Match = &Match{MessageID: row.ID, Text: text, Highlights: hs}
	}
	return nil
}

// searchWords are the distinct words of a query, lower-cased: runs of
// letters and digits, as both indexes split text.
func searchWords(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, notWordRune) {
		w = strings.ToLower(w)
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	sort.Strings(out) // one query text for one set of words
	return out
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// maxMatchTextBytes bounds a match's quoted line.
const maxMatchTextBytes = 512

// highlight quotes the line of content that holds the first of words
// (cut to maxMatchTextBytes around it, on character boundaries) and the
// byte ranges of every occurrence of words in that quote.
func highlight(content string, words []string) (string, [][2]int) {
	want := make(map[string]bool, len(words))
	for _, w := range words {
		want[w] = true
	}
	all := wordSpans(content, want)
	if len(all) == 0 { // the index and this split disagree: quote the start
		return clip(content, 0, len(content)), nil
	}
	first := all[0]
	start := strings.LastIndexByte(content[:first[0]], '\n') + 1
	end := len(content)
	if i := strings.IndexByte(content[first[1]:], '\n'); i >= 0 {
		end = first[1] + i
	}
	if end-start > maxMatchTextBytes { // a window around the first match
		start = max(start, first[0]-maxMatchTextBytes/4)
		end = min(end, start+maxMatchTextBytes)
	}
	text := clip(content, start, end)
	for start < len(content) && !utf8.RuneStart(content[start]) {
		start++
	}
	var hs [][2]int
	for _, sp := range all {
		if sp[0] >= start && sp[1] <= start+len(text) {
			hs = append(hs, [2]int{sp[0] - start, sp[1] - start})
		}
	}
	return text, hs
}

// clip is content[start:end] moved inward to character boundaries.
func clip(content string, start, end int) string {
	end = min(end, len(content))
	for start < end && !utf8.RuneStart(content[start]) {
		start++
	}
	for end < len(content) && end > start && !utf8.RuneStart(content[end]) {
		end--
	}
	return content[start:end]
}

// wordSpans are the byte ranges of content's words that are in want.
func wordSpans(content string, want map[string]bool) [][2]int {
	var out [][2]int
	start := -1
	for i, r := range content + " " {
		switch {
		case !notWordRune(r) && start < 0:
			start = i
		case notWordRune(r) && start >= 0:
			if want[strings.ToLower(content[start:i])] {
				out = append(out, [2]int{start, i})
			}
			start = -1
		}
	}
	return out
}

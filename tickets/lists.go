package tickets

import (
	"context"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// TicketPage selects one page of ListTickets.
type TicketPage struct {
	Status Status // 0 = any
	// HandlerID, OwnerID and ProgramID keep only the tickets with that
	// handler, owner (a program's end user as the program names it) or
	// program ("" = any). An end user sees only its own tickets and a
	// program only its own, whatever these say.
	HandlerID, OwnerID, ProgramID string
	// UpdatedSince keeps only the tickets changed at or after it (Unix
	// milliseconds, 0 = any).
	UpdatedSince int64
	// Label keeps only the tickets that carry this label ("" = any);
	// operators only, since only they see labels.
	Label string
	// Limit is how many tickets at most: 0 is switchboard.DefaultPageLimit,
	// more than switchboard.MaxPageLimit is that.
	Limit int
	// Cursor is where the page starts: "" for the newest ticket, else a
	// cursor an earlier page returned.
	Cursor string
}

// ticketCursor is a position in ListTickets' order (newest first, then
// by id): the last ticket of a page. Clients get it opaque.
type ticketCursor struct {
	CreatedAt int64  `json:"t"`
	ID        string `json:"id"`
}

func parseTicketCursor(s string) (*ticketCursor, error) {
	var c ticketCursor
	if err := switchboard.DecodeCursor(s, &c); err != nil {
		return nil, err
	}
	if c.ID == "" {
		return nil, switchboard.Errorf(switchboard.EINVALID, "cursor: not a cursor this server gave; start again without one")
	}
	return &c, nil
}

// ListTickets returns a page of the tickets the caller may see, newest
// first: an operator every ticket of its tenant, an end user its own, a
// program its end users'. next is the cursor of the page after it, ""
// when this is the last. Each ticket is on exactly one page, however
// many tickets are created meanwhile (new ones come before the first).
func (s *Service) ListTickets(ctx context.Context, c Caller, p TicketPage) (ts []Ticket, next string, err error) {
	limit := switchboard.ClampPageLimit(p.Limit)
	f := TicketFilter{Tenant: c.Tenant(), Status: p.Status, Limit: limit + 1, HandlerID: p.HandlerID,
		OwnerID: p.OwnerID, ProgramID: p.ProgramID, UpdatedSince: p.UpdatedSince, Label: p.Label}
	if p.Cursor != "" {
		if f.After, err = parseTicketCursor(p.Cursor); err != nil {
			return nil, "", err
		}
	}
	if p.Label != "" && !isOperator(c) {
		return nil, "", switchboard.Errorf(switchboard.EFORBIDDEN, "only operators filter by label")
	}
	switch c.Principal.Role {
	case switchboard.RoleOperator:
	case switchboard.RoleProgram:
		f.ProgramID = c.Principal.ProgramID
		if f.OwnerID != "" {
			f.OwnerID = switchboard.ScopedUserID(f.ProgramID, f.OwnerID)
		}
	default:
		f.OwnerID = c.UserID
	}
	db := s.db.WithContext(ctx)
	if ts, err = listTickets(db, f); err != nil {
		return nil, "", err
	}
	if isOperator(c) {
		if err := withLabels(db, ts); err != nil {
			return nil, "", err
		}
	}
	if len(ts) > limit {
		ts = ts[:limit]
		last := ts[limit-1]
		next = switchboard.EncodeCursor(ticketCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return ts, next, nil
}

// maxPageBytes ends a page of messages early once their contents reach
// it, so that a page of large images stays small; the next page goes on
// from there.
const maxPageBytes = 4 << 20

// Messages returns a page of a ticket's messages after since (a message id
// of that ticket, or an ISO 8601 time; "" = from the start), in commit
// order: at most limit of them (bounded as TicketPage.Limit is), fewer when
// their contents reach maxPageBytes. more says whether messages may follow
// the page: the next page is since=<the page's last message id>.
func (s *Service) Messages(ctx context.Context, c Caller, ticketID, since string, limit int) (ms []chat.Message, more bool, err error) {
	db := s.db.WithContext(ctx)
	t, err := see(db, c, ticketID)
	if err != nil {
		return nil, false, err
	}
	chats := chat.StoreIn(db)
	limit = switchboard.ClampPageLimit(limit)
	// One more row than the page says whether there is a next page; system
	// notes are the chat protocol's.
	q := chat.Since{UserOnly: true, Limit: limit + 1, MaxBytes: maxPageBytes}
	if since != "" {
		if at, err := chat.ParseTime(since); err == nil {
			// Stored times are whole milliseconds: a message is strictly
			// later than at exactly when it is later than at's millisecond.
			q.AfterMillis = at.UnixMilli()
		} else {
			m, found, err := chats.FindMessage(c.Tenant(), since)
			if err != nil {
				return nil, false, err
			}
			if !found || m.SessionID != t.ID {
				return nil, false, switchboard.Errorf(switchboard.EINVALID, "since: no message %s in this ticket and not an ISO 8601 time", since)
			}
			q.AfterSeq = m.Seq
		}
	}
	if ms, err = chats.MessagesSince(t.ID, q); err != nil {
		return nil, false, err
	}
	if len(ms) > limit {
		return ms[:limit], true, nil
	}
	// Cut short by size: the next page tells whether more follow.
	return ms, len(ms) > 0 && contentBytes(ms) >= maxPageBytes, nil
}

func contentBytes(ms []chat.Message) int {
	n := 0
	for _, m := range ms {
		n += len(m.Content)
	}
	return n
}

// Ticket returns one ticket the caller may see (NOT_FOUND otherwise).
// Operators get its labels too.
func (s *Service) Ticket(ctx context.Context, c Caller, id string) (Ticket, error) {
	db := s.db.WithContext(ctx)
	t, err := see(db, c, id)
	if err != nil || !isOperator(c) {
		return t, err
	}
	ts := []Ticket{t}
	err = withLabels(db, ts)
	return ts[0], err
}

// Events returns the audit trail of a ticket the caller may see, oldest
// first: whoever may see the ticket hears of its transitions on the
// sockets too.
func (s *Service) Events(ctx context.Context, c Caller, id string) ([]AuditEntry, error) {
	db := s.db.WithContext(ctx)
	if _, err := see(db, c, id); err != nil {
		return nil, err
	}
	return AuditTrail(db, id)
}

// Message returns a message of a ticket the caller may see; found is
// false when the ticket holds no such message.
func (s *Service) Message(ctx context.Context, c Caller, ticketID, messageID string) (m chat.Message, found bool, err error) {
	db := s.db.WithContext(ctx)
	if _, err := see(db, c, ticketID); err != nil {
		return m, false, err
	}
	m, found, err = chat.StoreIn(db).FindMessage(c.Tenant(), messageID)
	return m, found && m.SessionID == ticketID, err
}

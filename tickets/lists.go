package tickets

import (
	"context"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// TicketPage selects one page of ListTickets.
type TicketPage struct {
	Status Status // 0 = any
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
	f := TicketFilter{Tenant: c.Tenant(), Status: p.Status, Limit: limit + 1}
	if p.Cursor != "" {
		if f.After, err = parseTicketCursor(p.Cursor); err != nil {
			return nil, "", err
		}
	}
	switch c.Principal.Role {
	case switchboard.RoleOperator:
	case switchboard.RoleProgram:
		f.ProgramID = c.Principal.ProgramID
	default:
		f.OwnerID = c.UserID
	}
	if ts, err = listTickets(s.db.WithContext(ctx), f); err != nil {
		return nil, "", err
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

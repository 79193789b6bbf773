package tickets

import (
	"context"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// Satisfaction: once a ticket is closed its owner may rate it, once, 1 to
// 5 with an optional comment. The rating is the ticket's state (columns
// of its row, loaded with it), so every ticket object carries it and a
// conditional update makes "once" hold across nodes.

// ActionRate records a rating in the audit trail.
const ActionRate Action = "rate"

// Bounds of a rating.
const (
	MinScore        = 1
	MaxScore        = 5
	MaxCommentBytes = 2048
)

// eventTicketRated is the name of the rating's event, on the sockets and
// in the stream.
const eventTicketRated = "ticketRated"

// Rating is the wire shape of a ticket's rating (ticket.rating and the
// payload of ticketRated, with TicketID).
type Rating struct {
	TicketID  string `json:"ticketId,omitempty"`
	Score     int    `json:"score"`
	Comment   string `json:"comment"`
	At        string `json:"at"`
	ProgramID string `json:"programId,omitempty"` // the stream's payload only
}

// rating is t's rating for the ticket object, nil until it is rated.
func (t Ticket) rating() *Rating {
	if t.RatedAt == 0 {
		return nil
	}
	return &Rating{Score: t.RatingScore, Comment: t.RatingComment, At: chat.FormatMillis(t.RatedAt)}
}

// RateTicket stores the owner's rating of a closed ticket: the ticket's
// owner, or its program (for whichever of its end users owns it). A
// ticket not closed is INVALID_TRANSITION, one rated already CONFLICT
// (a reopened and closed again ticket keeps its first rating), an
// operator FORBIDDEN. After commit operators and the owner's other
// sockets hear ticketRated.
func (s *Service) RateTicket(c Caller, id string, score int, comment string, done database.Done) {
	switch {
	case isOperator(c):
		done.Call(switchboard.Errorf(switchboard.EFORBIDDEN, "the ticket's owner rates it, not operators"))
		return
	case score < MinScore || score > MaxScore:
		done.Call(invalid("score must be a whole number from %d to %d", MinScore, MaxScore))
		return
	case len(comment) > MaxCommentBytes:
		done.Call(invalid("comment is longer than %d bytes", MaxCommentBytes))
		return
	}
	actor := c.UserID
	if actor == "" {
		actor = c.Principal.ID // a program that subscribed no one
	}
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		t, err := see(tx, c, id)
		if err != nil {
			return nil, err
		}
		if err := mayRate(t); err != nil {
			return nil, err
		}
		now := s.millis()
		res := tx.Exec(`UPDATE tickets SET rating_score = ?, rating_comment = ?, rated_at = ?, updated_at = ?
			WHERE id = ? AND status = ? AND rated_at = 0`, score, comment, now, now, t.ID, StatusClosed)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 {
			return nil, switchboard.Errorf(switchboard.ECONFLICT, "the ticket changed meanwhile; reload it")
		}
		t.RatingScore, t.RatingComment, t.RatedAt, t.UpdatedAt = score, comment, now, now
		state := State{t.Status, t.HandlerID, t.Team}
		if err := audit(tx, t.ID, ActionRate, actor, state, state, now); err != nil {
			return nil, err
		}
		r := *t.rating()
		r.TicketID = t.ID
		evs := []switchboard.Event{{Name: eventTicketRated, Args: []any{r}, SessionID: t.ID, ExceptSocket: c.Socket,
			To: []string{switchboard.OperatorsRoom(t.Tenant), switchboard.UserRoom(t.Tenant, t.OwnerID)}}}
		if s.committer.Streaming() {
			r.ProgramID = t.ProgramID
			evs = append(evs, switchboard.StreamEvent(eventTicketRated, t.ID,
				switchboard.DomainEvent{Tenant: t.Tenant, UserID: actor, Payload: r}))
		}
		return evs, nil
	}, done)
}

// mayRate says whether t may be rated now.
func mayRate(t Ticket) error {
	switch {
	case t.RatedAt != 0:
		return switchboard.Errorf(switchboard.ECONFLICT, "the ticket is rated already")
	case t.Status != StatusClosed:
		return switchboard.Errorf(switchboard.EINVALIDTRANSITION, "only a closed ticket may be rated")
	}
	return nil
}

// Rate is RateTicket for REST: it waits for the commit and returns the
// rated ticket.
func (s *Service) Rate(ctx context.Context, c Caller, id string, score int, comment string) (Ticket, error) {
	if err := await(ctx, func(done database.Done) { s.RateTicket(c, id, score, comment, done) }); err != nil {
		return Ticket{}, err
	}
	return s.Ticket(ctx, c, id)
}

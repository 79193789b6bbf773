package tickets

import (
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// HTTP serves the ticket REST API with the same authorization as the
// sockets: bearer access tokens, a user sees its own tickets, an operator
// all of its tenant's.
type HTTP struct {
	svc      *Service
	verifier TokenVerifier
	limits   Limits
}

// NewHTTP returns the REST handlers, with the default Limits.
func NewHTTP(svc *Service, verifier TokenVerifier) *HTTP {
	return &HTTP{svc: svc, verifier: verifier, limits: Limits{}.WithDefaults()}
}

// WithLimits bounds what the REST commands take as the livechat binding
// bounds its events.
func (h *HTTP) WithLimits(l Limits) *HTTP {
	h.limits = l.WithDefaults()
	return h
}

// Register mounts the routes on g (the /api/v1 group).
func (h *HTTP) Register(g *echo.Group) {
	g.GET("/tickets", h.list)
	g.POST("/tickets", h.create)
	g.GET("/tickets/:id", h.get)
	g.GET("/tickets/:id/notes", h.notes)
	g.POST("/tickets/:id/notes", h.addNote)
	g.GET("/search/tickets", h.search)
	g.GET("/tickets/:id/messages", h.messages)
	g.POST("/tickets/:id/messages", h.send)
	g.POST("/tickets/:id/bot-messages", h.postBotMessage)
	g.POST("/tickets/:id/accept", h.accept)
	g.POST("/tickets/:id/assign", h.assign)
	g.PUT("/tickets/:id/status", h.setStatus)
	g.GET("/tickets/:id/events", h.events)
	g.GET("/tickets/:id/transcript", h.transcript)
}

// caller authenticates the request's bearer token.
func (h *HTTP) caller(c echo.Context) (Caller, error) {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return Caller{}, err
	}
	return Caller{Principal: p, UserID: p.ID, Name: p.DisplayName}, nil
}

// GET /api/v1/tickets?status=100|200|10000&handlerId=&ownerId=&programId=
// &updatedSince=<ISO 8601>&limit=N&cursor=C
//
// A page of tickets, newest first; Link rel="next" (and X-Next-Cursor,
// the same cursor alone) names the next page when there is one.
func (h *HTTP) list(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	page := TicketPage{Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !Status(n).Valid() {
			return switchboard.WriteHTTPError(c.Response(), invalid("status must be 100, 200 or 10000"))
		}
		page.Status = Status(n)
	}
	page.HandlerID, page.OwnerID, page.ProgramID = c.QueryParam("handlerId"), c.QueryParam("ownerId"), c.QueryParam("programId")
	if s := c.QueryParam("updatedSince"); s != "" {
		at, err := chat.ParseTime(s)
		if err != nil {
			return switchboard.WriteHTTPError(c.Response(), invalid("updatedSince must be an ISO 8601 time"))
		}
		page.UpdatedSince = at.UnixMilli()
	}
	if page.Limit, err = switchboard.PageLimit(c.QueryParam("limit")); err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	ts, cursor, err := h.svc.ListTickets(c.Request().Context(), caller, page)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	next := ""
	if cursor != "" {
		next = switchboard.NextPage(c.Request(), url.Values{"cursor": {cursor}})
		c.Response().Header().Set("X-Next-Cursor", cursor)
	}
	return switchboard.WriteJSONList(c.Response(), ts, next, func(t Ticket) any { return t.Wire() })
}

// GET /api/v1/tickets/{id}/messages?since=<messageId | ISO 8601 time>&limit=N
//
// A page of messages in commit order; Link rel="next" names the next page
// (since=<the last message's id>) when there may be one.
func (h *HTTP) messages(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	limit, err := switchboard.PageLimit(c.QueryParam("limit"))
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	ms, more, err := h.svc.Messages(c.Request().Context(), caller, c.Param("id"), c.QueryParam("since"), limit)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	next := ""
	if more {
		next = switchboard.NextPage(c.Request(), url.Values{"since": {ms[len(ms)-1].ID}})
	}
	reactions, err := h.svc.Reactions(c.Request().Context(), ms)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return switchboard.WriteJSONList(c.Response(), ms, next, func(m chat.Message) any {
		if rs := reactions[m.Seq]; len(rs) > 0 {
			return ReactedMessage{Message: MessageWire(m), Reactions: rs}
		}
		return MessageWire(m)
	})
}

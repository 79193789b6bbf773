package tickets

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// HTTP serves the ticket REST API with the same authorization as the
// sockets: bearer access tokens, a user sees its own tickets, an operator
// all of its tenant's.
type HTTP struct {
	svc      *Service
	verifier TokenVerifier
}

// NewHTTP returns the REST handlers.
func NewHTTP(svc *Service, verifier TokenVerifier) *HTTP { return &HTTP{svc: svc, verifier: verifier} }

// Register mounts the routes on g (the /api/v1 group).
func (h *HTTP) Register(g *echo.Group) {
	g.GET("/tickets", h.list)
	g.GET("/tickets/:id/messages", h.messages)
}

// caller authenticates the request's bearer token.
func (h *HTTP) caller(c echo.Context) (Caller, error) {
	token, err := switchboard.BearerToken(c.Request())
	if err != nil {
		return Caller{}, err
	}
	p, err := h.verifier.Verify(c.Request().Context(), token)
	if err != nil {
		return Caller{}, err
	}
	return Caller{Principal: p, UserID: p.ID, Name: p.DisplayName}, nil
}

// GET /api/v1/tickets?status=100|200|10000
func (h *HTTP) list(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	var status Status
	if s := c.QueryParam("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !Status(n).Valid() {
			return switchboard.WriteHTTPError(c.Response(), invalid("status must be 100, 200 or 10000"))
		}
		status = Status(n)
	}
	ts, err := h.svc.ListTickets(c.Request().Context(), caller, status)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	out := make([]map[string]any, len(ts))
	for i, t := range ts {
		out[i] = t.Wire()
	}
	return c.JSON(http.StatusOK, out)
}

// GET /api/v1/tickets/{id}/messages?since=<messageId | ISO 8601 time>
func (h *HTTP) messages(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	ms, err := h.svc.Messages(c.Request().Context(), caller, c.Param("id"), c.QueryParam("since"))
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = MessageWire(m)
	}
	return c.JSON(http.StatusOK, out)
}

package operators

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// HTTP serves the operator roster to operators: GET /operators (with
// presence and status) and PUT /operators/me/status.
type HTTP struct {
	roster   *Roster
	verifier switchboard.Verifier
}

// NewHTTP returns the handlers.
func NewHTTP(roster *Roster, verifier switchboard.Verifier) *HTTP {
	return &HTTP{roster: roster, verifier: verifier}
}

// Register mounts the routes on the /api/v1 group.
func (h *HTTP) Register(g *echo.Group) {
	g.GET("/operators", h.list)
	g.PUT("/operators/me/status", h.setStatus)
	g.PUT("/operators/:id/capacity", h.setCapacity)
	g.GET("/supervisor/overview", h.overview)
}

// operator authenticates the request and requires an operator.
func (h *HTTP) operator(c echo.Context) (switchboard.Principal, error) {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return p, err
	}
	if !p.IsOperator() {
		return p, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may see the roster")
	}
	return p, nil
}

// GET /api/v1/operators?limit=N&cursor=C
//
// A page of the roster by name; Link rel="next" (and X-Next-Cursor, the
// cursor alone) names the next page when there is one.
func (h *HTTP) list(c echo.Context) error {
	p, err := h.operator(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	page := OperatorPage{Cursor: c.QueryParam("cursor")}
	if page.Limit, err = switchboard.PageLimit(c.QueryParam("limit")); err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	ops, cursor, err := h.roster.List(c.Request().Context(), p, page)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	next := ""
	if cursor != "" {
		next = switchboard.NextPage(c.Request(), url.Values{"cursor": {cursor}})
		c.Response().Header().Set("X-Next-Cursor", cursor)
	}
	return switchboard.WriteJSONList(c.Response(), ops, next, func(o Operator) any {
		return map[string]any{"operatorId": o.ID, "displayNm": o.DisplayName, "status": o.Status, "online": o.Online,
			"capacity": o.Capacity, "load": o.Load}
	})
}

func (h *HTTP) setStatus(c echo.Context) error {
	p, err := h.operator(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	var body struct {
		Status string `json:"status"`
	}
	if err := c.Bind(&body); err != nil {
		return switchboard.WriteHTTPError(c.Response(), switchboard.Errorf(switchboard.EINVALID, "send {\"status\": \"AVAILABLE\"|\"BUSY\"|\"AWAY\"|...}"))
	}
	if err := h.roster.SetStatus(c.Request().Context(), p, body.Status); err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.JSON(http.StatusOK, map[string]any{"status": strings.ToUpper(body.Status)})
}

// PUT /api/v1/operators/{id}/capacity {"capacity": N}: how many open
// tickets routing gives the operator at once ("me" is the caller; 0 is
// the server's default).
func (h *HTTP) setCapacity(c echo.Context) error {
	p, err := h.operator(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	var body struct {
		Capacity *int `json:"capacity"`
	}
	if err := c.Bind(&body); err != nil || body.Capacity == nil {
		return switchboard.WriteHTTPError(c.Response(), switchboard.Errorf(switchboard.EINVALID, "send {\"capacity\": N}"))
	}
	id := c.Param("id")
	if id == "me" {
		id = p.ID
	}
	if err := h.roster.SetCapacity(c.Request().Context(), p, id, *body.Capacity); err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.JSON(http.StatusOK, map[string]any{"operatorId": id, "capacity": *body.Capacity})
}

// GET /api/v1/supervisor/overview → {operators: [{id, name, status,
// online, load, capacity, tickets}], queue: [{ticketId, ticketNm,
// ownerNm, team, waitingSeconds}]}
func (h *HTTP) overview(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	o, err := h.roster.Overview(c.Request().Context(), p)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	ops := make([]map[string]any, len(o.Operators))
	for i, w := range o.Operators {
		ops[i] = map[string]any{"id": w.ID, "name": w.DisplayName, "status": w.Status, "online": w.Online,
			"load": w.Load, "capacity": w.Capacity, "tickets": w.Tickets}
	}
	queue := make([]map[string]any, len(o.Queue))
	for i, w := range o.Queue {
		queue[i] = map[string]any{"ticketId": w.TicketID, "ticketNm": w.TicketName, "ownerNm": w.OwnerName,
			"team": w.Team, "waitingSeconds": w.WaitingSeconds}
	}
	return c.JSON(http.StatusOK, map[string]any{"operators": ops, "queue": queue})
}

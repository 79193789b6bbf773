package operators

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// Verifier turns a bearer token into a principal.
type Verifier interface {
	Verify(ctx context.Context, raw string) (switchboard.Principal, error)
}

// HTTP serves the operator roster to operators: GET /operators (with
// presence and status) and PUT /operators/me/status.
type HTTP struct {
	roster   *Roster
	verifier Verifier
}

// NewHTTP returns the handlers.
func NewHTTP(roster *Roster, verifier Verifier) *HTTP {
	return &HTTP{roster: roster, verifier: verifier}
}

// Register mounts the routes on the /api/v1 group.
func (h *HTTP) Register(g *echo.Group) {
	g.GET("/operators", h.list)
	g.PUT("/operators/me/status", h.setStatus)
}

// operator authenticates the request and requires an operator.
func (h *HTTP) operator(c echo.Context) (switchboard.Principal, error) {
	token, err := switchboard.BearerToken(c.Request())
	if err != nil {
		return switchboard.Principal{}, err
	}
	p, err := h.verifier.Verify(c.Request().Context(), token)
	if err != nil {
		return p, err
	}
	if !p.IsOperator() {
		return p, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may see the roster")
	}
	return p, nil
}

func (h *HTTP) list(c echo.Context) error {
	p, err := h.operator(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	ops, err := h.roster.List(c.Request().Context(), p)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	out := make([]map[string]any, len(ops))
	for i, o := range ops {
		out[i] = map[string]any{"operatorId": o.ID, "displayNm": o.DisplayName, "status": o.Status, "online": o.Online}
	}
	return c.JSON(http.StatusOK, out)
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

package labels

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// maxBody bounds a request body: a name and a colour.
const maxBody = 4096

// HTTP serves /api/v1/labels. Putting a label on a ticket is the
// tickets' REST (tickets/http_labels.go).
type HTTP struct {
	svc      *Service
	verifier switchboard.Verifier
}

// NewHTTP returns the handlers.
func NewHTTP(svc *Service, verifier switchboard.Verifier) *HTTP {
	return &HTTP{svc: svc, verifier: verifier}
}

// Register mounts the routes on the /api/v1 group.
func (h *HTTP) Register(g *echo.Group) {
	g.GET("/labels", h.list)
	g.POST("/labels", h.create)
	g.PUT("/labels/:id", h.change)
	g.DELETE("/labels/:id", h.delete)
}

func fail(c echo.Context, err error) error { return switchboard.WriteHTTPError(c.Response(), err) }

func wire(l Label) map[string]any {
	return map[string]any{"id": l.ID, "name": l.Name, "color": l.Color, "openCount": l.OpenCount}
}

type input struct {
	Name  *string `json:"name"`
	Color *string `json:"color"`
}

// GET /api/v1/labels → {items: [label…]}
func (h *HTTP) list(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	ls, err := h.svc.List(c.Request().Context(), p)
	if err != nil {
		return fail(c, err)
	}
	items := make([]map[string]any, len(ls))
	for i, l := range ls {
		items[i] = wire(l)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// POST /api/v1/labels {name, color} → 201 the label
func (h *HTTP) create(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	var in input
	if err := switchboard.ReadJSON(c.Response(), c.Request(), maxBody, &in); err != nil {
		return fail(c, err)
	}
	if in.Name == nil || in.Color == nil {
		return fail(c, invalid("send name and color"))
	}
	l, err := h.svc.Create(c.Request().Context(), p, *in.Name, *in.Color)
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusCreated, wire(l))
}

// PUT /api/v1/labels/{id} {name?, color?} → the label
func (h *HTTP) change(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	var in input
	if err := switchboard.ReadJSON(c.Response(), c.Request(), maxBody, &in); err != nil {
		return fail(c, err)
	}
	l, err := h.svc.Change(c.Request().Context(), p, c.Param("id"), in.Name, in.Color)
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusOK, wire(l))
}

// DELETE /api/v1/labels/{id} → 204
func (h *HTTP) delete(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	if err := h.svc.Delete(c.Request().Context(), p, c.Param("id")); err != nil {
		return fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

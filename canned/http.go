package canned

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// maxBody bounds a request: a text of MaxText bytes, JSON-escaped, and
// the other fields.
const maxBody = 8 * MaxText

// HTTP serves /api/v1/canned-responses. It only decodes and encodes: who
// may do what is the Service's to say.
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
	g.GET("/canned-responses", h.list)
	g.POST("/canned-responses", h.create)
	g.PUT("/canned-responses/:id", h.change)
	g.DELETE("/canned-responses/:id", h.delete)
}

func fail(c echo.Context, err error) error { return switchboard.WriteHTTPError(c.Response(), err) }

// wire is a response as the API shows it.
func wire(r Response) map[string]any {
	w := map[string]any{"id": r.ID, "shortcut": r.Shortcut, "text": r.Text, "scope": r.Scope,
		"updatedAt": chat.FormatMillis(r.UpdatedAt)}
	if r.OwnerID != "" {
		w["ownerId"] = r.OwnerID
	}
	return w
}

// GET /api/v1/canned-responses → {items: [response…]}
func (h *HTTP) list(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	rs, err := h.svc.List(c.Request().Context(), p)
	if err != nil {
		return fail(c, err)
	}
	items := make([]map[string]any, len(rs))
	for i, r := range rs {
		items[i] = wire(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// input is a request body; absent fields are nil.
type input struct {
	Shortcut *string `json:"shortcut"`
	Text     *string `json:"text"`
	Scope    *string `json:"scope"`
}

// POST /api/v1/canned-responses {shortcut, text, scope} → 201 the response
func (h *HTTP) create(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	var in input
	if err := switchboard.ReadJSON(c.Response(), c.Request(), maxBody, &in); err != nil {
		return fail(c, err)
	}
	if in.Shortcut == nil || in.Text == nil || in.Scope == nil {
		return fail(c, invalid("send shortcut, text and scope"))
	}
	r, err := h.svc.Create(c.Request().Context(), p, Scope(*in.Scope), *in.Shortcut, *in.Text)
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusCreated, wire(r))
}

// PUT /api/v1/canned-responses/{id} {shortcut?, text?} → the response
func (h *HTTP) change(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	var in input
	if err := switchboard.ReadJSON(c.Response(), c.Request(), maxBody, &in); err != nil {
		return fail(c, err)
	}
	if in.Scope != nil {
		return fail(c, invalid("a canned response keeps its scope: create another"))
	}
	r, err := h.svc.Change(c.Request().Context(), p, c.Param("id"), in.Shortcut, in.Text)
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusOK, wire(r))
}

// DELETE /api/v1/canned-responses/{id} → 204
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

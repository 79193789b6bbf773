package alerts

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// HTTP serves an operator's alerts: GET /alerts, POST /alerts/{id}/read,
// POST /alerts/read-all.
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
	g.GET("/alerts", h.list)
	g.POST("/alerts/read-all", h.readAll)
	g.POST("/alerts/:id/read", h.read)
}

func fail(c echo.Context, err error) error { return switchboard.WriteHTTPError(c.Response(), err) }

// GET /api/v1/alerts?unread=true&limit=N&cursor=C → {items, unreadCount, next?}
func (h *HTTP) list(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	page := Page{Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("unread"); s != "" {
		if page.UnreadOnly, err = strconv.ParseBool(s); err != nil {
			return fail(c, switchboard.Errorf(switchboard.EINVALID, "unread must be true or false"))
		}
	}
	limit := c.QueryParam("limit")
	if limit == "" {
		limit = "50"
	}
	if page.Limit, err = switchboard.PageLimit(limit); err != nil {
		return fail(c, err)
	}
	as, unread, next, err := h.svc.List(c.Request().Context(), p, page)
	if err != nil {
		return fail(c, err)
	}
	items := make([]map[string]any, len(as))
	for i, a := range as {
		items[i] = a.Wire()
	}
	body := map[string]any{"items": items, "unreadCount": unread}
	if next != "" {
		body["next"] = next
	}
	return c.JSON(http.StatusOK, body)
}

// POST /api/v1/alerts/{id}/read → the alert
func (h *HTTP) read(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	var a Alert
	err = await(c.Request().Context(), func(done func(error)) {
		h.svc.Read(p, c.Param("id"), func(got Alert, err error) { a = got; done(err) })
	})
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusOK, a.Wire())
}

// POST /api/v1/alerts/read-all → {read: n}
func (h *HTTP) readAll(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	var n int
	err = await(c.Request().Context(), func(done func(error)) {
		h.svc.ReadAll(p, func(read int, err error) { n = read; done(err) })
	})
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"read": n})
}

// await runs one command and waits for its commit (or the request's end).
func await(ctx context.Context, run func(done func(error))) error {
	ch := make(chan error, 1)
	run(func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

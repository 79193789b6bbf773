package webhooks

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// HTTP serves a program's webhook to the program itself:
// PUT, GET and DELETE /programs/{programId}/webhook and
// GET /programs/{programId}/webhook/deliveries. Only the program's own
// token may: any other principal gets 403.
type HTTP struct {
	store    *Store
	verifier switchboard.Verifier
}

// NewHTTP returns the handlers.
func NewHTTP(store *Store, verifier switchboard.Verifier) *HTTP {
	return &HTTP{store: store, verifier: verifier}
}

// Register mounts the routes on the /api/v1 group.
func (h *HTTP) Register(g *echo.Group) {
	g.PUT("/programs/:programId/webhook", h.put)
	g.GET("/programs/:programId/webhook", h.get)
	g.DELETE("/programs/:programId/webhook", h.delete)
	g.GET("/programs/:programId/webhook/deliveries", h.deliveries)
}

// maxBody bounds a registration.
const maxBody = 16 << 10

// view is a webhook as GET shows it: never its secret.
type view struct {
	ProgramID string   `json:"programId"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Failures  int      `json:"failures"`
	Parked    bool     `json:"parked"`
	ParkedAt  *string  `json:"parkedAt"`
	Pending   int      `json:"pending"`
	CreatedAt string   `json:"createdAt"`
	UpdatedAt string   `json:"updatedAt"`
}

// program authenticates the request and checks that its principal is the
// program of the path.
func (h *HTTP) program(c echo.Context) (Program, error) {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return Program{}, err
	}
	id := c.Param("programId")
	if p.Role != switchboard.RoleProgram || p.ProgramID == "" || p.ProgramID != id {
		return Program{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only the program itself manages its webhook")
	}
	return Program{Tenant: p.Tenant, ID: id}, nil
}

func (h *HTTP) put(c echo.Context) error {
	id, err := h.program(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	var body struct {
		URL    *string  `json:"url"`
		Secret *string  `json:"secret"`
		Events []string `json:"events"`
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBody+1))
	if err != nil || len(raw) > maxBody {
		return switchboard.WriteHTTPError(c.Response(), switchboard.Errorf(switchboard.EINVALID, "the body must be a JSON object of at most 16 KiB"))
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.URL == nil || body.Secret == nil {
		return switchboard.WriteHTTPError(c.Response(), switchboard.Errorf(switchboard.EINVALID,
			"send {url, secret, events?}: url and secret strings, events an array of strings"))
	}
	hook, err := h.store.Register(c.Request().Context(), id, *body.URL, *body.Secret, body.Events)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return h.show(c, hook)
}

func (h *HTTP) get(c echo.Context) error {
	id, err := h.program(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	hook, err := h.store.Get(c.Request().Context(), id)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return h.show(c, hook)
}

func (h *HTTP) show(c echo.Context, hook Webhook) error {
	pending, err := h.store.Pending(c.Request().Context(), hook.Program)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	v := view{ProgramID: hook.ID, URL: hook.URL, Events: hook.Events, Failures: hook.Failures,
		Parked: !hook.Parked.IsZero(), Pending: pending, CreatedAt: stamp(hook.Created), UpdatedAt: stamp(hook.Updated)}
	if v.Events == nil {
		v.Events = []string{}
	}
	if v.Parked {
		at := stamp(hook.Parked)
		v.ParkedAt = &at
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, v)
}

func (h *HTTP) delete(c echo.Context) error {
	id, err := h.program(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	if err := h.store.Delete(c.Request().Context(), id); err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *HTTP) deliveries(c echo.Context) error {
	id, err := h.program(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	list, err := h.store.Deliveries(c.Request().Context(), id)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	out := make([]map[string]any, 0, len(list))
	for _, d := range list {
		out = append(out, map[string]any{"at": stamp(d.At), "status": d.Status, "error": d.Error, "count": d.Count,
			"durationMs": d.Duration.Milliseconds()})
	}
	return c.JSON(http.StatusOK, out)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

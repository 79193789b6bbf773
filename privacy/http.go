package privacy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// HTTP serves data-protection requests to administrators:
// GET /users/{id}/data (the export) and DELETE /users/{id}/data (the
// erasure). {id} is the stored user id, path-escaped (a program's end
// user "program-42/7" is program-42%2F7).
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
	g.GET("/users/:id/data", h.export)
	g.DELETE("/users/:id/data", h.erase)
}

// request authenticates the request and reads the user id.
func (h *HTTP) request(c echo.Context) (switchboard.Principal, string, error) {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return p, "", err
	}
	id, err := userID(c.Request())
	if err != nil || id == "" || len(id) > 1024 {
		return p, "", switchboard.Errorf(switchboard.EINVALID, "the user id must be a path-escaped id of at most 1 KiB")
	}
	return p, id, nil
}

// userID reads {id} from the escaped path: echo's parameter is escaped
// or not depending on whether the path had to be, and an id may hold '%'
// and '/' (switchboard.ScopedUserID).
func userID(r *http.Request) (string, error) {
	p := r.URL.EscapedPath()
	_, rest, _ := strings.Cut(p, "/users/")
	return url.PathUnescape(strings.TrimSuffix(rest, "/data"))
}

func (h *HTTP) export(c echo.Context) error {
	p, id, err := h.request(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	d, err := h.svc.Export(c.Request().Context(), p, id)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, d)
}

func (h *HTTP) erase(c echo.Context) error {
	p, id, err := h.request(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	out, err := h.svc.Erase(c.Request().Context(), p, id)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.JSON(http.StatusOK, out)
}

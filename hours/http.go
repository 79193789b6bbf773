package hours

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// HTTP serves business hours (administrators set them, operators read
// them) and availability (anyone signed in, visitors included).
type HTTP struct {
	svc      *Service
	verifier switchboard.Verifier
}

// NewHTTP returns the handlers.
func NewHTTP(svc *Service, verifier switchboard.Verifier) *HTTP {
	return &HTTP{svc: svc, verifier: verifier}
}

// Register mounts the routes on the /api/v1 group. /hours is the
// tenant's schedule, /hours/{team} a team's.
func (h *HTTP) Register(g *echo.Group) {
	for _, path := range []string{"/hours", "/hours/:team"} {
		g.GET(path, h.get)
		g.PUT(path, h.put)
		g.DELETE(path, h.delete)
	}
	g.GET("/availability", h.availability)
}

// maxScheduleBytes bounds a PUT body: a full week and a year of holidays
// fit in a fraction of it.
const maxScheduleBytes = 64 << 10

func (h *HTTP) principal(c echo.Context) (switchboard.Principal, error) {
	return switchboard.Authenticate(c.Request(), h.verifier)
}

// scheduleBody is a schedule as REST shows it: the wire form and its team.
type scheduleBody struct {
	Team string `json:"team"`
	Wire
}

// GET /api/v1/hours[/{team}]: the schedule stored for the tenant or the
// team (404 when none is: the team follows its tenant's, the tenant is
// always open).
func (h *HTTP) get(c echo.Context) error {
	p, err := h.principal(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	team := c.Param("team")
	s, found, err := h.svc.Schedule(c.Request().Context(), p, team)
	if err == nil && !found {
		err = switchboard.Errorf(switchboard.ENOTFOUND, "no business hours are set here: always open, or the tenant's hours")
	}
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.JSON(http.StatusOK, scheduleBody{Team: team, Wire: s.Wire()})
}

// PUT /api/v1/hours[/{team}] with a schedule (Wire): sets it; answers it
// as stored.
func (h *HTTP) put(c echo.Context) error {
	p, err := h.principal(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	if err := mustBeAdmin(p); err != nil { // before reading what a non-admin sent
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	var w Wire
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, maxScheduleBytes))
	dec.DisallowUnknownFields() // a misspelt "weekly" would close the tenant for good
	if err := dec.Decode(&w); err != nil {
		return switchboard.WriteHTTPError(c.Response(), switchboard.Errorf(switchboard.EINVALID,
			`send a schedule {"timeZone": "Europe/Berlin", "weekly": {"mon": [{"from": "09:00", "to": "17:00"}]}, "holidays": ["2026-12-25"], "email": "…"} (%v)`, err))
	}
	team := c.Param("team")
	s, err := h.svc.SetSchedule(c.Request().Context(), p, team, w)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.JSON(http.StatusOK, scheduleBody{Team: team, Wire: s.Wire()})
}

// DELETE /api/v1/hours[/{team}]: removes the schedule.
func (h *HTTP) delete(c echo.Context) error {
	p, err := h.principal(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	team := c.Param("team")
	deleted, err := h.svc.DeleteSchedule(c.Request().Context(), p, team)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.JSON(http.StatusOK, map[string]any{"team": team, "deleted": deleted})
}

// GET /api/v1/availability?team=X: {open, reason, nextOpenAt?} for the
// caller's tenant.
func (h *HTTP) availability(c echo.Context) error {
	p, err := h.principal(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	a, err := h.svc.Availability(c.Request().Context(), p.Tenant, c.QueryParam("team"))
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	out := map[string]any{"open": a.Open, "reason": a.Reason}
	if !a.NextOpenAt.IsZero() {
		out["nextOpenAt"] = a.NextOpenAt.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return c.JSON(http.StatusOK, out)
}

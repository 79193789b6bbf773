package operators

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// TeamsHTTP serves the teams: every operator reads them, administrators
// change them.
type TeamsHTTP struct {
	teams    *Teams
	verifier switchboard.Verifier
}

// NewTeamsHTTP returns the handlers.
func NewTeamsHTTP(teams *Teams, verifier switchboard.Verifier) *TeamsHTTP {
	return &TeamsHTTP{teams: teams, verifier: verifier}
}

// Register mounts the routes on the /api/v1 group.
func (h *TeamsHTTP) Register(g *echo.Group) {
	g.GET("/teams", h.list)
	g.PUT("/teams/:id", h.put)
	g.DELETE("/teams/:id", h.delete)
	g.PUT("/teams/:id/members/:operatorId", h.addMember)
	g.DELETE("/teams/:id/members/:operatorId", h.removeMember)
}

// principal authenticates the request; each Teams method says who may.
func (h *TeamsHTTP) principal(c echo.Context) (switchboard.Principal, error) {
	return switchboard.Authenticate(c.Request(), h.verifier)
}

func teamWire(t Team) map[string]any {
	members := t.Members
	if members == nil {
		members = []string{}
	}
	return map[string]any{"teamId": t.ID, "name": t.Name, "email": t.Email, "members": members}
}

// GET /api/v1/teams → [{teamId, name, email, members: [operatorId…]}], by id.
func (h *TeamsHTTP) list(c echo.Context) error {
	p, err := h.principal(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	teams, err := h.teams.List(c.Request().Context(), p)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	out := make([]map[string]any, len(teams))
	for i, t := range teams {
		out[i] = teamWire(t)
	}
	return c.JSON(http.StatusOK, out)
}

// PUT /api/v1/teams/{id} {"name": "…", "email": "…"}: creates (201) or
// changes (200) a team; the answer is the team.
func (h *TeamsHTTP) put(c echo.Context) error {
	p, err := h.principal(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	if err := mustAdminister(p); err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	var body struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
	}
	if err := c.Bind(&body); err != nil || body.Name == nil {
		return switchboard.WriteHTTPError(c.Response(), switchboard.Errorf(switchboard.EINVALID,
			"send {\"name\": \"Billing\", \"email\": \"billing@example.com\"} (email optional)"))
	}
	email := ""
	if body.Email != nil {
		email = *body.Email
	}
	t, created, err := h.teams.Put(c.Request().Context(), p, c.Param("id"), *body.Name, email)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, teamWire(t))
}

// DELETE /api/v1/teams/{id} → 204.
func (h *TeamsHTTP) delete(c echo.Context) error {
	p, err := h.principal(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	if err := h.teams.Delete(c.Request().Context(), p, c.Param("id")); err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.NoContent(http.StatusNoContent)
}

// PUT /api/v1/teams/{id}/members/{operatorId} → 200, the team.
func (h *TeamsHTTP) addMember(c echo.Context) error { return h.membership(c, true) }

// DELETE /api/v1/teams/{id}/members/{operatorId} → 200, the team.
func (h *TeamsHTTP) removeMember(c echo.Context) error { return h.membership(c, false) }

func (h *TeamsHTTP) membership(c echo.Context, in bool) error {
	p, err := h.principal(c)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	op := h.teams.RemoveMember
	if in {
		op = h.teams.AddMember
	}
	if err := op(c.Request().Context(), p, c.Param("id"), c.Param("operatorId")); err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	t, err := h.teams.Get(c.Request().Context(), p, c.Param("id"))
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	return c.JSON(http.StatusOK, teamWire(t))
}

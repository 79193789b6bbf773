package tickets

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// POST /api/v1/tickets/{id}/rating {score, comment?} → 201 the ticket
//
// rateTicket over REST; a program rates for the ticket's owner.
func (h *HTTP) rate(c echo.Context) error {
	ctx := c.Request().Context()
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	obj, err := h.body(c)
	if err != nil {
		return fail(c, err)
	}
	obj["ticketId"] = c.Param("id")
	id, score, comment, err := ratingInput(obj, h.limits.MaxName)
	if err != nil {
		return fail(c, err)
	}
	if caller, err = h.actingFor(ctx, caller, id); err != nil {
		return fail(c, err)
	}
	t, err := h.svc.Rate(ctx, caller, id, score, comment)
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusCreated, t.Wire())
}

// PUT or DELETE /api/v1/tickets/{id}/labels/{labelId} → the ticket
//
// Puts the label on the ticket or takes it off (operators).
func (h *HTTP) label(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	on := c.Request().Method == http.MethodPut
	t, err := h.svc.LabelTicket(c.Request().Context(), caller, c.Param("id"), c.Param("labelId"), on)
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusOK, t.Wire())
}

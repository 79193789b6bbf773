package tickets

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard/database"
)

// GET /api/v1/tickets/{id}/notes → {items: [note…]} oldest first
// (operators only).
func (h *HTTP) notes(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	ns, err := h.svc.Notes(c.Request().Context(), caller, c.Param("id"))
	if err != nil {
		return fail(c, err)
	}
	items := make([]map[string]any, len(ns))
	for i, n := range ns {
		items[i] = n.Wire()
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// POST /api/v1/tickets/{id}/notes {noteId?, content} → 201 the note, or
// 200 with the note an earlier request with this noteId stored (the
// livechat command addNote).
func (h *HTTP) addNote(c echo.Context) error {
	ctx := c.Request().Context()
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	if err := mustBeOperatorFor("write notes", caller); err != nil {
		return fail(c, err)
	}
	obj, err := h.body(c)
	if err != nil {
		return fail(c, err)
	}
	noteID, err := field(obj, "noteId", h.limits.MaxName)
	if err != nil {
		return fail(c, err)
	}
	content, err := field(obj, "content", MaxNoteBytes)
	if err != nil {
		return fail(c, err)
	}
	var n Note
	var created bool
	err = await(ctx, func(done database.Done) {
		h.svc.AddNote(caller, c.Param("id"), noteID, content, func(got Note, fresh bool, err error) {
			n, created = got, fresh
			done(err)
		})
	})
	if err != nil {
		return fail(c, err)
	}
	if err := h.known(ctx, caller); err != nil {
		return fail(c, err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, n.Wire())
}

package tickets

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// maxExportMessages bounds one transcript; a longer conversation is
// read page by page through /messages.
const maxExportMessages = 10000

// Transcript returns a ticket the caller may see and its messages in
// commit order (at most maxExportMessages; truncated says there are
// more).
func (s *Service) Transcript(ctx context.Context, c Caller, id string) (t Ticket, ms []chat.Message, truncated bool, err error) {
	if t, err = s.Ticket(ctx, c, id); err != nil {
		return t, nil, false, err
	}
	since := ""
	for {
		page, more, err := s.Messages(ctx, c, id, since, switchboard.MaxPageLimit)
		if err != nil {
			return t, nil, false, err
		}
		ms = append(ms, page...)
		if !more || len(page) == 0 {
			return t, ms, false, nil
		}
		if len(ms) >= maxExportMessages {
			return t, ms, true, nil
		}
		since = page[len(page)-1].ID
	}
}

// GET /api/v1/tickets/{id}/transcript?format=json|text
//
// The conversation for export: JSON {ticket, messages, truncated} or
// plain text, one line a message.
func (h *HTTP) transcript(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "text" {
		return fail(c, invalid("format must be json or text"))
	}
	t, ms, truncated, err := h.svc.Transcript(c.Request().Context(), caller, c.Param("id"))
	if err != nil {
		return fail(c, err)
	}
	if format == "text" {
		return c.String(http.StatusOK, transcriptText(t, ms, truncated))
	}
	wire := make([]Message, len(ms))
	for i, m := range ms {
		wire[i] = MessageWire(m)
	}
	return c.JSON(http.StatusOK, map[string]any{"ticket": t.Wire(), "messages": wire, "truncated": truncated})
}

// transcriptText renders a transcript for people: a header (with the
// owner's rating once there is one), then
// "[time] sender: content" per message (images by their type only).
func transcriptText(t Ticket, ms []chat.Message, truncated bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Ticket %s: %s\n", t.ID, t.TicketName)
	fmt.Fprintf(&b, "Owner: %s\nOpened: %s\n", t.OwnerName, chat.FormatMillis(t.CreatedAt))
	if r := t.rating(); r != nil {
		fmt.Fprintf(&b, "Rating: %d/5 at %s", r.Score, r.At)
		if r.Comment != "" {
			fmt.Fprintf(&b, ": %s", r.Comment)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, m := range ms {
		content := m.Content
		if m.Type != 1 {
			content = fmt.Sprintf("(message of type %d)", m.Type)
		}
		fmt.Fprintf(&b, "[%s] %s: %s\n", chat.FormatMillis(m.CreatedAt), m.SenderName, content)
	}
	if truncated {
		fmt.Fprintf(&b, "(truncated after %d messages)\n", len(ms))
	}
	return b.String()
}

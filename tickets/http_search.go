package tickets

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// GET /api/v1/search/tickets?q=&user=&label=&status=&operator=&from=&to=&cursor=&limit=
// → {items: [{ticket, match?}], next?} (operators only)
func (h *HTTP) search(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	q := TicketQuery{Text: c.QueryParam("q"), User: c.QueryParam("user"), Label: c.QueryParam("label"),
		Operator: c.QueryParam("operator"), Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !Status(n).Valid() {
			return fail(c, invalid("status must be 100, 200 or 10000"))
		}
		q.Status = Status(n)
	}
	if q.From, err = searchTime(c.QueryParam("from"), "from", false); err != nil {
		return fail(c, err)
	}
	if q.To, err = searchTime(c.QueryParam("to"), "to", true); err != nil {
		return fail(c, err)
	}
	if s := c.QueryParam("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 {
			return fail(c, invalid("limit must be a positive integer (pages hold at most %d results)", MaxSearchLimit))
		}
	}
	rs, next, err := h.svc.SearchTickets(c.Request().Context(), caller, q)
	if err != nil {
		return fail(c, err)
	}
	items := make([]map[string]any, len(rs))
	for i, r := range rs {
		items[i] = r.Wire()
	}
	body := map[string]any{"items": items}
	if next != "" {
		body["next"] = next
	}
	return c.JSON(http.StatusOK, body)
}

// searchTime reads a date range's end: a day (YYYY-MM-DD, UTC: its first
// millisecond, or its last when it ends the range) or an ISO 8601 time;
// "" is open (0).
func searchTime(s, name string, end bool) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if day, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			return day.AddDate(0, 0, 1).UnixMilli() - 1, nil
		}
		return day.UnixMilli(), nil
	}
	at, err := chat.ParseTime(s)
	if err != nil || at.UnixMilli() <= 0 {
		return 0, switchboard.Errorf(switchboard.EINVALID, "%s must be a date (YYYY-MM-DD) or an ISO 8601 time", name)
	}
	return at.UnixMilli(), nil
}

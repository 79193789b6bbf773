package reports

import (
	"encoding/csv"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// HTTP serves GET /api/v1/reports.
type HTTP struct {
	svc      *Service
	verifier switchboard.Verifier
}

// NewHTTP returns the handler.
func NewHTTP(svc *Service, verifier switchboard.Verifier) *HTTP {
	return &HTTP{svc: svc, verifier: verifier}
}

// Register mounts the route on the /api/v1 group.
func (h *HTTP) Register(g *echo.Group) { g.GET("/reports", h.report) }

func fail(c echo.Context, err error) error { return switchboard.WriteHTTPError(c.Response(), err) }

// GET /api/v1/reports?from=&to=&team=&operator=&format=json|csv
func (h *HTTP) report(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return fail(c, err)
	}
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" {
		return fail(c, switchboard.Errorf(switchboard.EINVALID, "format must be json or csv"))
	}
	r, err := h.svc.Report(c.Request().Context(), p, Request{From: c.QueryParam("from"), To: c.QueryParam("to"),
		Team: c.QueryParam("team"), Operator: c.QueryParam("operator")})
	if err != nil {
		return fail(c, err)
	}
	if format == "csv" {
		return writeCSV(c, r)
	}
	return c.JSON(http.StatusOK, wire(r))
}

// writeCSV answers the day rows as CSV, a header line first.
func writeCSV(c echo.Context, r Report) error {
	res := c.Response()
	res.Header().Set("Content-Type", "text/csv; charset=utf-8")
	res.Header().Set("Content-Disposition", `attachment; filename="report-`+r.From+`-`+r.To+`.csv"`)
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	_ = w.Write([]string{"date", "created", "closed", "firstResponseMedianSeconds", "resolutionMedianSeconds"})
	for _, d := range r.Days {
		_ = w.Write([]string{d.Date, strconv.Itoa(d.Created), strconv.Itoa(d.Closed),
			number(d.FirstResponseMedian), number(d.ResolutionMedian)})
	}
	w.Flush()
	return w.Error()
}

// number is a CSV field: "" for none.
func number(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func wire(r Report) map[string]any {
	days := make([]map[string]any, len(r.Days))
	for i, d := range r.Days {
		days[i] = map[string]any{"date": d.Date, "created": d.Created, "closed": d.Closed,
			"firstResponseMedianSeconds": d.FirstResponseMedian, "resolutionMedianSeconds": d.ResolutionMedian}
	}
	return map[string]any{"from": r.From, "to": r.To, "days": days,
		"firstResponse": durationsWire(r.FirstResponse), "resolution": durationsWire(r.Resolution),
		"csat":      map[string]any{"average": r.CSAT.Average, "count": r.CSAT.Count, "distribution": r.CSAT.Distribution},
		"operators": groupsWire(r.Operators, true), "teams": groupsWire(r.Teams, false)}
}

func durationsWire(d Durations) map[string]any {
	h := make([]map[string]any, len(d.Histogram))
	for i, b := range d.Histogram {
		h[i] = map[string]any{"upToSeconds": b.UpTo, "count": b.Count}
	}
	return map[string]any{"count": d.Count, "medianSeconds": d.Median, "p90Seconds": d.P90, "histogram": h}
}

func groupsWire(gs []Group, byOperator bool) []map[string]any {
	out := make([]map[string]any, len(gs))
	for i, g := range gs {
		w := map[string]any{"tickets": g.Tickets, "firstResponseMedianSeconds": g.FirstResponseMedian,
			"resolutionMedianSeconds": g.ResolutionMedian, "csatAverage": g.CSATAverage}
		if byOperator {
			w["operatorId"], w["name"] = g.OperatorID, g.Name
		} else {
			w["team"] = g.Team
		}
		out[i] = w
	}
	return out
}

package app

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard/metrics"
	"github.com/switchboard-chat/switchboard/outbox"
)

// serveMetrics serves GET /metrics on the main listener, without
// authentication: Prometheus scrapes it as it is. The series say how busy
// the server is, never who is talking or what (docs/operations.md); keep
// /metrics from the public at the reverse proxy if even that is too much.
func (a *App) serveMetrics(e *echo.Echo) {
	if a.relay != nil {
		a.metrics.WatchOutbox(func() (metrics.OutboxLag, error) {
			lag, err := outbox.PendingLag(a.db.DB)
			return metrics.OutboxLag{Pending: lag.Pending, Oldest: lag.Oldest}, err
		})
	}
	e.GET("/metrics", echo.WrapHandler(a.metrics.Handler()))
}

// Log formats (SWITCHBOARD_LOG_FORMAT).
const (
	LogText = "text"
	LogJSON = "json"
)

// checkLogFormat refuses a log format Switchboard does not write.
func checkLogFormat(format string) error {
	if format != LogText && format != LogJSON {
		return fmt.Errorf("SWITCHBOARD_LOG_FORMAT %q: use text or json", format)
	}
	return nil
}

// NewLogger is the server's logger on w: the format and level cfg names
// (one JSON object per line with json, for a log collector).
func NewLogger(w io.Writer, cfg Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

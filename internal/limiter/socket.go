package limiter

import (
	"github.com/labstack/echo/v4"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/metrics"
)

// GuardConnections refuses, on nsp, a connection from a client address
// that already holds MaxConnsPerIP Socket.IO connections (of either
// protocol, when both namespaces are guarded by the same Limiter): the
// client gets connect_error with the message and {code: "RATE_LIMITED"}.
// The count is given back when the connection closes.
func (l *Limiter) GuardConnections(nsp socket.Namespace, clientIP echo.IPExtractor) {
	nsp.Use(func(s *socket.Socket, next func(*socket.ExtendedError)) {
		var ip string
		if ctx := s.Request(); ctx != nil {
			ip = requestIP(clientIP, ctx.Request())
		}
		if ip == "" {
			next(nil)
			return
		}
		release, err := l.ConnectIP(ip)
		if err != nil {
			l.opts.Metrics.RateLimited(metrics.ProtocolSocketIO, metrics.KindAddress)
			next(socket.NewExtendedError(switchboard.ErrorMessage(err),
				map[string]any{"code": switchboard.ERATELIMITED, "message": switchboard.ErrorMessage(err)}))
			return
		}
		s.Conn().Once("close", func(...any) { release() })
		next(nil)
	})
}

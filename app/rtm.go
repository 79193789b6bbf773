package app

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
	"github.com/switchboard-chat/switchboard/rtm"
)

// rtmBinding is the third binding (package rtm): its socket tokens, which
// the Socket.IO bindings take too, and its endpoint.
type rtmBinding struct {
	tokens *rtm.Tokens
	server *rtm.Server
}

// newRTM makes the binding's token store; its server comes with the
// other bindings (start).
func (a *App) newRTM() *rtmBinding {
	return &rtmBinding{tokens: rtm.NewTokens(a.db, a.committer)}
}

// socketVerifier takes socket tokens beside the access tokens next takes.
func (r *rtmBinding) socketVerifier(next limiter.Verifier) limiter.Verifier {
	return rtm.Verifier{Tokens: r.tokens, Next: next}
}

// start makes the endpoint's server on the chat service.
func (r *rtmBinding) start(svc *chat.Service, binding fanout.Options, lim *limiter.Limiter, ping time.Duration) {
	r.server = rtm.NewServer(svc, r.tokens, rtm.Options{Options: binding, Limiter: lim, PingInterval: ping})
}

// Publish delivers the committed events to the RTM sockets.
func (r *rtmBinding) Publish(evs []switchboard.Event) {
	if r != nil && r.server != nil {
		r.server.Publish(evs)
	}
}

// register serves the endpoint and POST /api/v1/rtm/connect. While the
// node drains, a new socket is refused as the Socket.IO handshakes are
// (drain.go), so that it lands on another node.
func (r *rtmBinding) register(e *echo.Echo, api *echo.Group, verifier switchboard.Verifier, d *draining) {
	e.GET(rtm.Path, func(c echo.Context) error {
		if d.on.Load() {
			c.Response().Header().Set("Retry-After", "1")
			return c.String(http.StatusServiceUnavailable, "this node is shutting down: connect again")
		}
		r.server.Serve(c.Response(), c.Request(), c.RealIP())
		return nil
	})
	rtm.NewHTTP(r.tokens, verifier).Register(api)
}

// closeAll closes the RTM sockets at shutdown.
func (r *rtmBinding) closeAll() {
	if r != nil && r.server != nil {
		r.server.CloseAll()
	}
}

package app

import (
	"net/http"
	"sync/atomic"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// draining is set when a shutdown starts: from then on /readyz fails and
// the node takes no new Socket.IO connection, so that a load balancer
// sends them to the other nodes while this one finishes its work.
type draining struct{ on atomic.Bool }

// refuseNew wraps a Socket.IO server's handler: while the node drains, an
// Engine.IO handshake (a request without sid), or a request for a session
// this node does not hold, is answered 503 with Retry-After. A load
// balancer that retries on 503 (nginx's proxy_next_upstream http_503, see
// docs/deploy.md) passes it on to another node; a client talking to the
// node directly retries after its reconnection delay. Requests of the
// sessions still open here go on until the drain closes them.
func (d *draining) refuseNew(io *socket.Server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.on.Load() && !holds(io, r.URL.Query().Get("sid")) {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Connection", "close")
			http.Error(w, "this node is shutting down: connect again", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// holds says whether sid is an Engine.IO session open on this node.
func holds(io *socket.Server, sid string) bool {
	if sid == "" {
		return false
	}
	_, ok := io.Engine().Clients().Load(sid)
	return ok
}

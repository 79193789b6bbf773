package libcheck

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// TestPongBeforePingTimeoutIsArmed: a client that answers a PING at once
// stays connected even when the server's PONG arrives before the goroutine
// that sent the PING has gone on. The ping timer's goroutine sent the PING
// and then armed the ping timeout; a PONG handled in between found no
// timeout to stop, and the timeout armed after it closed the connection
// ("ping timeout") although the client had answered. A loaded machine
// opens that window now and then; here a "drain" listener, which runs on
// that goroutine right after the PING is handed to the transport, holds it
// open every time.
func TestPongBeforePingTimeoutIsArmed(t *testing.T) {
	opts := socket.DefaultServerOptions()
	opts.SetTransports(types.NewSet(socket.WebSocket))
	// A ping timeout shorter than the interval, as by default (20 s and
	// 25 s): a timeout left armed fires before the next PING replaces it.
	opts.SetPingInterval(300 * time.Millisecond)
	opts.SetPingTimeout(150 * time.Millisecond)
	io := socket.NewServer(nil, opts)
	closed := make(chan string, 1)
	io.On("connection", func(a ...any) {
		s := a[0].(*socket.Socket)
		_ = s.Conn().On("drain", func(...any) { time.Sleep(50 * time.Millisecond) })
		_ = s.On("disconnect", func(a ...any) {
			reason, _ := a[0].(string)
			closed <- reason
		})
	})
	c := wsConnect(t, serve(t, io))
	pongs := make(chan error, 1)
	go func() {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				pongs <- err
				return
			}
			if string(msg) == "2" {
				if err := c.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
					pongs <- err
					return
				}
			}
		}
	}()
	// Five ping round trips.
	select {
	case reason := <-closed:
		t.Fatalf("the connection closed (%s) though every PING was answered at once", reason)
	case err := <-pongs:
		t.Fatalf("the connection ended: %v", err)
	case <-time.After(5 * (300 + 50) * time.Millisecond):
	}
}

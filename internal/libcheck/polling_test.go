package libcheck

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// TestPollCancelledAsItStarts (patch 15): a long-polling GET whose client
// gives up while the server is still setting the poll up. The request's
// goroutine sets the poll's cleanup while the context's watcher, woken by
// the cancellation, runs it; under -race, unpatched, the two met on a
// plain field. The server goes on answering.
func TestPollCancelledAsItStarts(t *testing.T) {
	opts := socket.DefaultServerOptions()
	opts.SetTransports(types.NewSet(socket.Polling))
	io := socket.NewServer(nil, opts)
	srv := httptest.NewServer(io.ServeHandler(nil))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		io.Close(nil)
		srv.Close()
	})
	p := &pollingClient{t: t, url: srv.URL}
	for range 200 {
		p.handshake()
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(400))*time.Microsecond)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			srv.URL+"/socket.io/?EIO=4&transport=polling&sid="+p.sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
		cancel()
	}
	p.handshake()
}

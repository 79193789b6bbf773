package transports

// Switchboard patch (third_party/socket.io/PATCHES.md), the equivalent of
// upstream's fix for its issue #195: a websocket or webtransport transport
// started its read loop in Construct, before the engine Socket (and the
// Socket.IO Client, in the server's "connection" listeners) had registered
// the listeners its packets go to. A packet read in that window, typically
// the client's namespace CONNECT sent as soon as it read the engine's OPEN,
// was emitted to no listener and lost; the client then waited for the
// connect timeout. The server now holds the read loop of a transport it
// constructs until those listeners are in place.

import (
	"sync"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// readHolds maps a request's *types.HttpContext to a channel closed when
// the read loop of the transport constructed on it may start.
var readHolds sync.Map

// HoldReads makes a stream transport (websocket, webtransport) constructed
// on ctx before release is called start its read loop only when release is
// called. release is idempotent; call it once the listeners are registered,
// on every path (defer it).
func HoldReads(ctx *types.HttpContext) (release func()) {
	hold := make(chan struct{})
	readHolds.Store(ctx, hold)
	var once sync.Once
	return func() {
		once.Do(func() {
			readHolds.Delete(ctx)
			close(hold)
		})
	}
}

// startReader runs read in a goroutine: at once, or, if ctx is held, once
// the hold is released. In both cases one goroutine runs the read loop.
func startReader(ctx *types.HttpContext, read func()) {
	v, ok := readHolds.Load(ctx)
	if !ok {
		go read()
		return
	}
	hold := v.(chan struct{})
	go func() {
		<-hold
		read()
	}()
}

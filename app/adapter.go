package app

import (
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// directAdapter is the library's in-memory adapter with one change: a
// broadcast is written to each socket as an ordinary packet rather than
// as a "pre-encoded websocket frame". The library turns a pre-encoded
// frame into a gorilla PreparedMessage for every recipient
// (servers/engine/v3/transports/websocket.go, send: NewPreparedMessage +
// WritePreparedMessage), which builds and caches the frame per socket
// and pays off only when many sockets share one: in the profile of
// bench/'s chat load, where almost every event has one or two
// recipients, it was the largest allocation (22% of the bytes) and 6% of
// the CPU. Rooms, exceptions and flags are honoured as the library does.
type directAdapter struct {
	socket.Adapter
	encoder parser.Encoder
}

type directAdapterBuilder struct{}

// New makes the adapter of one namespace.
func (directAdapterBuilder) New(nsp socket.Namespace) socket.Adapter {
	a := &directAdapter{Adapter: socket.MakeAdapter()}
	a.Prototype(a)
	a.Construct(nsp)
	a.encoder = nsp.Server().Encoder()
	return a
}

// Broadcast sends packet to every connected socket in opts.Rooms (every
// socket when none), each once, except those in opts.Except's rooms.
func (a *directAdapter) Broadcast(packet *parser.Packet, opts *socket.BroadcastOptions) {
	wo := &socket.WriteOptions{PreEncoded: true}
	if opts != nil && opts.Flags != nil {
		wo.Volatile = opts.Flags.Volatile
		wo.Compress = opts.Flags.Compress
	}
	packet.Nsp = a.Nsp().Name()
	// Encoded for the first recipient: many events (a ticket message's
	// chat-protocol copy, a presence change) have no socket on this node.
	var encoded []types.BufferInterface
	a.each(opts, func(s *socket.Socket) {
		if notify := s.NotifyOutgoingListeners(); notify != nil {
			notify(packet)
		}
		if encoded == nil {
			encoded = a.encoder.Encode(packet)
		}
		s.Client().WriteToEngine(encoded, wo)
	})
}

// each calls fn for the sockets a broadcast with opts reaches.
func (a *directAdapter) each(opts *socket.BroadcastOptions, fn func(*socket.Socket)) {
	var rooms, except *types.Set[socket.Room]
	if opts != nil {
		rooms, except = opts.Rooms, opts.Except
	}
	excluded := func(id socket.SocketId) bool { return false }
	if except != nil && except.Len() > 0 {
		skip := map[socket.SocketId]struct{}{}
		for _, r := range except.Keys() {
			if ids, ok := a.Rooms().Load(r); ok {
				for _, id := range ids.Keys() {
					skip[id] = struct{}{}
				}
			}
		}
		excluded = func(id socket.SocketId) bool { _, ok := skip[id]; return ok }
	}
	sockets := a.Nsp().Sockets()
	visit := func(id socket.SocketId) {
		if excluded(id) {
			return
		}
		if s, ok := sockets.Load(id); ok && s.Connected() {
			fn(s)
		}
	}
	if rooms == nil || rooms.Len() == 0 {
		a.Sids().Range(func(id socket.SocketId, _ *types.Set[socket.Room]) bool {
			visit(id)
			return true
		})
		return
	}
	keys := rooms.Keys()
	if len(keys) == 1 { // one room: its sockets are distinct already
		if ids, ok := a.Rooms().Load(keys[0]); ok {
			for _, id := range ids.Keys() {
				visit(id)
			}
		}
		return
	}
	seen := map[socket.SocketId]struct{}{}
	for _, r := range keys {
		if ids, ok := a.Rooms().Load(r); ok {
			for _, id := range ids.Keys() {
				if _, dup := seen[id]; dup {
					continue
				}
				seen[id] = struct{}{}
				visit(id)
			}
		}
	}
}

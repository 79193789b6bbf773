package fanout

import (
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// adapter is the library's in-memory adapter with two changes.
//
// A broadcast is written to each socket as an ordinary packet rather than
// as a "pre-encoded websocket frame". The library turns a pre-encoded
// frame into a gorilla PreparedMessage for every recipient
// (servers/engine/v3/transports/websocket.go, send: NewPreparedMessage +
// WritePreparedMessage), which builds and caches the frame per socket and
// pays off only when many sockets share one: in the profile of bench/'s
// chat load, where almost every event has one or two recipients, it was
// the largest allocation (docs/performance-journal.md, item 4).
//
// Publish hands it each event's rooms as they are (broadcastEvent): no
// room sets and broadcast options per event, and the packet is made and
// encoded only for a first recipient, since many events (a ticket
// message's chat-protocol copies, a presence change) have no socket on
// this node (item 41 of the journal). Rooms, exceptions and flags are
// honoured as the library does.
type adapter struct {
	socket.Adapter
	encoder parser.Encoder
}

// AdapterBuilder makes the adapter of each namespace
// (socket.ServerOptions.SetAdapter).
type AdapterBuilder struct{}

// New makes the adapter of one namespace.
func (AdapterBuilder) New(nsp socket.Namespace) socket.Adapter {
	a := &adapter{Adapter: socket.MakeAdapter()}
	a.Prototype(a)
	a.Construct(nsp)
	a.encoder = nsp.Server().Encoder()
	return a
}

// plainWrite is how a broadcast without flags is written. It is shared:
// the engine copies the options it keeps with a packet.
var plainWrite = socket.WriteOptions{PreEncoded: true}

// Broadcast sends packet to every connected socket in opts.Rooms (every
// socket when none), each once, except those in opts.Except's rooms.
func (a *adapter) Broadcast(packet *parser.Packet, opts *socket.BroadcastOptions) {
	wo := &plainWrite
	var rooms, except []socket.Room
	if opts != nil {
		if opts.Flags != nil {
			wo = &socket.WriteOptions{PreEncoded: true, Volatile: opts.Flags.Volatile}
			wo.Compress = opts.Flags.Compress
		}
		if opts.Rooms != nil {
			rooms = opts.Rooms.Keys()
		}
		if opts.Except != nil {
			except = opts.Except.Keys()
		}
	}
	packet.Nsp = a.Nsp().Name()
	a.send(rooms, except, wo, func() *parser.Packet { return packet }, nil)
}

// broadcastEvent sends the event name(args...) to the sockets of rooms
// (at least one), each once, except those of the room except ("" for
// none).
func (a *adapter) broadcastEvent(name string, args []any, rooms []string, except string) {
	var buf [4]socket.Room
	to := buf[:0]
	for _, r := range rooms {
		to = append(to, socket.Room(r))
	}
	var skip []socket.Room
	if except != "" {
		skip = []socket.Room{socket.Room(except)}
	}
	a.send(to, skip, &plainWrite, func() *parser.Packet { return a.packet(name, args) }, nil)
}

// packet is the EVENT packet of name(args...) on the adapter's namespace.
func (a *adapter) packet(name string, args []any) *parser.Packet {
	data := make([]any, 0, 1+len(args))
	return &parser.Packet{Type: parser.EVENT, Nsp: a.Nsp().Name(), Data: append(append(data, name), args...)}
}

// send writes the packet made by makePacket, encoded once, to every
// connected socket in rooms (every socket when none), each once, except
// those in the except rooms. makePacket runs at the first recipient.
// When encoded is given it is the packet, encoded already (on another
// node): it is written as it is, and makePacket (nil then) is not asked
// for the outgoing listeners, which Switchboard does not use.
func (a *adapter) send(rooms, except []socket.Room, wo *socket.WriteOptions, makePacket func() *parser.Packet,
	encoded []types.BufferInterface) {
	var skipBuf [2]*types.Set[socket.SocketId]
	skip := skipBuf[:0]
	for _, r := range except {
		if ids, ok := a.Rooms().Load(r); ok {
			skip = append(skip, ids)
		}
	}
	var packet *parser.Packet
	sockets := a.Nsp().Sockets()
	write := func(id socket.SocketId) {
		for _, ids := range skip {
			if ids.Has(id) {
				return
			}
		}
		s, ok := sockets.Load(id)
		if !ok || !s.Connected() {
			return
		}
		if notify := s.NotifyOutgoingListeners(); notify != nil && makePacket != nil {
			if packet == nil {
				packet = makePacket()
			}
			notify(packet)
		}
		if encoded == nil {
			if packet == nil {
				packet = makePacket()
			}
			encoded = a.encoder.Encode(packet)
		}
		s.Client().WriteToEngine(encoded, wo)
	}
	switch len(rooms) {
	case 0:
		a.Sids().Range(func(id socket.SocketId, _ *types.Set[socket.Room]) bool {
			write(id)
			return true
		})
	case 1: // one room: its sockets are distinct already
		if ids, ok := a.Rooms().Load(rooms[0]); ok {
			for _, id := range ids.Keys() {
				write(id)
			}
		}
	default:
		var seen idSet
		for _, r := range rooms {
			if ids, ok := a.Rooms().Load(r); ok {
				for _, id := range ids.Keys() {
					if seen.add(id) {
						write(id)
					}
				}
			}
		}
	}
}

// idSet is the sockets a broadcast to several rooms has reached: a few
// in place (a user's room and an operator's: one or two sockets each),
// a map past that.
type idSet struct {
	few  [8]socket.SocketId
	n    int
	many map[socket.SocketId]struct{}
}

// add reports whether id was not in the set, and adds it.
func (s *idSet) add(id socket.SocketId) bool {
	for _, x := range s.few[:s.n] {
		if x == id {
			return false
		}
	}
	if _, ok := s.many[id]; ok {
		return false
	}
	if s.n < len(s.few) {
		s.few[s.n] = id
		s.n++
		return true
	}
	if s.many == nil {
		s.many = map[socket.SocketId]struct{}{}
	}
	s.many[id] = struct{}{}
	return true
}

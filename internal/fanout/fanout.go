// Package fanout delivers committed events to Socket.IO rooms. Both
// protocol bindings use it: the service already named each event's
// audience, so delivery decides nothing. It also holds the rest the two
// bindings share: their common options and the typing throttle.
package fanout

import (
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/metrics"
)

// Publish emits, in order, the events of one protocol to their rooms on
// nsp, and counts each in m; events of other protocols and events with no
// audience are skipped.
func Publish(nsp socket.Namespace, protocol string, events []switchboard.Event, m *metrics.Protocol) {
	if nsp == nil {
		return
	}
	for _, ev := range events {
		if ev.Protocol != protocol || len(ev.To) == 0 {
			continue
		}
		if ev.Name == switchboard.EventDisconnect {
			disconnect(nsp, ev.To)
			continue
		}
		emit(nsp.Adapter(), ev.Name, ev.Args, ev.To, ev.ExceptSocket)
		m.EventOut(ev.Name)
	}
}

// disconnect disconnects every socket in rooms (EventDisconnect).
func disconnect(nsp socket.Namespace, rooms []string) {
	in := make([]socket.Room, len(rooms))
	for i, r := range rooms {
		in[i] = socket.Room(r)
	}
	nsp.In(in...).DisconnectSockets(false)
}

// emit hands one event to the namespace's adapter itself rather than going
// through nsp.To(...).Except(...).Emit: the library's BroadcastOperator
// copies its room and flag sets at every step (three sets and their maps
// per event; docs/performance-journal.md, item 18) for a
// chain that only ends in Adapter().Broadcast. Switchboard's adapter takes
// the rooms as they are; any other gets the library's sets. Events here
// never carry acks.
func emit(a socket.Adapter, name string, args []any, rooms []string, except string) {
	if direct, ok := a.(*adapter); ok {
		direct.broadcastEvent(name, args, rooms, except)
		return
	}
	opts := &socket.BroadcastOptions{Rooms: types.NewSet[socket.Room]()}
	for _, r := range rooms {
		opts.Rooms.Add(socket.Room(r))
	}
	if except != "" {
		opts.Except = types.NewSet(socket.Room(except))
	}
	data := make([]any, 0, 1+len(args))
	a.Broadcast(&parser.Packet{Type: parser.EVENT, Data: append(append(data, name), args...)}, opts)
}

// OnConnection returns io's default namespace and calls accept with each
// socket that connects to it.
func OnConnection(io *socket.Server, accept func(*socket.Socket)) socket.Namespace {
	nsp := io.Sockets()
	nsp.On("connection", func(a ...any) {
		if s, ok := a[0].(*socket.Socket); ok {
			accept(s)
		}
	})
	return nsp
}

// EmitTo sends one event to one socket from any goroutine: a socket's own
// emit modifiers are not safe across goroutines, a room broadcast is.
func EmitTo(nsp socket.Namespace, s *socket.Socket, name string, args ...any) {
	emit(nsp.Adapter(), name, args, []string{string(s.Id())}, "")
}

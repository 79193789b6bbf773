// Package fanout delivers committed events to Socket.IO rooms. Both
// protocol bindings use it: the service already named each event's
// audience, so delivery decides nothing. It also holds the rest the two
// bindings share: their common options and the typing throttle.
package fanout

import (
	"log/slog"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
)

// Publish emits, in order, the events of one protocol to their rooms on
// nsp; events of other protocols and events with no audience are skipped.
func Publish(nsp socket.Namespace, protocol string, events []switchboard.Event, log *slog.Logger) {
	if nsp == nil {
		return
	}
	for _, ev := range events {
		if ev.Protocol != protocol || len(ev.To) == 0 {
			continue
		}
		rooms := make([]socket.Room, len(ev.To))
		for i, r := range ev.To {
			rooms[i] = socket.Room(r)
		}
		op := nsp.To(rooms...)
		if ev.ExceptSocket != "" {
			op = op.Except(socket.Room(ev.ExceptSocket))
		}
		if err := op.Emit(ev.Name, ev.Args...); err != nil {
			log.Error("emit failed", "event", ev.Name, "err", err)
		}
	}
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
	_ = nsp.To(socket.Room(s.Id())).Emit(name, args...)
}

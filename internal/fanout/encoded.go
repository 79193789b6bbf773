package fanout

import (
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// A node of a cluster (internal/cluster) encodes each event once, as its
// Socket.IO packet, and ships those bytes to the other nodes, which
// write them to their sockets as they are: an event is encoded once in
// the whole cluster, as it is once per node without one.

// Encode returns the event name(args...) encoded as nsp sends it: one
// buffer, or a header and its binary attachments.
func Encode(nsp socket.Namespace, name string, args []any) []types.BufferInterface {
	data := make([]any, 0, 1+len(args))
	return nsp.Server().Encoder().Encode(&parser.Packet{Type: parser.EVENT, Nsp: nsp.Name(),
		Data: append(append(data, name), args...)})
}

// Deliver writes an event Encode made (here or on another node) to the
// sockets of nsp in rooms (at least one), each once, except those in the
// room except ("" for none). It reports false, sending nothing, when nsp
// does not use Switchboard's adapter (AdapterBuilder).
func Deliver(nsp socket.Namespace, rooms []string, except string, encoded []types.BufferInterface) bool {
	a, ok := nsp.Adapter().(*adapter)
	if !ok {
		return false
	}
	var buf [4]socket.Room
	to := buf[:0]
	for _, r := range rooms {
		to = append(to, socket.Room(r))
	}
	var skip []socket.Room
	if except != "" {
		skip = []socket.Room{socket.Room(except)}
	}
	a.send(to, skip, &plainWrite, nil, encoded)
	return true
}

// Disconnect disconnects every socket of nsp in rooms (EventDisconnect).
func Disconnect(nsp socket.Namespace, rooms []string) { disconnect(nsp, rooms) }

package fanout

import (
	"bytes"
	"encoding/json"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// A binding that does not write Socket.IO packets (the RTM binding)
// shows events in its own shape, from their arguments as values. On a
// node of a cluster, the events another node committed arrive as the
// packets Encode made there: Decode reads one back, and only for such a
// binding with a socket in the event's rooms, so that an event is still
// encoded once in the cluster.

// Asider is an event argument whose JSON leaves out something a binding
// that shows the event in its own shape needs (a chat message's sender's
// name). A cluster's bus carries the aside of an event's one argument
// beside its packet, and Decode hands it back in Received.
type Asider interface {
	Aside() string
}

// Received is an argument of an event encoded on another node: its JSON
// (which it marshals as), and the aside the node carried with it.
type Received struct {
	JSON  json.RawMessage
	Aside string
}

// MarshalJSON is r's JSON as it came.
func (r Received) MarshalJSON() ([]byte, error) { return r.JSON, nil }

// Decode reads back an event packet Encode made: its name and its
// arguments, each a Received, the one argument of an event with one
// given aside. ok is false for what is no plain event packet (binary
// attachments are not read back).
func Decode(encoded []types.BufferInterface, aside string) (name string, args []any, ok bool) {
	if len(encoded) != 1 {
		return "", nil, false
	}
	p := encoded[0].Bytes()
	if len(p) == 0 || p[0] != '2' { // parser.EVENT, no attachments
		return "", nil, false
	}
	p = p[1:]
	if len(p) > 0 && p[0] == '/' { // a namespace other than "/"
		i := bytes.IndexByte(p, ',')
		if i < 0 {
			return "", nil, false
		}
		p = p[i+1:]
	}
	var data []json.RawMessage
	if json.Unmarshal(p, &data) != nil || len(data) == 0 || json.Unmarshal(data[0], &name) != nil {
		return "", nil, false
	}
	args = make([]any, len(data)-1)
	for i, raw := range data[1:] {
		args[i] = Received{JSON: raw}
	}
	if len(args) == 1 {
		args[0] = Received{JSON: data[1], Aside: aside}
	}
	return name, args, true
}

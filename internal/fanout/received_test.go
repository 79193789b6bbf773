package fanout

import (
	"encoding/json"
	"testing"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

type named struct{ Text, Name string }

func (n named) MarshalJSON() ([]byte, error) { return json.Marshal(map[string]string{"text": n.Text}) }
func (n named) Aside() string                { return n.Name }

// Decode reads back what Encode made, in the root namespace and another:
// the name, each argument's JSON, the aside on an event's one argument;
// a packet with binary attachments is not read back.
func TestDecodeReadsBackEncode(t *testing.T) {
	srv := socket.NewServer(nil, nil)
	for _, nsp := range []socket.Namespace{srv.Sockets(), srv.Of("/chat", nil)} {
		arg := named{Text: `he said "hi", then left`, Name: "Ann"}
		name, args, ok := Decode(Encode(nsp, "chatMsg", []any{arg}), arg.Aside())
		if !ok || name != "chatMsg" || len(args) != 1 {
			t.Fatalf("%s: %q %v %v", nsp.Name(), name, args, ok)
		}
		r := args[0].(Received)
		if string(r.JSON) != `{"text":"he said \"hi\", then left"}` || r.Aside != "Ann" {
			t.Fatalf("%s: %s %q", nsp.Name(), r.JSON, r.Aside)
		}
		if b, _ := json.Marshal(r); string(b) != string(r.JSON) {
			t.Fatalf("Received marshals as %s", b)
		}
		name, args, ok = Decode(Encode(nsp, "typing", []any{"t-1", 2}), "x")
		if !ok || name != "typing" || len(args) != 2 || string(args[0].(Received).JSON) != `"t-1"` || args[1].(Received).Aside != "" {
			t.Fatalf("%s: two arguments: %q %v", nsp.Name(), name, args)
		}
		if _, _, ok := Decode(Encode(nsp, "image", []any{[]byte{1, 2, 3}}), ""); ok {
			t.Fatalf("%s: a binary packet was read back", nsp.Name())
		}
	}
}

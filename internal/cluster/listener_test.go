package cluster

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
)

// hearing is a listener that hears the events of one room and records
// what it is given.
type hearing struct {
	room string
	got  [][]switchboard.Event
}

func (h *hearing) Hears(ev switchboard.Event) bool {
	for _, r := range ev.To {
		if r == h.room {
			return true
		}
	}
	return false
}

func (h *hearing) Publish(evs []switchboard.Event) { h.got = append(h.got, evs) }

// body is a message body whose sender's name is its aside.
type body struct{ Text, Sender string }

func (b body) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"payload": map[string]any{"content": b.Text}, "resultCode": "OK"})
}
func (b body) Aside() string { return b.Sender }

// listeningBus is a bus, not started, serving both protocols on a
// server without sockets, and what another node would send it: one Op
// with a chat message to two rooms and a livechat event.
func listeningBus(t testing.TB) (*Bus, []byte) {
	srv := socket.NewServer(nil, nil)
	b := NewBus(nil, nil, Options{NodeID: "here", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.Serve(switchboard.ProtocolLivechat, srv.Sockets(), nil)
	b.Serve(switchboard.ProtocolChat, srv.Of("/chat", nil), nil)
	there := NewBus(nil, nil, Options{NodeID: "there"})
	there.targets = b.targets
	there.out = make(chan []byte, 1)
	there.order = newSequencer(1, 0, func(*batch) {})
	there.Publish([]switchboard.Event{
		{Protocol: switchboard.ProtocolChat, Name: "chatMsg", Args: []any{body{"hello", "Ann Example"}},
			To: []string{"u:acme:operator-1", "u:acme:user-1"}, ExceptSocket: "s-1", Seq: 1},
		{Protocol: switchboard.ProtocolLivechat, Name: "messageUpdated", Args: []any{map[string]any{"content": "hello"}},
			To: []string{"op:acme:operator-1"}, Seq: 1},
	})
	return b, <-there.out
}

// A listener is given another node's events it hears, read back from
// their packets with the aside, and nothing of those it does not; this
// node's own events as they were published.
func TestBusListenerHearsOtherNodesEvents(t *testing.T) {
	b, sent := listeningBus(t)
	deaf := &hearing{room: "nobody"}
	b.Listen(deaf)
	msg, err := readBatch(string(sent))
	if err != nil {
		t.Fatal(err)
	}
	b.deliver(msg)
	if len(deaf.got) != 0 {
		t.Fatalf("a listener hearing none of the rooms was given %v", deaf.got)
	}
	h := &hearing{room: "u:acme:operator-1"}
	b.Listen(h)
	b.deliver(msg)
	if len(h.got) != 1 || len(h.got[0]) != 1 {
		t.Fatalf("given %v", h.got)
	}
	ev := h.got[0][0]
	r, _ := ev.Args[0].(fanout.Received)
	if ev.Protocol != switchboard.ProtocolChat || ev.Name != "chatMsg" || ev.ExceptSocket != "s-1" || ev.Seq != 1 ||
		len(ev.To) != 2 || r.Aside != "Ann Example" || string(r.JSON) != `{"payload":{"content":"hello"},"resultCode":"OK"}` {
		t.Fatalf("read back %+v", ev)
	}
	own := []switchboard.Event{{Protocol: switchboard.ProtocolChat, Name: "chatMsg", Args: []any{body{"mine", "Bo"}},
		To: []string{"u:acme:user-2"}}}
	b.Publish(own) // not started: delivered here at once
	if len(h.got) != 2 || h.got[1][0].Args[0] != own[0].Args[0] {
		t.Fatalf("this node's own events: %v", h.got)
	}
}

// BenchmarkBusDeliverRemote: what delivering another node's Op costs a
// node with no listener, with one that hears none of its rooms (RTM
// without a socket there) and with one that hears them (read back).
//
//	go test -run '^$' -bench BusDeliverRemote -benchmem ./internal/cluster/
func BenchmarkBusDeliverRemote(b *testing.B) {
	for _, tc := range []struct {
		name string
		l    Listener
	}{{"no listener", nil}, {"hears none", &hearing{room: "nobody"}}, {"hears", &hearing{room: "u:acme:operator-1"}}} {
		b.Run(tc.name, func(b *testing.B) {
			bus, sent := listeningBus(b)
			if tc.l != nil {
				bus.Listen(tc.l)
			}
			msg, err := readBatch(string(sent))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				bus.deliver(msg)
				if h, ok := tc.l.(*hearing); ok {
					h.got = h.got[:0]
				}
			}
		})
	}
}

// A message of version 1 (before asides), from a node not yet upgraded,
// is read, without asides.
func TestReadBatchVersion1(t *testing.T) {
	v1 := appendString([]byte{1}, "old")
	v1 = binary.AppendUvarint(v1, 7) // seq
	v1 = binary.AppendUvarint(v1, 1) // one entry
	v1 = appendString(append(v1, flagChat), "chatMsg")
	v1 = appendString(binary.AppendUvarint(v1, 1), "u:acme:ann")
	v1 = appendString(v1, "s-1")     // except
	v1 = binary.AppendUvarint(v1, 1) // one buffer, text
	v1 = appendString(append(v1, 0), `2/chat,["chatMsg",{"resultCode":"OK"}]`)
	if node(string(v1)) != "old" {
		t.Fatalf("node %q", node(string(v1)))
	}
	b, err := readBatch(string(v1))
	if err != nil || b.seq != 7 || len(b.entries) != 1 {
		t.Fatalf("%+v %v", b, err)
	}
	e := b.entries[0]
	if e.name != "chatMsg" || e.flags != flagChat || len(e.rooms) != 1 || e.rooms[0] != "u:acme:ann" || e.except != "s-1" ||
		e.aside != "" || len(e.encoded) != 1 || e.encoded[0].String() != `2/chat,["chatMsg",{"resultCode":"OK"}]` {
		t.Fatalf("entry %+v", e)
	}
	if _, err := readBatch("\x03" + string(v1[1:])); err == nil {
		t.Fatal("a message of an unknown version was read")
	}
}

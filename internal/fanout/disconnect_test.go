package fanout

import (
	"slices"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
)

// EventDisconnect is not sent: the sockets of its rooms are disconnected,
// and the others stay and go on receiving.
func TestPublishDisconnect(t *testing.T) {
	nsp, url := startRoomServer(t, AdapterBuilder{})
	a, b := joinRooms(t, url, "user:erased"), joinRooms(t, url, "user:kept")
	Publish(nsp, "p", []switchboard.Event{
		{Protocol: "other", Name: switchboard.EventDisconnect, To: []string{"user:kept"}},
		{Protocol: "p", Name: switchboard.EventDisconnect, To: []string{"user:erased"}},
	}, nil)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := nsp.Sockets().Load(socket.SocketId(a.id)); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the socket of the erased user is still connected")
		}
	}
	if _, ok := nsp.Sockets().Load(socket.SocketId(b.id)); !ok {
		t.Fatal("another socket was disconnected too")
	}
	Publish(nsp, "p", []switchboard.Event{{Protocol: "p", Name: "x", Args: []any{"end"}, To: []string{"user:kept"}}}, nil)
	if got := b.until("end"); !slices.Equal(got, []string{"end"}) {
		t.Errorf("the kept socket got %v, want [end]", got)
	}
}

package fanout

import (
	"errors"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/testclient"
)

// Publish reaches the same sockets through Switchboard's adapter as
// through the library's: every socket of the rooms once, not the excepted
// socket, nothing for a room without sockets or another protocol.
func TestPublishReachesEachSocketOfTheRoomsOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		builder socket.AdapterConstructor
	}{{"switchboard adapter", AdapterBuilder{}}, {"library adapter", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			nsp, url := startRoomServer(t, tc.builder)
			a, b, c := joinRooms(t, url, "u:a", "ops"), joinRooms(t, url, "u:b", "ops"), joinRooms(t, url, "u:c", "u:c2")
			ev := func(arg string, except string, rooms ...string) switchboard.Event {
				return switchboard.Event{Protocol: "p", Name: "x", Args: []any{arg}, To: rooms, ExceptSocket: except}
			}
			Publish(nsp, "p", []switchboard.Event{
				ev("1", "", "u:a", "ops"),
				ev("2", a.id, "ops"),
				ev("3", "", "nobody"),
				{Protocol: "other", Name: "x", Args: []any{"4"}, To: []string{"u:a"}},
				ev("5", "", "u:c", "u:c2"),
			}, nil)
			s, _ := nsp.Sockets().Load(socket.SocketId(c.id))
			EmitTo(nsp, s, "x", "6")
			Publish(nsp, "p", []switchboard.Event{ev("end", "", "u:a", "u:b", "u:c")}, nil)
			for _, want := range []struct {
				r    *roomClient
				args []string
			}{{a, []string{"1", "end"}}, {b, []string{"1", "2", "end"}}, {c, []string{"5", "6", "end"}}} {
				if got := want.r.until("end"); !slices.Equal(got, want.args) {
					t.Errorf("%s got %v, want %v", want.r.rooms, got, want.args)
				}
			}
		})
	}
}

// startRoomServer serves a namespace whose sockets join the rooms they
// name in a "join" event (acked with their id).
func startRoomServer(t *testing.T, builder socket.AdapterConstructor) (socket.Namespace, string) {
	t.Helper()
	opts := socket.DefaultServerOptions()
	opts.SetTransports(types.NewSet(socket.WebSocket))
	if builder != nil {
		opts.SetAdapter(builder)
	}
	io := socket.NewServer(nil, opts)
	handler := io.ServeHandler(nil)
	nsp := OnConnection(io, func(s *socket.Socket) {
		_ = s.On("join", func(args ...any) {
			for _, r := range args[0].([]any) {
				s.Join(socket.Room(r.(string)))
			}
			args[len(args)-1].(socket.Ack)([]any{string(s.Id())}, nil)
		})
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		io.Close(nil)
		srv.Close()
	})
	return nsp, srv.URL
}

// roomClient is a connected socket that has joined rooms and records the
// first argument of every "x" it receives.
type roomClient struct {
	rooms []string
	id    string
	got   chan string
}

// joinRooms connects a client that joins rooms. A connection whose engine
// never opens or whose join goes unanswered is tried again: the Go
// client's engine socket can start reading before its Manager listens for
// "open" (client v3.0.4), which loses the open.
func joinRooms(t *testing.T, url string, rooms ...string) *roomClient {
	t.Helper()
	var err error
	for range 5 {
		var r *roomClient
		if r, err = tryJoin(t, url, rooms); err == nil {
			return r
		}
	}
	t.Fatal(err)
	return nil
}

func tryJoin(t *testing.T, url string, rooms []string) (*roomClient, error) {
	opts := client.DefaultOptions()
	opts.SetTransports(types.NewSet(client.WebSocket))
	opts.SetForceNew(true)
	opts.SetAutoConnect(false)
	opts.SetReconnection(false)
	s, err := client.Connect(url, opts)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { s.Disconnect() })
	r := &roomClient{rooms: rooms, got: make(chan string, 16)}
	_ = s.On("x", func(args ...any) {
		arg, _ := args[0].(string)
		r.got <- arg
	})
	// Open the engine connection before the namespace (the Go client
	// sends CONNECT twice when the open lands in the middle of Connect).
	opened := make(chan error, 1)
	s.Io().Open(func(err error) { opened <- err })
	if err := wait(opened); err != nil {
		return nil, err
	}
	joined := make(chan error, 1)
	var once sync.Once
	_ = s.On("connect", func(...any) {
		once.Do(func() {
			list := make([]any, len(rooms))
			for i, room := range rooms {
				list[i] = room
			}
			_ = s.Emit("join", list, func(args []any, err error) {
				if err == nil {
					r.id, _ = args[0].(string)
				}
				joined <- err
			})
		})
	})
	testclient.Connect(s, 10*time.Second)
	return r, wait(joined)
}

// until returns what the client received up to and including last.
func (r *roomClient) until(last string) []string {
	var out []string
	for {
		select {
		case arg := <-r.got:
			out = append(out, arg)
			if arg == last {
				return out
			}
		case <-time.After(5 * time.Second):
			return append(out, "(timed out)")
		}
	}
}

func wait(ch chan error) error {
	select {
	case err := <-ch:
		return err
	case <-time.After(3 * time.Second):
		return errors.New("timed out")
	}
}

// Package testclient connects sockets of the Socket.IO Go client
// (clients/socket) for Switchboard's tests, around a race in the client.
//
// Socket.Connect subscribes to its Manager's "open" event, opens the
// Manager, and then sends the namespace CONNECT itself if the Manager is
// open already. When the websocket opens on the client's own goroutine
// between those two steps, both paths send a CONNECT. The server, as the
// JavaScript one does, takes a second CONNECT on a connected namespace
// for a protocol violation and closes the connection ("invalid state"):
// the test sees its socket disconnected right after it connected, or an
// ack that never comes. clients/socket v3.0.4 and v3.0.6 both have it.
// Opening the Manager first and connecting the socket once it is open
// leaves one path.
package testclient

import (
	"sync"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
)

// Connect connects s, made with autoConnect off and forceNew on (a
// Manager of its own, not opened yet), after its Manager has opened, or
// failed to open, or timeout passed. A Manager that failed to
// open is opened again by s.Connect, so that s sees connect_error as it
// would without this.
func Connect(s *client.Socket, timeout time.Duration) {
	opened := make(chan struct{})
	var once sync.Once
	s.Io().Open(func(error) { once.Do(func() { close(opened) }) })
	select {
	case <-opened:
	case <-time.After(timeout):
	}
	s.Connect()
}

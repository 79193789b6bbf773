package socket

import (
	"net/url"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/log"
	"github.com/zishang520/socket.io/v3/pkg/queue"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"
)

var client_log = log.NewLog("socket.io:client")

// Client represents a Socket.IO client connection.
type Client struct {
	conn engine.Socket

	id             string
	server         *Server
	encoder        parser.Encoder
	decoder        parser.Decoder
	connectTimeout atomic.Pointer[utils.Timer]
	closed         atomic.Bool

	// Switchboard patch (third_party/socket.io/PATCHES.md): the sockets of
	// this connection, one per namespace (most connections have one), in
	// a slice under socketsMu rather than two types.Map (by id and by
	// namespace), ~500 bytes per connection.
	socketsMu sync.Mutex
	sockets   []*Socket

	// Switchboard patch (third_party/socket.io/PATCHES.md 16): unhandled
	// bounds the input decoded and still waiting on the sockets' task
	// queues; ondata waits while it is spent, so the transport stops
	// reading (websocket) or answering the POST (polling). pending is the
	// cost of the data being decoded, which ondecoded hands to the task
	// that handles its packet; decodeMu keeps it to one decode at a time.
	unhandled queue.Budget
	decodeMu  sync.Mutex
	pending   int64

	mu sync.Mutex
}

// MakeClient creates a new Client instance.
func MakeClient() *Client {
	return &Client{}
}

// nsp returns the socket of the namespace name, if connected.
func (c *Client) nsp(name string) (*Socket, bool) {
	c.socketsMu.Lock()
	defer c.socketsMu.Unlock()
	for _, s := range c.sockets {
		if s.nsp.Name() == name {
			return s, true
		}
	}
	return nil, false
}

// allSockets returns a copy of the connection's sockets.
func (c *Client) allSockets() []*Socket {
	c.socketsMu.Lock()
	defer c.socketsMu.Unlock()
	return slices.Clone(c.sockets)
}

// takeSockets returns the connection's sockets and forgets them.
func (c *Client) takeSockets() []*Socket {
	c.socketsMu.Lock()
	defer c.socketsMu.Unlock()
	sockets := c.sockets
	c.sockets = nil
	return sockets
}

// NewClient creates a new Client and initializes it with the given server and connection.
func NewClient(server *Server, conn engine.Socket) *Client {
	c := MakeClient()

	c.Construct(server, conn)

	return c
}

// Conn returns the underlying Engine.IO socket connection.
func (c *Client) Conn() engine.Socket {
	return c.conn
}

// Construct initializes the client with the given server and connection.
func (c *Client) Construct(server *Server, conn engine.Socket) {
	c.server = server
	c.conn = conn
	c.encoder = server.Encoder()
	c.decoder = server._parser.NewDecoder()
	c.id = conn.Id()
	c.unhandled.SetLimit(engine.InputLimit(server.Opts().MaxHttpBufferSize()))
	c.setup()
}

// Request returns the reference to the request that originated the Engine.IO
// connection; nil after a socket's ReleaseHandshake (Switchboard patch).
func (c *Client) Request() *types.HttpContext {
	return c.conn.Request()
}

// setup sets up event listeners for the client.
func (c *Client) setup() {
	_ = c.decoder.On("decoded", c.ondecoded)
	_ = c.conn.On("data", c.ondata)
	_ = c.conn.On("error", c.onerror)

	c.connectTimeout.Store(utils.SetTimeout(func() {
		c.socketsMu.Lock()
		none := len(c.sockets) == 0
		c.socketsMu.Unlock()
		if none {
			client_log.Debug("no namespace joined yet, close the client")
			c.close()
		} else {
			client_log.Debug("the client has already joined a namespace, nothing to do")
		}
	}, c.server._connectTimeout))
	// Publish the timer before subscribing to close so teardown cannot miss a
	// timer installed later. Initialization may already have timed out.
	_ = c.conn.Once("close", c.onclose)
	if c.closed.Load() {
		// An immediate connect timeout can finish before its timer is stored.
		c.destroy()
	} else if c.conn.ReadyState() == "closed" {
		c.onclose("transport close")
	}
}

// connect connects a client to a namespace with optional auth parameters.
func (c *Client) connect(name string, auth map[string]any) {
	if _, ok := c.server._nsps.Load(name); ok {
		client_log.Debug("connecting to namespace %s", name)
		c.doConnect(name, auth)
		return
	}
	c.server._checkNamespace(name, auth, func(dynamicNspName Namespace) {
		if dynamicNspName != nil {
			c.doConnect(name, auth)
		} else {
			client_log.Debug("creation of namespace %s was denied", name)
			c._packet(&parser.Packet{
				Type: parser.CONNECT_ERROR,
				Nsp:  name,
				Data: map[string]any{
					"message": "Invalid namespace",
				},
			}, nil)
		}
	})
}

// doConnect connects a client to a namespace and adds the socket to the client.
func (c *Client) doConnect(name string, auth map[string]any) {
	nsp := c.server.Of(name, nil)
	nsp.Add(c, auth, func(socket *Socket) {
		c.socketsMu.Lock()
		c.sockets = append(c.sockets, socket)
		c.socketsMu.Unlock()
		if connectTimeout := c.connectTimeout.Load(); connectTimeout != nil {
			utils.ClearTimeout(connectTimeout)
			c.connectTimeout.Store(nil)
		}
	})
}

// _disconnect disconnects from all namespaces and closes the transport.
func (c *Client) _disconnect() {
	for _, socket := range c.allSockets() {
		socket.Disconnect(false)
	}
	c.takeSockets()
	c.close()
}

// _remove removes a socket from the client. Called by each Socket.
func (c *Client) _remove(socket *Socket) {
	c.socketsMu.Lock()
	defer c.socketsMu.Unlock()
	if i := slices.Index(c.sockets, socket); i >= 0 {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	} else {
		client_log.Debug("ignoring remove for %s", socket.Id())
	}
}

// close closes the underlying connection.
func (c *Client) close() {
	if c.conn.ReadyState() == "open" {
		client_log.Debug("forcing transport close")
		c.conn.Close(false)
		c.onclose("forced server close")
	}
}

// _packet writes a packet to the transport.
func (c *Client) _packet(packet *parser.Packet, opts *WriteOptions) {
	if c.conn.ReadyState() != "open" {
		client_log.Debug("ignoring packet write %v", packet)
		return
	}

	if opts == nil {
		opts = &WriteOptions{}
	}

	c.WriteToEngine(c.encoder.Encode(packet), opts)
}

// WriteToEngine writes encoded packets to the Engine.IO transport.
func (c *Client) WriteToEngine(encodedPackets []types.BufferInterface, opts *WriteOptions) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if opts.Volatile && !c.conn.Transport().Writable() {
		client_log.Debug("volatile packet is discarded since the transport is not currently writable")
		return
	}

	for _, encodedPacket := range encodedPackets {
		c.conn.Write(view(encodedPacket), &opts.Options, nil)
	}
}

// view is a reader of its own over an encoded packet's bytes. Switchboard
// patch: upstream copied the bytes for every recipient (Clone), but nothing
// writes to an encoded packet once it is encoded: the engine only reads
// it, each recipient through its own view. The capacity is cut to the
// length, so that a write to a view could never reach the shared bytes.
func view(b types.BufferInterface) types.BufferInterface {
	data := b.Bytes()
	data = data[:len(data):len(data)]
	switch b.(type) {
	case *types.StringBuffer:
		return types.NewStringBuffer(data)
	case *types.BytesBuffer:
		return types.NewBytesBuffer(data)
	}
	return b.Clone()
}

// ondata is called with incoming transport data.
func (c *Client) ondata(args ...any) {
	cost := transports.InputCost(0)
	if data, ok := args[0].(types.BufferInterface); ok {
		cost = transports.InputCost(data.Len())
	}
	c.unhandled.Acquire(cost)
	c.decodeMu.Lock()
	c.pending = cost
	err := c.decoder.Add(args[0])
	if c.pending != 0 { // no packet took it (a binary attachment, an error)
		c.unhandled.Release(c.pending)
		c.pending = 0
	}
	c.decodeMu.Unlock()
	// error is needed for protocol violations (GH-1880)
	if err != nil {
		client_log.Debug("invalid packet format")
		c.onerror(err)
	}
}

// ondecoded is called when the parser fully decodes a packet.
func (c *Client) ondecoded(args ...any) {
	packet, _ := args[0].(*parser.Packet)
	var namespace string
	var authPayload map[string]any
	if c.conn.Protocol() == 3 {
		if parsed, err := url.Parse(packet.Nsp); err == nil {
			namespace = parsed.Path
			authPayload = utils.MapValues(parsed.Query(), func(value []string) any {
				return value
			})
		}
	} else {
		namespace = packet.Nsp
		authPayload, _ = packet.Data.(map[string]any)
	}
	cost := c.pending
	c.pending = 0
	socket, ok := c.nsp(namespace)
	if !ok && packet.Type == parser.CONNECT {
		c.unhandled.Release(cost)
		c.connect(namespace, authPayload)
	} else if ok && packet.Type != parser.CONNECT && packet.Type != parser.CONNECT_ERROR {
		// Switchboard patch (PATCHES.md 16): the packet's cost is given back
		// once it is handled, or now if its socket has closed.
		if !socket.taskQueue.TryEnqueue(func() {
			defer c.unhandled.Release(cost)
			socket._onpacket(packet)
		}) {
			c.unhandled.Release(cost)
		}
	} else {
		c.unhandled.Release(cost)
		client_log.Debug("invalid state (packet type: %s)", packet.Type.String())
		c.close()
	}
}

// onerror handles an error from the transport or parser.
func (c *Client) onerror(args ...any) {
	for _, socket := range c.allSockets() {
		socket._onerror(args[0])
	}
	c.conn.Close(false)
}

// onclose is called upon transport close.
func (c *Client) onclose(args ...any) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	client_log.Debug("client close with reason %v", args[0])

	// ignore a potential subsequent `close` event
	c.destroy()
	c.unhandled.Close() // a POST waiting in ondata goes on (PATCHES.md 16)

	// `nsps` and `sockets` are cleaned up seamlessly. Switchboard patch:
	// each socket closes on its task queue, after the packets read before
	// the connection ended (upstream closed it at once, and the events a
	// client sent just before it went away were dropped unhandled).
	for _, socket := range c.allSockets() {
		socket.Enqueue(func() { socket._onclose(args...) })
	}
	c.takeSockets()

	c.decoder.Destroy() // clean up decoder
}

// destroy cleans up event listeners and timers for the client.
func (c *Client) destroy() {
	c.conn.RemoveListener("data", c.ondata)
	c.conn.RemoveListener("error", c.onerror)
	c.conn.RemoveListener("close", c.onclose)
	c.decoder.RemoveListener("decoded", c.ondecoded)

	if connectTimeout := c.connectTimeout.Load(); connectTimeout != nil {
		utils.ClearTimeout(connectTimeout)
		c.connectTimeout.Store(nil)
	}
}

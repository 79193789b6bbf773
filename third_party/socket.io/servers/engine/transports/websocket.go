// Package transports implements the WebSocket transport for Engine.IO.
package transports

import (
	"errors"
	"io"
	"net"
	"time"

	ws "github.com/gorilla/websocket"
	pkt "github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/v3/pkg/log"
	"github.com/zishang520/socket.io/v3/pkg/queue"
	"github.com/zishang520/socket.io/v3/pkg/slices"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

var wsLog = log.NewLog("engine:ws")

type websocket struct {
	Transport

	idleTimeout time.Duration

	socket     *types.WebSocketConn
	writeQueue *queue.Queue
	readQueue  *queue.Queue // what the read loop read, in order (message)
	// unread bounds the bytes on readQueue: when it is spent the read
	// loop stops reading (Switchboard patch, PATCHES.md 16).
	unread queue.Budget
}

// WebSocket transport
func MakeWebSocket() Websocket {
	w := &websocket{Transport: MakeTransport()}

	w.Prototype(w)

	return w
}

func NewWebSocket(ctx *types.HttpContext) Websocket {
	w := MakeWebSocket()

	w.Construct(ctx)

	return w
}

func (w *websocket) Construct(ctx *types.HttpContext) {
	w.Transport.Construct(ctx)

	w.idleTimeout = ctx.IdleTimeout
	w.unread.SetLimit(ctx.InputLimit)
	w.socket = ctx.Websocket
	w.writeQueue = queue.New()
	w.readQueue = queue.New()

	_ = w.socket.On("error", func(errs ...any) {
		w.OnError("websocket error", slices.TryGetAny[error](errs, 0))
	})
	_ = w.socket.Once("close", func(...any) {
		w.OnClose()
	})

	w.SetWritable(true)
	w.SetPerMessageDeflate(nil)

	StartReader(w, ctx.TransportReadPermission(), w.message)
}

// Transport name
func (w *websocket) Name() string {
	return WEBSOCKET
}

// Advertise upgrade support.
func (w *websocket) HandlesUpgrades() bool {
	return true
}

func (w *websocket) _error(err error) {
	if ws.IsUnexpectedCloseError(err) || errors.Is(err, net.ErrClosed) {
		w.socket.Emit("close")
	} else {
		w.socket.Emit("error", err)
	}
}

// deadlineMarginDiv sets the margin of a moved read deadline: an idle
// connection is dropped between idleTimeout and idleTimeout × (1 + 1/64)
// after its last message (120 s to 121.9 s by default), and the deadline
// moves about once per margin under a steady stream of messages.
const deadlineMarginDiv = 64

// Receiving Messages
// message is the connection's read loop. Switchboard patch: it only reads;
// what it read (and the end of the connection) is handled in order on
// readQueue. Upstream decoded each message and ran the engine's and
// Socket.IO's event chain on this goroutine: a deep call chain on a stack
// that the garbage collector shrinks again while the connection waits, so
// that every few messages the stack grew again (runtime.copystack under
// the read loops was about 5% of the CPU of a loaded server). The queue's
// workers keep their grown stacks, and an idle connection's read loop
// keeps a small one.
func (w *websocket) message() {
	// Guarantee cleanup on any exit path — covers errors that _error()
	// routes as "error" (not "close") on the socket and any future paths
	// that return without calling _error at all.
	defer w.readQueue.Enqueue(func() {
		if !w.writeQueue.IsShuttingDown() {
			w.socket.Emit("close")
		}
	})

	// Switchboard patch (PATCHES.md 14): the read deadline moves only once
	// it is less than idleTimeout away, and then to idleTimeout plus a
	// margin: moving it for every message reset a runtime timer per read.
	var deadline time.Time
	for {
		if w.idleTimeout > 0 {
			if now := time.Now(); deadline.Sub(now) < w.idleTimeout {
				deadline = now.Add(w.idleTimeout + w.idleTimeout/deadlineMarginDiv)
				_ = w.socket.SetReadDeadline(deadline)
			}
		}
		mt, message, err := w.socket.NextReader()
		if err != nil {
			w.readQueue.Enqueue(func() { w._error(err) })
			return
		}

		switch mt {
		case ws.BinaryMessage, ws.TextMessage:
			data, err := readMessage(message)
			if err != nil {
				w.readQueue.Enqueue(func() { w._error(err) })
				break
			}
			// Switchboard patch (PATCHES.md 16): wait here, not reading,
			// while the messages already read are not handled yet.
			cost := InputCost(len(data))
			w.unread.Acquire(cost)
			binary := mt == ws.BinaryMessage
			w.readQueue.Enqueue(func() {
				defer w.unread.Release(cost)
				if binary {
					w.onMessage(types.NewBytesBuffer(data))
				} else {
					w.onMessage(types.NewStringBuffer(data))
				}
			})
		case ws.CloseMessage:
			w.readQueue.Enqueue(func() { w.socket.Emit("close") })
			if c, ok := message.(io.Closer); ok {
				_ = c.Close()
			}
			return
		case ws.PingMessage:
		case ws.PongMessage:
		}
		if c, ok := message.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// InputCost is what a received message of n bytes counts against a
// connection's input bounds: its bytes and what holding it costs besides
// (a task, buffers, a decoded packet), so that a flood of tiny messages
// is bounded too. Switchboard patch (PATCHES.md 16).
func InputCost(n int) int64 { return int64(n) + 512 }

func (w *websocket) onMessage(data types.BufferInterface) {
	wsLog.Debug(`websocket received "%s"`, data)
	w.OnData(data)
}

// Writes a packet payload.
func (w *websocket) Send(packets []*pkt.Packet) {
	w.SetWritable(false)
	w.writeQueue.Enqueue(func() { w.send(packets) })
}

// send runs exclusively on writeQueue, including its completion events.
func (w *websocket) send(packets []*pkt.Packet) {
	defer func() {
		w.Emit("drain")
		w.SetWritable(true)
		w.Emit("ready")
	}()

	for _, packet := range packets {
		// always creates a new object since ws modifies it
		compress := true
		if packet.Options != nil {
			if packet.Options.Compress != nil && !*packet.Options.Compress {
				compress = false
			}

			if w.PerMessageDeflate() == nil && packet.Options.WsPreEncodedFrame != nil {
				mt := ws.BinaryMessage
				if _, ok := packet.Options.WsPreEncodedFrame.(*types.StringBuffer); ok {
					mt = ws.TextMessage
				}
				pm, err := ws.NewPreparedMessage(mt, packet.Options.WsPreEncodedFrame.Bytes())
				if err != nil {
					wsLog.Debug(`Send Error "%s"`, err.Error())
					w._error(err)
					return
				}
				if err := w.socket.WritePreparedMessage(pm); err != nil {
					wsLog.Debug(`Send Error "%s"`, err.Error())
					w._error(err)
					return
				}
				continue

			}
		}

		if text, ok := packet.Data.(*types.StringBuffer); ok && packet.Type == pkt.MESSAGE && w.Protocol() == 4 {
			w.writeMessage(text, compress)
			continue
		}
		data, err := w.Parser().EncodePacket(packet, w.SupportsBinary())
		if err != nil {
			wsLog.Debug(`Send Error "%s"`, err.Error())
			w._error(err)
			return
		}
		w.write(data, compress)
	}
}

// messagePrefix is an engine MESSAGE packet's type, in text.
var messagePrefix = []byte{'4'}

// writeMessage writes an engine MESSAGE packet with text data (every
// Socket.IO packet without attachments) as one text frame: its type and
// its data, straight into the frame. Switchboard patch: upstream encoded
// the packet into a new buffer first (the parser's EncodePacket), a copy
// of every packet sent, grown from 64 bytes.
func (w *websocket) writeMessage(data *types.StringBuffer, compress bool) {
	if pmd := w.PerMessageDeflate(); pmd != nil && 1+data.Len() < pmd.Threshold {
		compress = false
	}
	w.socket.EnableWriteCompression(compress)
	writer, err := w.socket.NextWriter(ws.TextMessage)
	if err != nil {
		w._error(err)
		return
	}
	_, err = writer.Write(messagePrefix)
	if err == nil {
		_, err = data.WriteTo(writer)
	}
	if cerr := writer.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w._error(err)
	}
}

func (w *websocket) write(data types.BufferInterface, compress bool) {
	if w.PerMessageDeflate() != nil {
		if data.Len() < w.PerMessageDeflate().Threshold {
			compress = false
		}
	}
	wsLog.Debug(`writing %#v`, data)

	w.socket.EnableWriteCompression(compress)
	mt := ws.BinaryMessage
	if _, ok := data.(*types.StringBuffer); ok {
		mt = ws.TextMessage
	}
	write, err := w.socket.NextWriter(mt)
	if err != nil {
		w._error(err)
		return
	}
	defer func() {
		if err := write.Close(); err != nil {
			w._error(err)
			return
		}
	}()
	if _, err := io.Copy(write, data); err != nil {
		w._error(err)
		return
	}
}

// OnClose releases the write queue and hijacked connection for every close path,
// including peer/error closes that bypass DoClose after the state becomes closed.
func (w *websocket) OnClose() {
	w.writeQueue.TryClose()
	w.Transport.OnClose()
	_ = w.socket.Close()
}

// Closes the transport.
func (w *websocket) DoClose(fn types.Callable) {
	wsLog.Debug(`closing`)
	w.writeQueue.TryClose()
	defer func() { _ = w.socket.Close() }()
	if fn != nil {
		fn()
	}
}

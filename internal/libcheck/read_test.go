package libcheck

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// TestReceivedMessagesKeepTheirBytes sends text and binary websocket
// messages of many sizes, each different from the one before, and requires
// the server to hand every one to its listener intact and to keep it intact
// while later messages are read. The websocket transport reads each message
// through a pooled scratch buffer (servers/engine transports/read-message.go):
// a payload that shared the scratch buffer's memory would be overwritten by
// the next message.
func TestReceivedMessagesKeepTheirBytes(t *testing.T) {
	var mu sync.Mutex
	var texts []string
	var blobs [][]byte
	io := websocketServer()
	io.On("connection", func(a ...any) {
		s := a[0].(*socket.Socket)
		_ = s.On("text", func(args ...any) {
			mu.Lock()
			defer mu.Unlock()
			texts = append(texts, args[0].(string))
		})
		_ = s.On("blob", func(args ...any) {
			mu.Lock()
			defer mu.Unlock()
			switch b := args[0].(type) {
			case []byte:
				blobs = append(blobs, b)
			case types.BufferInterface:
				blobs = append(blobs, b.Bytes())
			default:
				t.Errorf("a binary attachment arrived as %T", b)
			}
		})
	})
	ws := wsConnect(t, serve(t, io))

	sizes := []int{0, 1, 300, 7, 511, 512, 513, 2000, 70 << 10, 3, 100 << 10, 40}
	var wantTexts []string
	var wantBlobs [][]byte
	for i, n := range sizes {
		text := strings.Repeat(string(rune('a'+i%26)), n)
		wantTexts = append(wantTexts, text)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["text","`+text+`"]`)); err != nil {
			t.Fatal(err)
		}
		blob := bytes.Repeat([]byte{byte(i + 1)}, n)
		wantBlobs = append(wantBlobs, blob)
		// A binary event: its header, then the attachment as a frame.
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`451-["blob",{"_placeholder":true,"num":0}]`)); err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.BinaryMessage, blob); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every message to arrive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(texts) == len(sizes) && len(blobs) == len(sizes)
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range sizes {
		if texts[i] != wantTexts[i] {
			t.Errorf("text %d (%d bytes) arrived as %d bytes %.20q…", i, sizes[i], len(texts[i]), texts[i])
		}
		if !bytes.Equal(blobs[i], wantBlobs[i]) {
			t.Errorf("blob %d (%d bytes) is %s", i, sizes[i], describe(blobs[i]))
		}
	}
}

func describe(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}
	return fmt.Sprintf("%d bytes starting %v", len(b), b[:min(len(b), 4)])
}

// TestEventsRunOffTheReadLoop: a connection's events are decoded and
// handled on the transport's read queue, not on its read loop (whose stack
// the garbage collector keeps shrinking while the connection waits), and
// in the order they were read, the connection's end after every message
// read before it. Unpatched, listeners ran on the read loop's goroutine
// (servers/engine transports/websocket.go, message).
func TestEventsRunOffTheReadLoop(t *testing.T) {
	const n = 200
	var mu sync.Mutex
	var got []string
	var onReadLoop int
	var atDisconnect = -1
	io := websocketServer()
	io.On("connection", func(a ...any) {
		s := a[0].(*socket.Socket)
		_ = s.On("e", func(args ...any) {
			// The engine's "message" listener runs where the transport
			// hands the message on; so does the Socket.IO decoder.
			stack := make([]byte, 64<<10)
			stack = stack[:runtime.Stack(stack, false)]
			mu.Lock()
			defer mu.Unlock()
			got = append(got, args[0].(string))
			if bytes.Contains(stack, []byte("transports.(*websocket).message(")) {
				onReadLoop++
			}
		})
		_ = s.On("disconnect", func(...any) {
			mu.Lock()
			defer mu.Unlock()
			atDisconnect = len(got)
		})
	})
	c := wsConnect(t, serve(t, io))
	for i := range n {
		wsSend(t, c, fmt.Sprintf(`42["e","%d"]`, i))
	}
	// The end of the connection right behind them: a close frame.
	_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	defer c.Close()
	eventually(t, "the disconnect", func() bool { mu.Lock(); defer mu.Unlock(); return atDisconnect >= 0 })
	mu.Lock()
	defer mu.Unlock()
	if onReadLoop > 0 {
		t.Errorf("%d of %d events ran on the connection's read loop", onReadLoop, len(got))
	}
	if atDisconnect != n || len(got) != n {
		t.Fatalf("%d events before the disconnect, %d in all; want %d", atDisconnect, len(got), n)
	}
	for i, e := range got {
		if e != fmt.Sprint(i) {
			t.Fatalf("event %d is %q: out of order", i, e)
		}
	}
}

// TestIdleTimeout: a websocket connection that sends nothing is dropped
// once the engine's idle timeout has passed, and one that keeps sending
// stays open past it. The read deadline moves only once it is less than
// the timeout away (patch 14), so a connection must never be dropped
// sooner than the timeout after its last message.
func TestIdleTimeout(t *testing.T) {
	const idle = 400 * time.Millisecond
	url := serve(t, websocketServer(func(o *socket.ServerOptions) { o.SetIdleTimeout(idle) }))

	quiet, busy := wsConnect(t, url), wsConnect(t, url)
	closed := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		for {
			if _, _, err := quiet.ReadMessage(); err != nil {
				closed <- time.Since(start)
				return
			}
		}
	}()
	busyFailed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := busy.ReadMessage(); err != nil {
				busyFailed <- err
				return
			}
		}
	}()
	tick := time.NewTicker(idle / 8)
	defer tick.Stop()
	for time.Since(start) < 3*idle {
		<-tick.C
		if err := busy.WriteMessage(websocket.TextMessage, []byte(`42["tick"]`)); err != nil {
			t.Fatalf("the busy connection was dropped after %v: %v", time.Since(start), err)
		}
	}
	select {
	case d := <-closed:
		// The connect's own messages came just before start.
		if d < idle-idle/8 || d > idle+idle/64+time.Second {
			t.Errorf("the quiet connection was dropped after %v, want about %v", d, idle)
		}
	default:
		t.Fatalf("the quiet connection is still open after %v (idle timeout %v)", time.Since(start), idle)
	}
	select {
	case err := <-busyFailed:
		t.Fatalf("the busy connection failed: %v", err)
	case <-time.After(idle / 4):
	}
}

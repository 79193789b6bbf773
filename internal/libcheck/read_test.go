package libcheck

import (
	"bytes"
	"fmt"
	"net/http/httptest"
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
	opts := socket.DefaultServerOptions()
	opts.SetTransports(types.NewSet(socket.WebSocket))
	io := socket.NewServer(nil, opts)
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
	srv := httptest.NewServer(io.ServeHandler(nil))
	t.Cleanup(func() { srv.CloseClientConnections(); io.Close(nil); srv.Close() })

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	expect := func(prefix string) {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, m, err := ws.ReadMessage()
		if err != nil || !bytes.HasPrefix(m, []byte(prefix)) {
			t.Fatalf("wanted %q…, got %q (%v)", prefix, m, err)
		}
	}
	expect("0{") // Engine.IO OPEN
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	expect("40{") // Socket.IO CONNECT

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

package libcheck

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// TestUnhandledInputIsBounded (patch 16): a client writes 60 KiB events
// without pause while the server's handler is stuck on the first one.
// The server must stop reading the connection once it holds a few
// messages' worth (its read queue and the socket's task queue are
// bounded), so the client's writes stall on the full TCP window and the
// server's heap stays small; unpatched, the server read and queued every
// message as fast as the client wrote (36 MiB here, and without end for
// a client that never stops). When the handler goes on, every message
// written arrives, in order.
func TestUnhandledInputIsBounded(t *testing.T) {
	const size, total = 60 << 10, 600
	release := make(chan struct{})
	var once sync.Once
	goOn := func() { once.Do(func() { close(release) }) }
	var handled atomic.Int64
	var outOfOrder atomic.Int64
	io := websocketServer(func(o *socket.ServerOptions) { o.SetMaxHttpBufferSize(100 << 10) })
	io.On("connection", func(a ...any) {
		s := a[0].(*socket.Socket)
		_ = s.On("big", func(args ...any) {
			<-release
			n := handled.Add(1)
			if seq, _ := args[0].(float64); int64(seq) != n {
				outOfOrder.Add(1)
			}
		})
	})
	ws := wsConnect(t, serve(t, io))
	defer goOn()

	before := heapInUse()
	var written atomic.Int64
	writeErr := make(chan error, 1)
	go func() {
		pad := strings.Repeat("x", size)
		for i := 1; i <= total; i++ {
			msg := `42["big",` + strconv.Itoa(i) + `,"` + pad + `"]`
			if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				writeErr <- err
				return
			}
			written.Add(1)
		}
		writeErr <- nil
	}()

	stalledAt := waitForStall(&written, time.Second, 20*time.Second)
	if stalledAt >= total {
		t.Fatalf("the client wrote all %d messages (%d MiB) while the handler was stuck: the server read them all, nothing pushed back",
			total, total*size>>20)
	}
	grown := heapInUse() - before
	t.Logf("writes stalled after %d messages (%d MiB, the rest in the kernel's buffers); server heap grew %d KiB",
		stalledAt, stalledAt*size>>20, grown>>10)
	if grown > 8<<20 {
		t.Errorf("the heap grew %d MiB while the handler was stuck: the unhandled input is not bounded", grown>>20)
	}

	goOn()
	select {
	case err := <-writeErr:
		if err != nil {
			t.Fatalf("writing after the handler went on: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the client could not finish writing once the handler went on (%d written)", written.Load())
	}
	deadline := time.Now().Add(60 * time.Second)
	for handled.Load() < total && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := handled.Load(); n != total {
		t.Fatalf("%d of %d messages handled", n, total)
	}
	if n := outOfOrder.Load(); n > 0 {
		t.Errorf("%d messages handled out of order", n)
	}
}

// waitForStall waits until n has not moved for quiet, or until limit,
// and returns its value then.
func waitForStall(n *atomic.Int64, quiet, limit time.Duration) int64 {
	last, since := n.Load(), time.Now()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if v := n.Load(); v != last {
			last, since = v, time.Now()
		} else if time.Since(since) >= quiet {
			break
		}
	}
	return last
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

package transports

import (
	"bytes"
	"io"
	"sync"
)

// Switchboard patch: a received message is read into a pooled buffer and
// handed on from there. Upstream read it with types.Buffer.ReadFrom into a
// fresh buffer, which grows in 512-byte steps and reallocates once more to
// look for EOF: a 300-byte event cost a 512-byte and a ~1.5 KiB allocation
// (15% of the bytes allocated under bench/'s chat load). Lending the pooled
// bytes is safe because everything downstream of onMessage runs before it
// returns and copies what it keeps: the engine parser decodes the packet
// and the Socket.IO decoder turns it into strings and attachment copies
// (internal/libcheck TestReceivedMessagesKeepTheirBytes holds it to that).
var readScratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledScratch keeps a huge message's buffer out of the pool.
const maxPooledScratch = 64 << 10

// readMessage reads r to its end and calls use with the bytes, which are
// valid only until use returns. use is not called when reading fails.
func readMessage(r io.Reader, use func(data []byte)) error {
	scratch := readScratch.Get().(*bytes.Buffer)
	defer func() {
		if scratch.Cap() <= maxPooledScratch {
			scratch.Reset()
			readScratch.Put(scratch)
		}
	}()
	scratch.Reset()
	if _, err := scratch.ReadFrom(r); err != nil {
		return err
	}
	use(scratch.Bytes())
	return nil
}

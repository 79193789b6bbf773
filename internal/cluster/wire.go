package cluster

import (
	"encoding/binary"
	"errors"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// A message between nodes is one Op's events (or one uncommitted event,
// such as a typing notice), each as its Socket.IO packet already encoded,
// in a compact binary form: the receiving node reads the rooms and writes
// the packet's bytes to its sockets without decoding or encoding JSON.
//
//	message = version(1) node seq count entry*
//	entry   = flags name rooms except buffers
//	flags   = bit 0: chat protocol (else livechat); bit 1: disconnect
//	rooms   = count string*;  buffers = count (kind string)*
//	kind    = 0 text packet, 1 binary attachment
//
// Numbers are unsigned varints; a string is its length and its bytes.

const wireVersion = 1

const (
	flagChat       = 1 << 0
	flagDisconnect = 1 << 1
)

// entry is one event for sockets.
type entry struct {
	flags   byte
	name    string
	rooms   []string
	except  string
	encoded []types.BufferInterface
}

// batch is one message: an Op's events, numbered by the database's clock
// (seq 0: not numbered, delivered as it comes).
type batch struct {
	node    string
	seq     uint64
	entries []entry
}

// appendBatch encodes b.
func appendBatch(out []byte, b *batch) []byte {
	out = append(out, wireVersion)
	out = appendString(out, b.node)
	out = binary.AppendUvarint(out, b.seq)
	out = binary.AppendUvarint(out, uint64(len(b.entries)))
	for _, e := range b.entries {
		out = append(out, e.flags)
		out = appendString(out, e.name)
		out = binary.AppendUvarint(out, uint64(len(e.rooms)))
		for _, r := range e.rooms {
			out = appendString(out, r)
		}
		out = appendString(out, e.except)
		out = binary.AppendUvarint(out, uint64(len(e.encoded)))
		for _, buf := range e.encoded {
			kind := byte(1)
			if _, text := buf.(*types.StringBuffer); text {
				kind = 0
			}
			out = append(out, kind)
			out = binary.AppendUvarint(out, uint64(buf.Len()))
			out = append(out, buf.Bytes()...)
		}
	}
	return out
}

func appendString(out []byte, s string) []byte {
	out = binary.AppendUvarint(out, uint64(len(s)))
	return append(out, s...)
}

var errWire = errors.New("cluster: malformed message")

// reader reads a message without copying its strings.
type reader struct {
	s   string
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < len(r.s) && i < binary.MaxVarintLen64; i++ {
		c := r.s[i]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			r.s = r.s[i+1:]
			return v
		}
		shift += 7
	}
	r.err = errWire
	return 0
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.s) == 0 {
		r.err = errWire
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.s)) {
		r.err = errWire
		return ""
	}
	v := r.s[:n]
	r.s = r.s[n:]
	return v
}

// count reads a number of items, each at least one byte long.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.err = errWire
		return 0
	}
	return int(n)
}

// node reads the sender of message m, which is all a node needs to skip
// its own messages.
func node(m string) string {
	r := reader{s: m}
	if r.byte() != wireVersion {
		return ""
	}
	return r.string()
}

// readBatch decodes message m.
func readBatch(m string) (*batch, error) {
	r := reader{s: m}
	if r.byte() != wireVersion {
		return nil, errWire
	}
	b := &batch{node: r.string(), seq: r.uvarint()}
	b.entries = make([]entry, r.count())
	for i := range b.entries {
		e := &b.entries[i]
		e.flags, e.name = r.byte(), r.string()
		e.rooms = make([]string, r.count())
		for k := range e.rooms {
			e.rooms[k] = r.string()
		}
		e.except = r.string()
		e.encoded = make([]types.BufferInterface, r.count())
		for k := range e.encoded {
			kind, data := r.byte(), r.string()
			if kind == 0 {
				e.encoded[k] = types.NewStringBufferString(data)
			} else {
				e.encoded[k] = types.NewBytesBufferString(data)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	if r.err != nil || len(r.s) > 0 {
		return nil, errWire
	}
	return b, nil
}

package libcheck

import (
	"reflect"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
)

// decode runs one text packet through the Socket.IO decoder.
func decode(t *testing.T, text string) (*parser.Packet, error) {
	t.Helper()
	d := parser.NewDecoder()
	var got *parser.Packet
	_ = d.On("decoded", func(a ...any) { got = a[0].(*parser.Packet) })
	err := d.Add(text)
	return got, err
}

// TestDecoderPayloads: the decoder (parsers/socket, patched to
// json.Unmarshal the payload) still yields the shapes handlers get.
func TestDecoderPayloads(t *testing.T) {
	p, err := decode(t, `2/chat,12["updateMessage","t1",{"content":"hé \"x\"","type":1,"n":[true,null,2.5]}]`)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"updateMessage", "t1", map[string]any{"content": `hé "x"`, "type": 1.0, "n": []any{true, nil, 2.5}}}
	if p.Nsp != "/chat" || p.Id == nil || *p.Id != 12 || !reflect.DeepEqual(p.Data, want) {
		t.Fatalf("decoded %+v (id %v), data %#v", p, p.Id, p.Data)
	}
	p, err = decode(t, `0{"token":"abc"}`)
	if err != nil || !reflect.DeepEqual(p.Data, map[string]any{"token": "abc"}) {
		t.Fatalf("CONNECT: %+v %v", p, err)
	}
	for _, bad := range []string{`2["a"`, `2{"a":1}`, `2"a"`, `0[1]`} {
		if _, err := decode(t, bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// TestDecoderRefusesTrailingData: a payload is one JSON value, as for the
// JavaScript parser (JSON.parse). Upstream's json.Decoder read the first
// value and ignored the rest.
func TestDecoderRefusesTrailingData(t *testing.T) {
	for _, bad := range []string{`2["a",1]]`, `2["a"]{"b":2}`, `2["a"] x`} {
		if p, err := decode(t, bad); err == nil {
			t.Errorf("%q was accepted as %v", bad, p.Data)
		}
	}
}

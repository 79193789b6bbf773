package outbox

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The hand-written envelope is byte for byte what encoding/json makes of
// it, escapes included.
func TestAppendEnvelopeIsJSONMarshal(t *testing.T) {
	for _, env := range []Envelope{
		{ID: "9b2f0c1e-0000-4000-8000-000000000000", Version: 1, Name: "personalChatSent", Namespace: "switchboard",
			Timestamp: "2026-12-08T01:02:03.004Z", ClientID: "acme", UserID: "user-1", TraceID: "t", SessionID: "s-1"},
		{ID: "x", Version: 7, Name: "n", ClientID: "<ténant & \"co\">\n", UserID: "\\\u2028\x00", SessionID: "日本"},
	} {
		body := map[string]any{"text": "a <b> \"c\" é", "n": 3}
		env.Payload = map[string]any{env.Name: body}
		want, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendEnvelope(nil, &env, data); !bytes.Equal(got, want) {
			t.Errorf("appendEnvelope\n got %s\nwant %s", got, want)
		}
	}
}

// The hand-written timestamp is time.Format's with timestampLayout.
func TestTimestampIsFormat(t *testing.T) {
	for _, at := range []time.Time{time.Date(2026, 12, 8, 1, 2, 3, 4_999_999, time.UTC), time.UnixMilli(0),
		time.Date(999, 1, 31, 23, 59, 59, 999_000_000, time.FixedZone("x", 3600)), time.Date(12026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Now()} {
		if got, want := timestamp(at), at.UTC().Format(timestampLayout); got != want {
			t.Errorf("timestamp(%v) = %s, want %s", at, got, want)
		}
	}
}

func BenchmarkEnvelope(b *testing.B) {
	env := Envelope{ID: newID(), Version: 1, Name: "personalChatSent", Namespace: "switchboard",
		Timestamp: "2026-12-08T01:02:03.004Z", ClientID: "acme", UserID: "user-1", TraceID: newID(), SessionID: "s-1"}
	body := struct {
		A string   `json:"message_id"`
		B []string `json:"target_members"`
	}{"m-1", []string{"operator-1"}}
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e := env
			e.Payload = map[string]any{e.Name: body}
			_, _ = json.Marshal(e)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, _ := json.Marshal(body)
			_ = appendEnvelope(make([]byte, 0, 256+len(data)), &env, data)
		}
	})
}

package chat

import (
	"encoding/json"
	"testing"
)

// A message event's body is rendered when it is encoded: it must encode
// to what the eager Envelope of the payload did, for the sender's other
// sockets (read) and everyone else (unread).
func TestMessageBodyEncodesItsEnvelope(t *testing.T) {
	m := Message{ID: "m1", SessionID: "s1", Tenant: "acme", Kind: KindUser, Type: TypeText,
		Content: `<b>"hi"</b> & ünïcode`, Encoding: "utf-8", SenderID: "ann", SenderName: "Ann",
		StatusID: StatusSent, CreatedAt: 1764000000123, Metadata: `{"k":"v"}`}
	for _, viewer := range []string{"ann", ""} {
		want, err := json.Marshal([]any{"chatMsg", Envelope(msgPayload(m, viewer))})
		if err != nil {
			t.Fatal(err)
		}
		ev := pushBody("chatMsg", messageBody{&m, viewer}, m.SessionID, "", "room")
		got, err := json.Marshal(append([]any{ev.Name}, ev.Args...))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("viewer %q:\n got %s\nwant %s", viewer, got, want)
		}
	}
}

package chat

import (
	"encoding/json"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/fanout"
)

// A message event read back from its packet on another node
// (fanout.Received) gives the message the RTM binding shows: what the
// wire holds, and the sender's name from the aside. A reactions update
// is no message event there either.
func TestEventMessageReadBack(t *testing.T) {
	m := Message{ID: "m1", SessionID: "s1", Tenant: "acme", Kind: KindSysNotif, Content: `Ann "accepted"`,
		SenderID: "ann", SenderName: "Ann Example", CreatedAt: 1764000000123, EditedAt: 1764000009000,
		Metadata: encodeMetadata(json.RawMessage(`{"k":"v"}`), []NameValue{{Name: "event", Value: "accept"}})}
	body := messageBody{&m, ""}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	ev := pushBody("msgEdited", fanout.Received{JSON: raw, Aside: body.Aside()}, m.SessionID, "", "room")
	got, ok := EventMessage(ev)
	if !ok || got.ID != m.ID || got.SessionID != m.SessionID || got.Tenant != m.Tenant || got.Kind != m.Kind ||
		got.Content != m.Content || got.SenderID != m.SenderID || got.SenderName != "Ann Example" ||
		got.CreatedAt != m.CreatedAt || got.EditedAt == 0 || got.RemovedAt != 0 || got.Metadata != m.Metadata ||
		NotificationEvent(got) != "accept" {
		t.Fatalf("read back: %+v %v", got, ok)
	}
	reactions, _ := json.Marshal(Envelope(ReactionsPayload{MsgPayload: msgPayload(m, ""), SenderName: "Ann", Reactions: []Reaction{}}))
	if _, ok := EventMessage(pushBody("msgEdited", fanout.Received{JSON: reactions}, "s1", "", "room")); ok {
		t.Fatal("a reactions update read back as a message")
	}
}

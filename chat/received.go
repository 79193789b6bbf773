package chat

import (
	"encoding/json"
	"time"

	"github.com/switchboard-chat/switchboard/internal/fanout"
)

// A message event committed on another node of a cluster reaches this
// node as its packet, which the RTM binding reads back (fanout.Decode):
// the message's wire form (MsgPayload) holds all the RTM binding shows
// but its sender's name, which the bus carries beside it as the body's
// aside.

// Aside is the message's sender's name, which its wire form leaves out.
func (b messageBody) Aside() string { return b.m.SenderName }

// receivedMessage is the message of a message event's body read back.
// The wire has no time of an edit or a removal, only that there was one:
// EditedAt and RemovedAt read as the send time. A reactions update
// (ReactionsPayload, pushed as msgEdited) is no message event: ok false,
// as for the body made on this node.
func receivedMessage(b fanout.Received) (Message, bool) {
	var body struct {
		Payload struct {
			MsgPayload
			ChatMetadata json.RawMessage `json:"chatMetadata"`
			Reactions    json.RawMessage `json:"reactions"`
		} `json:"payload"`
	}
	if json.Unmarshal(b.JSON, &body) != nil || body.Payload.MsgID == "" || body.Payload.Reactions != nil {
		return Message{}, false
	}
	p := body.Payload
	m := Message{ID: p.MsgID, SessionID: p.ChatSessionID, Tenant: p.ClientID, Kind: p.MsgType, Content: p.Content,
		SenderID: p.Sender, SenderName: b.Aside}
	if t, err := time.Parse(TimeFormat, p.SentTS); err == nil {
		m.CreatedAt = t.UnixMilli()
	}
	switch p.Status {
	case msgEdited:
		m.EditedAt = m.CreatedAt
	case msgRemoved:
		m.RemovedAt = m.CreatedAt
	}
	chat := p.ChatMetadata
	if string(chat) == "null" {
		chat = nil
	}
	m.Metadata = encodeMetadata(chat, p.Metadata)
	return m, true
}

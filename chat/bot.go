package chat

import "strconv"

// Bot messages: a system notification (KindSysNotif) records who did
// what in its metadata (event, username); a program's own bot message
// also carries its type (botType). Bindings that show bot messages in
// the AirSend shape (content.type + content.bot_message) read them here.

// NotificationEvent is what a system notification records: the ticket
// action ("accept", "close", …) or chat event that made it.
func NotificationEvent(m Message) string {
	if m.Kind != KindSysNotif {
		return ""
	}
	return notifyValue(m, "event")
}

// BotProgram is the bot type of a program's bot message that names none
// (types below it are the system's, as the AirSend document numbers them).
const BotProgram = 100

// BotContent is a program's bot message's type and text (ok false for
// any other message).
func BotContent(m Message) (botType int, text string, ok bool) {
	v := notifyValue(m, "botType")
	if v == "" {
		return 0, "", false
	}
	t, err := strconv.Atoi(v)
	return t, m.Content, err == nil
}

// BotMetadata is the metadata of a program's bot message of botType.
func BotMetadata(programID string, botType int) string {
	return encodeMetadata(nil, []NameValue{{Name: "event", Value: "bot"}, {Name: "username", Value: programID},
		{Name: "botType", Value: strconv.Itoa(botType)}})
}

func notifyValue(m Message, name string) string {
	if m.Metadata == "" {
		return ""
	}
	_, notify := decodeMetadata(m.Metadata)
	for _, nv := range notify {
		if nv.Name == name {
			return nv.Value
		}
	}
	return ""
}

package tickets

import (
	"context"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// React adds (add) or removes the caller's emoji reaction on a message of
// a ticket it is a party to. A ticket is a chat session: the reaction is
// chat's (chat.Service.React), and every party hears the message's
// reactions on each protocol. A message the caller may not see is
// NOT_FOUND, as everywhere in livechat.
func (s *Service) React(ctx context.Context, c Caller, messageID, emoji string, add bool) error {
	if c.Principal.Role == switchboard.RoleProgram && c.UserID == "" {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "subscribe for an end user first")
	}
	if s.chat == nil {
		return switchboard.Errorf(switchboard.EINTERNAL, "reactions need the chat service")
	}
	_, err := s.chat.React(ctx, c, messageID, emoji, add)
	if switchboard.ErrorCode(err) == chat.EMSGNOTFOUND {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no message %s", messageID)
	}
	return err
}

// ReactedMessage is a message with its reactions, as the message history
// shows one that has any.
type ReactedMessage struct {
	Message
	Reactions []chat.LivechatReaction `json:"reactions"`
}

// Reactions are the reactions of ms (messages the caller may see), by
// Message.Seq.
func (s *Service) Reactions(ctx context.Context, ms []chat.Message) (map[int64][]chat.LivechatReaction, error) {
	seqs := make([]int64, len(ms))
	for i, m := range ms {
		seqs[i] = m.Seq
	}
	rs, err := chat.StoreIn(s.db.WithContext(ctx)).Reactions(seqs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]chat.LivechatReaction, len(rs))
	for seq, list := range rs {
		for _, r := range list {
			out[seq] = append(out[seq], chat.LivechatReaction{Emoji: r.Emoji, UserID: r.UserID, UserNm: r.UserName})
		}
	}
	return out, nil
}

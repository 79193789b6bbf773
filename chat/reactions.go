package chat

import (
	"context"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard-chat/switchboard"
)

// Reaction is one user's emoji on a message. A user has at most one
// reaction of each emoji on a message: adding it again changes nothing.
type Reaction struct {
	Seq       int64  `gorm:"column:seq;primaryKey" json:"-"`
	UserID    string `gorm:"column:user_id;primaryKey" json:"username"`
	Emoji     string `gorm:"column:emoji;primaryKey" json:"emoji"`
	UserName  string `gorm:"column:user_name" json:"fullName"`
	CreatedAt int64  `gorm:"column:created_at" json:"-"`
}

// TableName maps Reaction to its table.
func (Reaction) TableName() string { return "message_reactions" }

// MaxEmoji bounds an emoji's value ("U 1F600", "👍", ":tada:").
const MaxEmoji = 64

// ReactionsPayload is a message with its reactions: the chat protocol's
// msgEdited body when only the reactions changed (the message update of
// that protocol).
type ReactionsPayload struct {
	MsgPayload
	SenderName string     `json:"senderName"`
	Reactions  []Reaction `json:"reactions"`
}

// LivechatReactions is livechat's messageReactionsUpdated argument.
type LivechatReactions struct {
	TicketID  string             `json:"ticketId"`
	MessageID string             `json:"messageId"`
	Reactions []LivechatReaction `json:"reactions"`
}

// LivechatReaction is a Reaction in livechat's words.
type LivechatReaction struct {
	Emoji  string `json:"emoji"`
	UserID string `json:"userId"`
	UserNm string `json:"userNm"`
}

// EventReactions is livechat's push of a message's reactions.
const EventReactions = "messageReactionsUpdated"

// Reacted says what React did, for what follows from it (an alert to
// the message's sender).
type Reacted struct {
	Message Message
	Changed bool
}

// React adds (or with add false removes) the caller's emoji on a
// message of a session the caller is in. Every member hears the
// message's reactions as a message update (msgEdited; livechat's
// messageReactionsUpdated for a ticket). Adding a reaction the caller
// has, or removing one it has not, changes nothing and pushes nothing.
func (s *Service) React(ctx context.Context, c Caller, msgID, emoji string, add bool) (Reacted, error) {
	if emoji == "" || len(emoji) > MaxEmoji || !utf8.ValidString(emoji) {
		return Reacted{}, switchboard.Errorf(switchboard.EINVALID, "emoji must be 1 to %d bytes of UTF-8", MaxEmoji)
	}
	var out Reacted
	now := s.millis()
	err := s.write(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		m, found, err := FindMessage(tx, c.Tenant(), msgID)
		if err != nil {
			return nil, err
		}
		if !found || m.RemovedAt != 0 {
			return nil, switchboard.Errorf(EMSGNOTFOUND, "no message %s", msgID)
		}
		if _, err := memberOf(tx, c, m.SessionID, switchboard.Errorf(EMSGNOTFOUND, "no message %s", msgID)); err != nil {
			return nil, err
		}
		r := Reaction{Seq: m.Seq, UserID: c.UserID, Emoji: emoji, UserName: c.Principal.DisplayName, CreatedAt: now}
		var res *gorm.DB
		if add {
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
		} else {
			res = tx.Where("seq = ? AND user_id = ? AND emoji = ?", m.Seq, c.UserID, emoji).Delete(&Reaction{})
		}
		if res.Error != nil {
			return nil, res.Error
		}
		out = Reacted{Message: m, Changed: res.RowsAffected == 1}
		if !out.Changed {
			return nil, nil
		}
		evs, err := s.reactionEvents(tx, m)
		if err != nil || !add || m.SenderID == c.UserID {
			return evs, err
		}
		if ticket, err := s.isTicket(tx, m.SessionID); err != nil || !ticket {
			return evs, err
		}
		more, err := s.opts.Tickets.Reacted(c, m, emoji)(tx)
		return append(evs, more...), err
	})
	return out, err
}

// reactionEvents push m's reactions to the members of its session.
func (s *Service) reactionEvents(tx *gorm.DB, m Message) ([]switchboard.Event, error) {
	rs, err := ReactionsOf(tx, []int64{m.Seq})
	if err != nil {
		return nil, err
	}
	members, err := ActiveMembers(tx, m.SessionID)
	if err != nil {
		return nil, err
	}
	list := rs[m.Seq]
	if list == nil {
		list = []Reaction{}
	}
	body := ReactionsPayload{MsgPayload: msgPayload(m, ""), SenderName: m.SenderName, Reactions: list}
	evs := []switchboard.Event{push("msgEdited", body, m.SessionID, "", memberRooms(m.Tenant, members, "")...)}
	ticket, err := s.isTicket(tx, m.SessionID)
	if err != nil || !ticket {
		return evs, err
	}
	wire := LivechatReactions{TicketID: m.SessionID, MessageID: m.ID, Reactions: make([]LivechatReaction, len(list))}
	for i, r := range list {
		wire.Reactions[i] = LivechatReaction{Emoji: r.Emoji, UserID: r.UserID, UserNm: r.UserName}
	}
	var rooms []string
	for _, mem := range members {
		rooms = append(rooms, switchboard.UserRoom(m.Tenant, mem.UserID), switchboard.OperatorRoom(m.Tenant, mem.UserID))
	}
	return append(evs, switchboard.Event{Name: EventReactions, Args: []any{wire}, To: rooms, SessionID: m.SessionID}), nil
}

// ReactionsOf lists the reactions of the messages seqs, oldest first.
func ReactionsOf(db *gorm.DB, seqs []int64) (map[int64][]Reaction, error) {
	out := map[int64][]Reaction{}
	if len(seqs) == 0 {
		return out, nil
	}
	var rs []Reaction
	if err := db.Where("seq IN ?", seqs).Order("created_at, user_id, emoji").Find(&rs).Error; err != nil {
		return nil, err
	}
	for _, r := range rs {
		out[r.Seq] = append(out[r.Seq], r)
	}
	return out, nil
}

// Reactions lists the reactions of the messages seqs (Message.Seq),
// for a ticket's message list.
func (st Store) Reactions(seqs []int64) (map[int64][]Reaction, error) {
	return ReactionsOf(st.db, seqs)
}

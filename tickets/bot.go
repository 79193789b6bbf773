package tickets

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// Bot messages: a program may post into the tickets of its own end users
// a message of its own, shown as a bot message rather than as the user's
// or an operator's words. It is a ticket message of type TypeBot (the
// AirSend message_type 5) from the program, addressed to the ticket's
// owner; its content is the bot message's text, with @<user id>
// references the clients resolve to names, and its bot type (the AirSend
// content.type) is kept in its metadata (chat.BotMetadata).

// TypeBot is the livechat message type of a bot message. Clients never
// send it (updateMessage takes 1 and 2 only).
const TypeBot = 5

// MaxBotType bounds a bot message's type.
const MaxBotType = 1 << 20

// BotMessage is a program's bot message.
type BotMessage struct {
	MessageID string // the client's id ("" for a new one)
	Type      int    // the bot type, 1 to MaxBotType
	Text      string
}

// PostBotMessage stores a program's bot message in a ticket of one of its
// end users and pushes it like any message: messageUpdated to the owner
// and the handler (the queue if none), chatMsg to the session's members,
// their unread counts. Only programs post them, only into their users'
// tickets (another ticket is NOT_FOUND), not into closed ones. A retry
// with the same id stores nothing and pushes nothing.
func (s *Service) PostBotMessage(c Caller, ticketID string, in BotMessage, done database.Done) {
	if c.Principal.Role != switchboard.RoleProgram {
		done.Call(switchboard.Errorf(switchboard.EFORBIDDEN, "only programs post bot messages"))
		return
	}
	now := s.millis()
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		t, found, err := findTicket(tx, c.Tenant(), ticketID)
		if err != nil {
			return nil, err
		}
		if !found || t.ProgramID == "" || t.ProgramID != c.Principal.ProgramID {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no ticket %s of your users", ticketID)
		}
		if t.Status == StatusClosed {
			return nil, switchboard.Errorf(switchboard.ETICKETCLOSED, "ticket %s is closed", t.ID)
		}
		m := chat.Message{ID: in.MessageID, SessionID: t.ID, Tenant: t.Tenant, Kind: chat.KindUser, Type: TypeBot,
			Content: in.Text, Encoding: "utf-8", ProgramID: t.ProgramID, SenderID: c.Principal.ID,
			SenderName: c.Principal.DisplayName, RecipientID: t.OwnerID, RecipientName: t.OwnerName,
			StatusID: chat.StatusSent, CreatedAt: now, Metadata: chat.BotMetadata(c.Principal.ProgramID, in.Type)}
		if inserted, err := chat.StoreIn(tx).InsertMessage(&m); err != nil || !inserted {
			c.UserID = c.Principal.ID // a retry is the program's own message
			return nil, duplicateMessage(tx, c, t.ID, m.ID, err)
		}
		handler := switchboard.OperatorsRoom(t.Tenant)
		if t.HandlerID != "" {
			handler = switchboard.OperatorRoom(t.Tenant, t.HandlerID)
		}
		evs := []switchboard.Event{{Name: "messageUpdated", Args: []any{MessageWire(m)},
			To: []string{switchboard.UserRoom(t.Tenant, t.OwnerID), handler}, SessionID: t.ID}}
		evs = chat.AppendMessageEvents(evs, "chatMsg", m, t.members(), "")
		counts, err := chat.StoreIn(tx).UnreadEvents(t.Tenant, t.ID, t.OwnerID, t.HandlerID)
		return append(evs, counts...), err
	}, done)
}

// POST /api/v1/tickets/{id}/bot-messages {messageId?, type?, botMessage}
// (a program's token): the stored bot message, 201 (200 for a retry).
func (h *HTTP) postBotMessage(c echo.Context) error {
	ctx := c.Request().Context()
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	obj, err := h.body(c)
	if err != nil {
		return fail(c, err)
	}
	in := BotMessage{Type: chat.BotProgram}
	if in.MessageID, err = field(obj, "messageId", h.limits.MaxName); err != nil {
		return fail(c, err)
	}
	if in.MessageID == "" {
		in.MessageID = chat.NewID()
	}
	if v, ok := obj["type"]; ok && v != nil {
		if in.Type, err = integerValue(v, "type"); err != nil {
			return fail(c, err)
		}
		if in.Type < 1 || in.Type > MaxBotType {
			return fail(c, invalid("type must be 1 to %d", MaxBotType))
		}
	}
	if in.Text, err = field(obj, "botMessage", h.limits.MaxText); err != nil {
		return fail(c, err)
	}
	if in.Text == "" {
		return fail(c, invalid("botMessage is required"))
	}
	ticketID := c.Param("id")
	_, stored, _ := h.svc.Message(ctx, caller, ticketID, in.MessageID)
	if err := await(ctx, func(done database.Done) { h.svc.PostBotMessage(caller, ticketID, in, done) }); err != nil {
		return fail(c, err)
	}
	m, found, err := h.svc.Message(ctx, caller, ticketID, in.MessageID)
	if err == nil && !found {
		err = switchboard.Errorf(switchboard.ENOTFOUND, "no message %s", in.MessageID)
	}
	if err != nil {
		return fail(c, err)
	}
	status := http.StatusCreated
	if stored {
		status = http.StatusOK
	}
	return c.JSON(status, MessageWire(m))
}

package tickets

import (
	"context"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// handler runs one client event. It answers through reply exactly once,
// either before returning or, for commands that write, after commit.
type handler func(c *conn, a args, reply func(error))

// handlers are the livechat client events (spec/livechat.md).
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"authenticate":        onAuthenticate,
		"subscribe":           onSubscribe,
		"unsubscribe":         onUnsubscribe,
		"subscribeOperator":   onSubscribeOperator,
		"unsubscribeOperator": onUnsubscribeOperator,
		"createTicket":        onCreateTicket,
		"acceptTicket":        onAcceptTicket,
		"updateTicketStatus":  onUpdateTicketStatus,
		"assignTicket":        onAssignTicket,
		"declineTicket":       onDeclineTicket,
		"transferTicket":      onTransferTicket,
		"addNote":             onAddNote,
		"updateMessage":       onUpdateMessage,
		"updateMessageStatus": onUpdateMessageStatus,
		"typing":              onTyping,
		"rateTicket":          onRateTicket,
		"addReaction":         onReaction(true),
		"removeReaction":      onReaction(false),
	}
}

// dispatch routes one incoming event: raw is the event name followed by
// its arguments and, if the client asked for one, the ack.
func (c *conn) dispatch(raw []any) {
	if len(raw) == 0 {
		return
	}
	name, _ := raw[0].(string)
	a := args(raw[1:])
	var ack socket.Ack
	if n := len(a); n > 0 {
		if fn, ok := a[n-1].(socket.Ack); ok {
			ack, a = fn, a[:n-1]
		}
	}
	c.l.metrics.EventIn(name)
	reply := c.l.reply(name, ack)
	h, known := handlers[name]
	switch {
	case name == "authenticate" && c.active() && !c.admit(name, reply):
		// refused: admit answered (a fresh token is an event like others)
	case name == "authenticate":
		h(c, a, reply)
	case !c.active():
		reply(switchboard.Errorf(switchboard.EUNAUTHENTICATED, "authenticate first"))
	case !c.admit(name, reply):
		// refused: admit answered
	case !known:
		reply(invalid("unknown event %q", name))
	default:
		h(c, a, reply)
	}
}

func onAuthenticate(c *conn, a args, reply func(error)) {
	obj, err := a.object(0, "authentication object", false)
	if err != nil {
		c.l.emitTo(c.s, "unauthenticated", errorWire(switchboard.Errorf(switchboard.ETOKENMISSING, "send {accessToken}")))
		reply(err)
		return
	}
	token, _ := obj["accessToken"].(string)
	c.authenticate(token, reply)
}

// onSubscribe joins the end user's room. A user may only subscribe as
// itself; a program names the end user it will act for, in its own program.
func onSubscribe(c *conn, a args, reply func(error)) {
	lim := c.l.opts.Limits
	caller := c.caller()
	p := caller.Principal
	if p.Role == switchboard.RoleOperator {
		reply(switchboard.Errorf(switchboard.EFORBIDDEN, "operators use subscribeOperator"))
		return
	}
	obj, err := a.object(0, "userObject", p.Role == switchboard.RoleUser)
	if err != nil {
		reply(err)
		return
	}
	userID, err := field(obj, "userId", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	programID, err := field(obj, "programId", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	profile, err := profileOf(obj, lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	scoped := p.ID
	if p.Role == switchboard.RoleProgram {
		switch {
		case userID == "":
			reply(invalid("userObject.userId is required"))
			return
		case programID != p.ProgramID:
			reply(switchboard.Errorf(switchboard.EFORBIDDEN, "programId %q is not this program's", programID))
			return
		}
		scoped = switchboard.ScopedUserID(p.ProgramID, userID)
	} else if userID != "" && !p.Names(userID) {
		reply(switchboard.Errorf(switchboard.EFORBIDDEN, "you may only subscribe as yourself"))
		return
	}
	name := displayName(c.l.svc, p, scoped, userID, profile)
	c.mu.Lock()
	c.userID, c.name = scoped, name
	c.mu.Unlock()
	c.join(switchboard.UserRoom(p.Tenant, scoped))
	caller.UserID, caller.Name = scoped, name
	c.l.svc.Subscribe(caller, profile, reply)
}

// displayName is the name others see for the subscribing end user: a name
// from the token's claims first (oauth.md), then the profile's full name
// (given now or stored before), then the id. A program's token names the
// program, not its end user, so only the profile counts there.
func displayName(svc *Service, p switchboard.Principal, scoped, userID string, profile chat.Profile) string {
	if p.Role == switchboard.RoleUser && p.DisplayName != "" && p.DisplayName != p.ID {
		return p.DisplayName
	}
	if profile.FullName != nil && *profile.FullName != "" {
		return *profile.FullName
	}
	if stored, _ := svc.DisplayName(context.Background(), p.Tenant, scoped); stored != "" {
		return stored
	}
	if p.Role == switchboard.RoleProgram {
		return userID
	}
	return p.DisplayName
}

func profileOf(obj map[string]any, max int) (chat.Profile, error) {
	var p chat.Profile
	var err error
	for key, dst := range map[string]**string{"fullNm": &p.FullName, "salutation": &p.Salutation,
		"gender": &p.Gender, "dob": &p.DOB, "email": &p.Email} {
		if *dst, err = optionalField(obj, key, max); err != nil {
			return p, err
		}
	}
	if p.Latitude, err = optionalNumber(obj, "latitude"); err != nil {
		return p, err
	}
	p.Longitude, err = optionalNumber(obj, "longitude")
	return p, err
}

func onUnsubscribe(c *conn, a args, reply func(error)) {
	role := c.Principal().Role
	if role == switchboard.RoleOperator {
		reply(switchboard.Errorf(switchboard.EFORBIDDEN, "operators use unsubscribeOperator"))
		return
	}
	c.mu.Lock()
	var rooms []string
	for r := range c.rooms {
		rooms = append(rooms, r)
	}
	if role == switchboard.RoleProgram {
		c.userID = ""
	}
	c.mu.Unlock()
	c.leave(rooms...)
	reply(nil)
}

func onSubscribeOperator(c *conn, a args, reply func(error)) { reply(c.subscribeOperator(true)) }

func onUnsubscribeOperator(c *conn, a args, reply func(error)) { reply(c.subscribeOperator(false)) }

// subscribeOperator puts an operator's socket in (or takes it out of) the
// operators' room and its own; presence counts the socket while it is in.
func (c *conn) subscribeOperator(on bool) error {
	p := c.caller().Principal
	if !p.IsOperator() {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may use the operator channel")
	}
	rooms := []string{switchboard.OperatorsRoom(p.Tenant), switchboard.OperatorRoom(p.Tenant, p.ID)}
	if p.IsSupervisor() {
		rooms = append(rooms, switchboard.AdminsRoom(p.Tenant))
	}
	if on {
		c.join(rooms...)
	} else {
		c.leave(rooms...)
	}
	c.mu.Lock()
	changed := c.operator != on
	c.operator = on
	c.mu.Unlock()
	switch {
	case changed && on:
		if c.l.presence.Join(p.Tenant, p.ID) {
			c.l.svc.RouteQueue(p.Tenant) // online: routing may give it tickets
		}
	case changed:
		c.l.presence.Leave(p.Tenant, p.ID)
	}
	return nil
}

// createTicket(ticketId, ticketObject, ack)
func onCreateTicket(c *conn, a args, reply func(error)) {
	lim := c.l.opts.Limits
	id, err := a.id(0, "ticketId", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	obj, err := a.object(1, "ticketObject", false)
	if err != nil {
		reply(err)
		return
	}
	var in TicketInput
	if in.DisplayName, err = field(obj, "displayNm", lim.MaxName); err != nil {
		reply(err)
		return
	}
	if in.TicketName, err = field(obj, "ticketNm", lim.MaxName); err != nil {
		reply(err)
		return
	}
	if in.Context, err = visitorContext(obj); err != nil {
		reply(err)
		return
	}
	if in.Team, err = teamField(obj, "team"); err != nil {
		reply(err)
		return
	}
	caller := c.caller()
	if caller.Principal.Role == switchboard.RoleProgram {
		if err := c.checkProgramID(obj); err != nil {
			reply(err)
			return
		}
	}
	c.l.svc.CreateTicket(caller, id, in, reply)
}

// checkProgramID refuses an object whose programId is another program's.
func (c *conn) checkProgramID(obj map[string]any) error {
	pid, err := field(obj, "programId", c.l.opts.Limits.MaxName)
	if err != nil {
		return err
	}
	if pid != "" && pid != c.caller().Principal.ProgramID {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "programId %q is not this program's", pid)
	}
	return nil
}

// acceptTicket(ticketId, ticketObject, ownerId, ack): the ticket object and
// owner id are the client's view and only checked for shape.
func onAcceptTicket(c *conn, a args, reply func(error)) {
	id, err := a.id(0, "ticketId", c.l.opts.Limits.MaxName)
	if err == nil {
		_, err = a.object(1, "ticketObject", true)
	}
	if err != nil {
		reply(err)
		return
	}
	c.l.svc.AcceptTicket(c.caller(), id, reply)
}

// updateTicketStatus(ticketId, ticketObject, status, ticketOwnerId, ack)
func onUpdateTicketStatus(c *conn, a args, reply func(error)) {
	id, err := a.id(0, "ticketId", c.l.opts.Limits.MaxName)
	if err == nil {
		_, err = a.object(1, "ticketObject", true)
	}
	var status int
	if err == nil {
		status, err = a.integer(2, "status")
	}
	if err == nil && !Status(status).Valid() {
		err = invalid("status must be 100, 200 or 10000")
	}
	if err != nil {
		reply(err)
		return
	}
	c.l.svc.UpdateTicketStatus(c.caller(), id, Status(status), reply)
}

// assignTicket({ticketId, handleById}, ack): handleById null or "" is a
// hijack.
func onAssignTicket(c *conn, a args, reply func(error)) {
	lim := c.l.opts.Limits
	obj, id, err := a.ticketObject(0, "assignTicketObject", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	target, err := field(obj, "handleById", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	c.l.svc.AssignTicket(c.caller(), id, target, reply)
}

// declineTicket(ticketId, ack): the handler gives back a ticket routing
// assigned it.
func onDeclineTicket(c *conn, a args, reply func(error)) {
	id, err := a.id(0, "ticketId", c.l.opts.Limits.MaxName)
	if err != nil {
		reply(err)
		return
	}
	c.l.svc.DeclineTicket(c.caller(), id, reply)
}

// transferTicket({ticketId, team?, operatorId?, note?}, ack): to a team
// or to an operator, exactly one.
func onTransferTicket(c *conn, a args, reply func(error)) {
	lim := c.l.opts.Limits
	obj, id, err := a.ticketObject(0, "transferObject", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	var tr Transfer
	if tr.Team, err = teamField(obj, "team"); err != nil {
		reply(err)
		return
	}
	if tr.OperatorID, err = field(obj, "operatorId", lim.MaxName); err != nil {
		reply(err)
		return
	}
	if tr.Note, err = field(obj, "note", MaxTransferNoteBytes); err != nil {
		reply(err)
		return
	}
	if (tr.Team == "") == (tr.OperatorID == "") {
		reply(invalid("give team or operatorId, exactly one"))
		return
	}
	c.l.svc.TransferTicket(c.caller(), id, tr, reply)
}

// addNote({ticketId, noteId?, content}, ack): an internal note, for
// operators only.
func onAddNote(c *conn, a args, reply func(error)) {
	lim := c.l.opts.Limits
	obj, id, err := a.ticketObject(0, "noteObject", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	noteID, err := field(obj, "noteId", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	content, err := field(obj, "content", MaxNoteBytes)
	if err != nil {
		reply(err)
		return
	}
	c.l.svc.AddNote(c.caller(), id, noteID, content, func(_ Note, _ bool, err error) { reply(err) })
}

// updateMessage(ticketId, messageId, messageObject, recipientId, ack): the
// recipient is the ticket's other party, whatever recipientId says.
func onUpdateMessage(c *conn, a args, reply func(error)) {
	lim := c.l.opts.Limits
	ticketID, err := a.id(0, "ticketId", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	messageID, err := a.id(1, "messageId", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	obj, err := a.object(2, "messageObject", false)
	if err != nil {
		reply(err)
		return
	}
	in, err := lim.messageInput(obj)
	if err != nil {
		reply(err)
		return
	}
	caller := c.caller()
	if caller.Principal.Role == switchboard.RoleProgram {
		if err := c.checkProgramID(obj); err != nil {
			reply(err)
			return
		}
	}
	c.l.svc.SendMessage(caller, ticketID, messageID, in, reply)
}

// updateMessageStatus(messageId | 'all', statusId, recipientId, senderId,
// flag, ack): senderId matters only as the filter of 'all'.
func onUpdateMessageStatus(c *conn, a args, reply func(error)) {
	lim := c.l.opts.Limits
	messageID, err := a.id(0, "messageId", lim.MaxName)
	if err != nil {
		reply(err)
		return
	}
	status, err := a.integer(1, "statusId")
	if err != nil {
		reply(err)
		return
	}
	if status < chat.StatusSent || status > chat.StatusRead {
		reply(invalid("statusId must be 1, 2 or 3"))
		return
	}
	var senderID string
	if messageID == AllMessages {
		if senderID, err = a.id(3, "senderId", lim.MaxName); err != nil {
			reply(err)
			return
		}
	}
	flag, _ := a.at(4).(bool)
	c.l.svc.UpdateMessageStatus(c.caller(), messageID, status, senderID, flag, reply)
}

// typing(ticketId, targetId): relayed to the ticket's other party, at most
// once per TypingInterval per ticket; extra ones are dropped silently.
func onTyping(c *conn, a args, reply func(error)) {
	ticketID, err := a.id(0, "ticketId", c.l.opts.Limits.MaxName)
	if err != nil {
		reply(err)
		return
	}
	caller := c.caller()
	if caller.Principal.Role == switchboard.RoleProgram && caller.UserID == "" {
		reply(switchboard.Errorf(switchboard.EFORBIDDEN, "subscribe for an end user first"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := c.l.svc.Typing(ctx, caller, ticketID)
	if err != nil {
		reply(err)
		return
	}
	if c.AllowTyping(ticketID) {
		c.l.publish(evs)
	}
	reply(nil)
}

// onRateTicket: rateTicket({ticketId, score, comment?}).
func onRateTicket(c *conn, a args, reply func(error)) {
	obj, err := a.object(0, "ratingObject", false)
	if err != nil {
		reply(err)
		return
	}
	id, score, comment, err := ratingInput(obj, c.l.opts.Limits.MaxName)
	if err != nil {
		reply(err)
		return
	}
	c.l.svc.RateTicket(c.caller(), id, score, comment, reply)
}

// addReaction(messageId, emoji) and removeReaction(messageId, emoji):
// the caller's emoji reaction on a ticket message, one per emoji; the
// parties hear messageReactionsUpdated.
func onReaction(add bool) handler {
	return func(c *conn, a args, reply func(error)) {
		lim := c.l.opts.Limits
		messageID, err := a.id(0, "messageId", lim.MaxName)
		if err != nil {
			reply(err)
			return
		}
		emoji, err := a.id(1, "emoji", chat.MaxEmoji)
		if err != nil {
			reply(err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		reply(c.l.svc.React(ctx, c.caller(), messageID, emoji, add))
	}
}

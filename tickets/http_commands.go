package tickets

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// The REST commands call the same Service methods as the livechat events
// (createTicket, updateMessage, acceptTicket, assignTicket,
// updateTicketStatus): the same authorization, the same audit rows and
// the same events to the sockets. Each answers after commit.

// await runs one Service command and waits for its outcome.
func await(ctx context.Context, run func(done database.Done)) error {
	ch := make(chan error, 1)
	run(func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// known records the caller as a socket's authentication does, so that an
// operator who only uses REST is on the roster and may be assigned
// tickets. It runs after a command has succeeded: a refused request
// writes nothing.
func (h *HTTP) known(ctx context.Context, c Caller) error {
	return await(ctx, func(done database.Done) { h.svc.EnsureUser(c.Principal, done) })
}

// body reads a JSON object of at most the limits' largest event.
func (h *HTTP) body(c echo.Context) (map[string]any, error) {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, int64(h.limits.MaxEventBytes()))
	var obj map[string]any
	err := json.NewDecoder(r).Decode(&obj)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, invalid("the body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF) || (err == nil && obj == nil):
		return nil, invalid("send a JSON object")
	case err != nil:
		return nil, invalid("the body is not a JSON object: %v", err)
	}
	return obj, nil
}

// actingFor returns the caller as the party it acts as on ticket id: a
// program acts for the ticket's owner, as it would after subscribing for
// them on a socket.
func (h *HTTP) actingFor(ctx context.Context, c Caller, id string) (Caller, error) {
	if c.Principal.Role != switchboard.RoleProgram {
		return c, nil
	}
	t, err := h.svc.Ticket(ctx, c, id)
	if err != nil {
		return c, err
	}
	c.UserID, c.Name = t.OwnerID, t.OwnerName
	return c, nil
}

func fail(c echo.Context, err error) error { return switchboard.WriteHTTPError(c.Response(), err) }

// GET /api/v1/tickets/{id}
func (h *HTTP) get(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	t, err := h.svc.Ticket(c.Request().Context(), caller, c.Param("id"))
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusOK, t.Wire())
}

// POST /api/v1/tickets {ticketId?, displayNm?, ticketNm?, team?,
// visitorContext?, userId (programs), ownerNm?}
//
// An end user opens a ticket for itself, a program for its end user
// userId. ticketId is the client's id (one is made when absent): a retry
// by the same owner answers 200 with the ticket, a new one 201.
func (h *HTTP) create(c echo.Context) error {
	ctx := c.Request().Context()
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	obj, err := h.body(c)
	if err != nil {
		return fail(c, err)
	}
	id, in, err := h.ticketInput(obj)
	if err != nil {
		return fail(c, err)
	}
	caller, profile, err := h.owner(caller, obj)
	if err != nil {
		return fail(c, err)
	}
	_, seenErr := h.svc.Ticket(ctx, caller, id)
	if err := await(ctx, func(done database.Done) { h.svc.CreateTicket(caller, id, in, done) }); err != nil {
		return fail(c, err)
	}
	if err := h.record(ctx, caller, profile); err != nil {
		return fail(c, err)
	}
	t, err := h.svc.Ticket(ctx, caller, id)
	if err != nil {
		return fail(c, err)
	}
	status := http.StatusCreated
	if seenErr == nil {
		status = http.StatusOK
	}
	return c.JSON(status, t.Wire())
}

// ticketInput reads a new ticket's id and fields as createTicket does.
func (h *HTTP) ticketInput(obj map[string]any) (id string, in TicketInput, err error) {
	max := h.limits.MaxName
	if id, err = field(obj, "ticketId", max); err != nil {
		return
	}
	if id == "" {
		id = chat.NewID()
	}
	if in.DisplayName, err = field(obj, "displayNm", max); err != nil {
		return
	}
	if in.TicketName, err = field(obj, "ticketNm", max); err != nil {
		return
	}
	if in.Context, err = visitorContext(obj); err != nil {
		return
	}
	in.Team, err = teamField(obj, "team")
	return
}

// owner makes the caller the ticket's owner: an end user itself, a
// program its end user userId (with the profile the request gives).
func (h *HTTP) owner(caller Caller, obj map[string]any) (Caller, chat.Profile, error) {
	var profile chat.Profile
	p := caller.Principal
	switch p.Role {
	case switchboard.RoleOperator:
		return caller, profile, switchboard.Errorf(switchboard.EFORBIDDEN, "operators cannot do this")
	case switchboard.RoleUser:
		return caller, profile, nil
	}
	max := h.limits.MaxName
	userID, err := field(obj, "userId", max)
	if err != nil {
		return caller, profile, err
	}
	if userID == "" {
		return caller, profile, invalid("userId is required: the end user the program opens the ticket for")
	}
	pid, err := field(obj, "programId", max)
	if err != nil {
		return caller, profile, err
	}
	if pid != "" && pid != p.ProgramID {
		return caller, profile, switchboard.Errorf(switchboard.EFORBIDDEN, "programId %q is not this program's", pid)
	}
	name, err := field(obj, "ownerNm", max)
	if err != nil {
		return caller, profile, err
	}
	if name != "" {
		profile.FullName = &name
	}
	caller.UserID = switchboard.ScopedUserID(p.ProgramID, userID)
	caller.Name = displayName(h.svc, p, caller.UserID, userID, profile)
	return caller, profile, nil
}

// record stores, once a ticket is created, who opened it, as a socket's
// authentication and subscribe do: the end user itself, or a program's
// end user with its profile. Nothing is written for a refused request.
func (h *HTTP) record(ctx context.Context, c Caller, profile chat.Profile) error {
	if c.Principal.Role == switchboard.RoleProgram {
		return await(ctx, func(done database.Done) { h.svc.Subscribe(c, profile, done) })
	}
	return h.known(ctx, c)
}

// POST /api/v1/tickets/{id}/messages {messageId?, content, type?, encoding?}
//
// The owner or the handler sends a message. messageId is the client's id
// (one is made when absent): a retry by the same sender answers 200 with
// the stored message, a new one 201.
func (h *HTTP) send(c echo.Context) error {
	ctx := c.Request().Context()
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	obj, err := h.body(c)
	if err != nil {
		return fail(c, err)
	}
	messageID, err := field(obj, "messageId", h.limits.MaxName)
	if err != nil {
		return fail(c, err)
	}
	if messageID == "" {
		messageID = chat.NewID()
	}
	in, err := h.limits.messageInput(obj)
	if err != nil {
		return fail(c, err)
	}
	ticketID := c.Param("id")
	if caller, err = h.actingFor(ctx, caller, ticketID); err != nil {
		return fail(c, err)
	}
	_, stored, _ := h.svc.Message(ctx, caller, ticketID, messageID)
	if err := await(ctx, func(done database.Done) { h.svc.SendMessage(caller, ticketID, messageID, in, done) }); err != nil {
		return fail(c, err)
	}
	if err := h.known(ctx, caller); err != nil {
		return fail(c, err)
	}
	m, found, err := h.svc.Message(ctx, caller, ticketID, messageID)
	if err == nil && !found {
		err = switchboard.Errorf(switchboard.ENOTFOUND, "no message %s", messageID)
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

// transition runs an operator's command on ticket {id} and answers the
// ticket as it is after commit.
func (h *HTTP) transition(c echo.Context, run func(caller Caller, id string, done database.Done)) error {
	ctx := c.Request().Context()
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	if !isOperator(caller) {
		return fail(c, switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may change a ticket"))
	}
	id := c.Param("id")
	if err := await(ctx, func(done database.Done) { run(caller, id, done) }); err != nil {
		return fail(c, err)
	}
	if err := h.known(ctx, caller); err != nil {
		return fail(c, err)
	}
	t, err := h.svc.Ticket(ctx, caller, id)
	if err != nil {
		return fail(c, err)
	}
	return c.JSON(http.StatusOK, t.Wire())
}

// POST /api/v1/tickets/{id}/accept
func (h *HTTP) accept(c echo.Context) error {
	return h.transition(c, h.svc.AcceptTicket)
}

// POST /api/v1/tickets/{id}/assign {operatorId?}: to that operator, or to
// the caller when absent or "" (a hijack).
func (h *HTTP) assign(c echo.Context) error {
	obj, err := h.body(c)
	if err != nil {
		return fail(c, err)
	}
	target, err := field(obj, "operatorId", h.limits.MaxName)
	if err != nil {
		return fail(c, err)
	}
	return h.transition(c, func(caller Caller, id string, done database.Done) {
		h.svc.AssignTicket(caller, id, target, done)
	})
}

// PUT /api/v1/tickets/{id}/status {statusId: 100|200|10000}
func (h *HTTP) setStatus(c echo.Context) error {
	obj, err := h.body(c)
	if err != nil {
		return fail(c, err)
	}
	v, ok := obj["statusId"]
	if !ok {
		return fail(c, invalid("statusId is required"))
	}
	status, err := integerValue(v, "statusId")
	if err == nil && !Status(status).Valid() {
		err = invalid("statusId must be 100, 200 or 10000")
	}
	if err != nil {
		return fail(c, err)
	}
	return h.transition(c, func(caller Caller, id string, done database.Done) {
		h.svc.UpdateTicketStatus(caller, id, Status(status), done)
	})
}

// auditWire is one audit row as REST shows it.
type auditWire struct {
	Action      Action `json:"action"`
	ActorID     string `json:"actorId"`
	FromStatus  int    `json:"fromStatus"`
	ToStatus    int    `json:"toStatus"`
	FromHandler string `json:"fromHandler"`
	ToHandler   string `json:"toHandler"`
	FromTeam    string `json:"fromTeam"`
	ToTeam      string `json:"toTeam"`
	At          string `json:"at"`
}

// GET /api/v1/tickets/{id}/events: the audit trail, oldest first, to
// whoever may see the ticket (its transitions reach them on the sockets).
func (h *HTTP) events(c echo.Context) error {
	caller, err := h.caller(c)
	if err != nil {
		return fail(c, err)
	}
	rows, err := h.svc.Events(c.Request().Context(), caller, c.Param("id"))
	if err != nil {
		return fail(c, err)
	}
	return switchboard.WriteJSONList(c.Response(), rows, "", func(r AuditEntry) any {
		return auditWire{Action: r.Action, ActorID: r.ActorID, FromStatus: int(r.FromStatus), ToStatus: int(r.ToStatus),
			FromHandler: r.FromHandler, ToHandler: r.ToHandler, FromTeam: r.FromTeam, ToTeam: r.ToTeam,
			At: chat.FormatMillis(r.At)}
	})
}

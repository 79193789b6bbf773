package chat

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/switchboard-chat/switchboard"
)

// chatHandler runs one client event (after clientReady) and returns the
// payload of its response event.
type chatHandler func(ctx context.Context, c *conn, caller Caller, p body) (any, error)

type chatEvent struct {
	response string
	handle   chatHandler
}

// chatEvents are the client events of spec/chat.md with their response
// events.
var chatEvents map[string]chatEvent

func init() {
	chatEvents = map[string]chatEvent{
		"clientReady":                {"userOnline", nil},
		"createChat":                 {"chatCreated", onCreateChat},
		"setChatDetails":             {"chatDetailsSet", onSetChatDetails},
		"addMembers":                 {"membersAdded", onAddMembers},
		"leaveChat":                  {"chatLeft", onLeaveChat},
		"sendMsg":                    {"chatMsg", onSendMsg},
		"editMsg":                    {"msgEdited", onEditMsg},
		"removeMsg":                  {"msgRemoved", onRemoveMsg},
		"markMsgRead":                {"msgMarkedRead", onMarkMsgRead},
		"markSessionRead":            {"sessionMarkedRead", onMarkSessionRead},
		"markAllSessionsRead":        {"allSessionsMarkedRead", onMarkAllSessionsRead},
		"getChatMessages":            {"recentMessages", onGetChatMessages},
		"getChatSessions":            {"recentSessions", onGetSessions(AgeRecent)},
		"getArchivedSessions":        {"archivedSessions", onGetSessions(AgeArchived)},
		"getAggregatedUsersSessions": {"aggregatedUsersSessions", onGetAggregatedUsersSessions},
		"getChatUsers":               {"chatUsers", onGetChatUsers},
		"findByProperties":           {"searchResults", onFindByProperties},
		"starSessions":               {"sessionsStarred", onMarkSessions("starred")},
		"archiveSessions":            {"sessionsArchived", onMarkSessions("archived")},
		"setStatus":                  {"statusChanged", onSetStatus},
		"sendUserAction":             {"userAction", onSendUserAction},
	}
}

// Page sizes: defaults and most.
const (
	defaultPage    = 50
	maxPage        = 500
	defaultMsgPage = 1
	maxMsgPage     = 100
)

// dispatch answers one incoming event with its response event (and, if
// the client passed one, through its ack too). A handler that panics is
// answered EXCEPTION; nothing else of the socket or others is affected.
func (c *conn) dispatch(name string, a []any) {
	arrived := time.Now()
	c.cs.metrics.EventIn(name)
	var ack socket.Ack
	if n := len(a); n > 0 {
		if fn, ok := a[n-1].(socket.Ack); ok {
			ack, a = fn, a[:n-1]
		}
	}
	ev, known := chatEvents[name]
	if !known {
		c.cs.log.Debug("unknown chat event", "event", name)
		if ack != nil {
			ack([]any{ErrorEnvelope("", invalid("unknown event %q", name))}, nil)
			c.cs.metrics.Acked(arrived)
		}
		return
	}
	var payload any
	var err error
	closeAfter, cutOff := false, false
	func() {
		defer func() {
			if r := recover(); r != nil {
				c.cs.log.Error("chat event panicked", "event", name, "panic", r, "stack", string(debug.Stack()))
				payload, err = nil, fmt.Errorf("panic: %v", r)
			}
		}()
		if name == "clientReady" {
			payload, closeAfter, err = c.clientReady(a)
			return
		}
		if cutOff, err = c.admit(name); err != nil {
			return
		}
		payload, err = c.run(ev, a)
	}()
	var env any = Envelope(payload)
	if err != nil {
		if switchboard.ErrorCode(err) == switchboard.EINTERNAL {
			c.cs.log.Error("chat event failed", "event", name, "err", err)
		}
		env = ErrorEnvelope(ev.response, err)
	}
	c.cs.emitTo(c.s, ev.response, env)
	if ack != nil {
		ack([]any{env}, nil)
	}
	c.cs.metrics.Acked(arrived) // the response event answers it, ack or not
	if closeAfter {
		c.s.Disconnect(false)
	}
	if cutOff {
		c.cutOff()
	}
}

// run checks that the socket is ready and the payload's identity is its
// own, then runs the handler.
func (c *conn) run(ev chatEvent, a []any) (any, error) {
	if !c.isReady() {
		return nil, authError("send clientReady first")
	}
	p, err := payloadOf(a)
	if err != nil {
		return nil, err
	}
	if err := c.checkIdentity(p); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return ev.handle(ctx, c, c.caller(), p)
}

func (c *conn) limits() Limits { return c.cs.opts.Limits }

func sessionID(c *conn, p body) (string, error) {
	return p.str("chatSessionId", true, c.limits().MaxName)
}

func onCreateChat(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	lim := c.limits()
	var in CreateChatInput
	var err error
	if in.Title, err = p.str("title", false, lim.MaxName); err != nil {
		return nil, err
	}
	if in.Desc, err = p.str("desc", false, lim.MaxDesc); err != nil {
		return nil, err
	}
	if in.Members, err = p.list("members", true, lim.MaxMembers, lim.MaxName); err != nil {
		return nil, err
	}
	t, err := p.enum("sesType", false, string(OneToOne), string(OneToMany), string(SysNotif))
	if err != nil {
		return nil, err
	}
	in.Type = SessionType(t)
	if in.Key, err = p.str("clientSessionId", false, MaxRequestKey); err != nil {
		return nil, err
	}
	return c.cs.svc.CreateChat(ctx, caller, in)
}

func onSetChatDetails(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	lim := c.limits()
	id, err := sessionID(c, p)
	if err != nil {
		return nil, err
	}
	title, err := p.optStr("title", lim.MaxName)
	if err != nil {
		return nil, err
	}
	desc, err := p.optStr("desc", lim.MaxDesc)
	if err != nil {
		return nil, err
	}
	if title == nil && desc == nil {
		return nil, invalid("send title, desc or both")
	}
	return c.cs.svc.SetChatDetails(ctx, caller, id, title, desc)
}

func onAddMembers(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	lim := c.limits()
	id, err := sessionID(c, p)
	if err != nil {
		return nil, err
	}
	members, err := p.list("members", true, lim.MaxMembers, lim.MaxName)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.AddMembers(ctx, caller, id, members)
}

func onLeaveChat(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	id, err := sessionID(c, p)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.LeaveChat(ctx, caller, id)
}

// msgBody reads a message body: non-empty text of at most MaxText bytes.
func msgBody(c *conn, p body) (string, error) {
	return p.str("msg", true, c.limits().MaxText)
}

func onSendMsg(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	lim := c.limits()
	var in SendMsgInput
	var err error
	if in.SessionID, err = sessionID(c, p); err != nil {
		return nil, err
	}
	if in.Content, err = msgBody(c, p); err != nil {
		return nil, err
	}
	if _, err := p.enum("msgType", false, KindUser); err != nil {
		return nil, invalid("msgType must be USER (SYSNOTIF messages are the system's)")
	}
	if in.Metadata, err = p.metadata("metadata", lim.MaxMetadata); err != nil {
		return nil, err
	}
	if in.Key, err = p.str("clientMsgId", false, MaxRequestKey); err != nil {
		return nil, err
	}
	return c.cs.svc.SendMsg(ctx, caller, in)
}

func msgRef(c *conn, p body) (session, msg string, err error) {
	if session, err = sessionID(c, p); err != nil {
		return "", "", err
	}
	msg, err = p.str("msgId", true, c.limits().MaxName)
	return session, msg, err
}

func onEditMsg(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	session, msg, err := msgRef(c, p)
	if err != nil {
		return nil, err
	}
	content, err := msgBody(c, p)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.EditMsg(ctx, caller, session, msg, content)
}

func onRemoveMsg(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	session, msg, err := msgRef(c, p)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.RemoveMsg(ctx, caller, session, msg)
}

func onMarkMsgRead(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	lim := c.limits()
	id, err := sessionID(c, p)
	if err != nil {
		return nil, err
	}
	msgs, err := p.list("messages", true, lim.MaxItems, lim.MaxName)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.MarkMsgRead(ctx, caller, id, msgs)
}

func onMarkSessionRead(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	id, err := sessionID(c, p)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.MarkSessionRead(ctx, caller, id)
}

func onMarkAllSessionsRead(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	return c.cs.svc.MarkAllSessionsRead(ctx, caller)
}

// pageOf reads an offset and a count field.
func pageOf(p body, offsetKey, countKey string, def, max int) (Page, error) {
	off, err := p.integer(offsetKey, 0, 1<<30)
	if err != nil {
		return Page{}, err
	}
	n, err := p.integer(countKey, def, max)
	if n == 0 {
		n = -1 // none asked for: counts only
	}
	return Page{Offset: off, Limit: n}, err
}

func onGetChatMessages(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	id, err := sessionID(c, p)
	if err != nil {
		return nil, err
	}
	pg, err := pageOf(p, "offset", "numOfRes", defaultPage, maxPage)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.ChatMessages(ctx, caller, id, pg)
}

// sessionPages reads the session and message pages of the session lists.
func sessionPages(p body) (sessions, msgs Page, err error) {
	if sessions, err = pageOf(p, "offset", "numOfRes", defaultPage, maxPage); err != nil {
		return
	}
	msgs, err = pageOf(p, "offsetMsg", "numOfResMsg", defaultMsgPage, maxMsgPage)
	return
}

func onGetSessions(age string) chatHandler {
	return func(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
		sessions, msgs, err := sessionPages(p)
		if err != nil {
			return nil, err
		}
		return c.cs.svc.Sessions(ctx, caller, age, sessions, msgs)
	}
}

func onGetAggregatedUsersSessions(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	sessions, msgs, err := sessionPages(p)
	if err != nil {
		return nil, err
	}
	users, err := pageOf(p, "offsetUsers", "numOfResUsers", defaultPage, maxPage)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.AggregatedUsersSessions(ctx, caller, sessions, msgs, users)
}

func onGetChatUsers(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	lim := c.limits()
	pg, err := pageOf(p, "offset", "numOfRes", defaultPage, maxPage)
	if err != nil {
		return nil, err
	}
	names, err := p.list("usernames", false, lim.MaxItems, lim.MaxName)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.ChatUsers(ctx, caller, names, pg)
}

func onFindByProperties(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	lim := c.limits()
	crit, err := p.object("criteria")
	if err != nil {
		return nil, err
	}
	ts, err := crit.object("textSearch")
	if err != nil {
		return nil, err
	}
	var cr Criteria
	if cr.SearchKey, err = ts.str("searchKey", false, lim.MaxName); err != nil {
		return nil, err
	}
	types, err := ts.enums("sesTypes", string(OneToOne), string(OneToMany), string(SysNotif))
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		cr.SesTypes = append(cr.SesTypes, SessionType(t))
	}
	if cr.Components, err = ts.enums("components", ComponentSessionTitle, ComponentMembersDisplayName,
		ComponentMembersUsername, ComponentMessagesBody); err != nil {
		return nil, err
	}
	if cr.SessionIDs, err = crit.list("sessionIds", false, lim.MaxItems, lim.MaxName); err != nil {
		return nil, err
	}
	if cr.From, err = crit.time("fromDate"); err != nil {
		return nil, err
	}
	if cr.To, err = crit.time("toDate"); err != nil {
		return nil, err
	}
	if cr.Ages, err = crit.enums("sessionAges", AgeRecent, AgeArchived); err != nil {
		return nil, err
	}
	sessions, msgs, err := sessionPages(p)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.Search(ctx, caller, cr, sessions, msgs)
}

func onMarkSessions(flag string) chatHandler {
	return func(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
		lim := c.limits()
		ids, err := p.list("chatSessionIds", true, lim.MaxItems, lim.MaxName)
		if err != nil {
			return nil, err
		}
		value, err := p.boolean(flag)
		if err != nil {
			return nil, err
		}
		return c.cs.svc.MarkSessions(ctx, caller, flag, ids, value)
	}
}

func onSetStatus(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	status, err := p.enum("status", true, UserStatuses...)
	if err != nil {
		return nil, err
	}
	msg, err := p.str("statusMsg", false, c.limits().MaxName)
	if err != nil {
		return nil, err
	}
	return c.cs.svc.SetStatus(ctx, caller, status, msg)
}

func onSendUserAction(ctx context.Context, c *conn, caller Caller, p body) (any, error) {
	id, err := sessionID(c, p)
	if err != nil {
		return nil, err
	}
	action, err := p.enum("action", true, ActionTyping, ActionStoppedTyping)
	if err != nil {
		return nil, err
	}
	out, evs, err := c.cs.svc.UserAction(ctx, caller, id, action)
	if err != nil {
		return nil, err
	}
	if action != ActionTyping || c.AllowTyping(id) {
		c.cs.svc.Publish(evs)
	}
	return out, nil
}

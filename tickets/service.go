package tickets

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// Caller is who sends a command (switchboard.Caller): the verified
// principal, the end user it acts as (for a program, the scoped id of the
// end user it subscribed, "" until it has) and the socket it came from.
type Caller = switchboard.Caller

func isOperator(c Caller) bool { return c.Principal.Role == switchboard.RoleOperator }

// callerRoom is where the caller's own sockets are.
func callerRoom(c Caller) string {
	if isOperator(c) {
		return switchboard.OperatorRoom(c.Tenant(), c.UserID)
	}
	return switchboard.UserRoom(c.Tenant(), c.UserID)
}

// Service applies the livechat commands. Every write is one Op on the
// Committer: it reads the ticket, authorizes the caller against it, decides
// with the state machine and writes, all in the Committer's transaction;
// its events are published after commit.
//
// Commands take a done callback (may be nil) that receives nil once the
// change is committed, or the reason it was refused.
type Service struct {
	db        *database.DB
	committer *database.Committer
	now       func() time.Time
	known     sync.Map // principals EnsureUser has stored
	// chat renders the chat protocol's view of ticket sessions (nil: the
	// chat protocol hears nothing of tickets but their messages).
	chat *chat.Service
	// router gives waiting tickets to operators and tells their owners
	// where they stand in the queue.
	router *router
	// indexer adds new messages to search's index on SQLite (nil on
	// PostgreSQL).
	indexer *searchIndexer
}

// Options configures a Service. Zero values work.
type Options struct {
	// Chat, when set, makes the service announce tickets to the chat
	// protocol too.
	Chat *chat.Service
	Now  func() time.Time
	// Routing, when set, routes waiting tickets (or leaves them to
	// operators: manual) and tells their owners their place in the queue.
	// Nil: neither, tickets wait for operators and nobody is told.
	Routing *RoutingOptions
}

// NewService returns a Service writing through committer.
func NewService(db *database.DB, committer *database.Committer, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{db: db, committer: committer, now: opts.Now, chat: opts.Chat}
	if opts.Routing != nil {
		s.router = newRouter(s, *opts.Routing)
	}
	log := slog.Default()
	if opts.Routing != nil && opts.Routing.Logger != nil {
		log = opts.Routing.Logger
	}
	s.indexer = startSearchIndexer(db, committer, log)
	return s
}

// Close stops the routing of waiting tickets and the search indexer;
// call it before closing the Committer.
func (s *Service) Close() {
	s.router.close()
	s.indexer.close()
}

func (s *Service) millis() int64 { return s.now().UnixMilli() }

// TicketInput is what a client may say about a new ticket.
type TicketInput struct {
	DisplayName string
	TicketName  string
	// Context is what the widget knew of the visitor (may be nil).
	Context VisitorContext
	// Team is the team the ticket is for ("" = none); it must exist.
	Team string
}

// CreateTicket opens ticket id for the caller (an end user, or a program
// for its subscribed end user). The id is the client's GUID: a repeat by
// the same owner is a no-op, by anyone else CONFLICT.
func (s *Service) CreateTicket(c Caller, id string, in TicketInput, done database.Done) {
	if err := mustBeEndUser(c); err != nil {
		done.Call(err)
		return
	}
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		existing, found, err := findTicketAnyTenant(tx, id)
		if err != nil {
			return nil, err
		}
		if found {
			if existing.Tenant == c.Tenant() && existing.OwnerID == c.UserID {
				return nil, nil
			}
			return nil, switchboard.Errorf(switchboard.ECONFLICT, "ticket id %s is taken", id)
		}
		if err := teamExists(tx, c.Tenant(), in.Team); err != nil {
			return nil, err
		}
		now := s.millis()
		t := Ticket{ID: id, Tenant: c.Tenant(), Status: StatusNew, OwnerID: c.UserID, OwnerName: c.Name,
			ProgramID: c.Principal.ProgramID, IsExternal: c.Principal.ProgramID != "",
			DisplayName: in.DisplayName, TicketName: in.TicketName, CreatedAt: now, UpdatedAt: now,
			VisitorContext: in.Context.encode(), Team: in.Team}
		session := chat.Session{ID: id, Tenant: t.Tenant, Type: chat.OneToOne, Title: in.TicketName,
			CreatorID: c.UserID, CreatedAt: now, UpdatedAt: now}
		owner := chat.Member{SessionID: id, UserID: c.UserID, Role: chat.MemberOwner, JoinedAt: now}
		chats := chat.StoreIn(tx)
		if err := chats.CreateSession(session, owner); err != nil {
			return nil, err
		}
		if err := tx.Create(&t).Error; err != nil {
			return nil, err
		}
		if err := audit(tx, id, ActionCreate, c.UserID, State{}, State{StatusNew, "", in.Team}, now); err != nil {
			return nil, err
		}
		w := t.Wire()
		w["labels"] = []string{} // operators see labels; a new ticket has none
		evs := []switchboard.Event{{Name: "ticketCreated", Args: []any{w},
			To: []string{switchboard.OperatorsRoom(t.Tenant)}, SessionID: id}}
		if s.committer.Streaming() {
			evs = append(evs, ticketStreamEvent("ticketCreated", c, t, t.Wire()))
		}
		if s.chat != nil {
			more, err := s.chat.SessionEvents(chats, session, c.UserID)
			if err != nil {
				return nil, err
			}
			evs = append(evs, more...)
		}
		return evs, nil
	}, s.routeAfter(c.Tenant(), done))
}

// AcceptTicket makes the calling operator the handler of a new ticket.
func (s *Service) AcceptTicket(c Caller, id string, done database.Done) {
	s.transition(c, id, Command{Kind: CmdAccept}, done)
}

// UpdateTicketStatus rejects, closes or reopens a ticket.
func (s *Service) UpdateTicketStatus(c Caller, id string, status Status, done database.Done) {
	s.transition(c, id, Command{Kind: CmdSetStatus, Status: status}, done)
}

// AssignTicket hands a ticket to another operator, or to the caller when
// target is "" (hijack).
func (s *Service) AssignTicket(c Caller, id, target string, done database.Done) {
	s.transition(c, id, Command{Kind: CmdAssign, Target: target}, done)
}

// DeclineTicket gives a ticket routing assigned to the calling operator
// back to the queue; routing will not give it to them again.
func (s *Service) DeclineTicket(c Caller, id string, done database.Done) {
	s.transition(c, id, Command{Kind: CmdDecline}, done)
}

// transition runs one state-machine command as an Op. Once it has
// committed, the tenant's queue is routed again: any change of a ticket
// can free an operator or move the queue.
func (s *Service) transition(c Caller, id string, cmd Command, done database.Done) {
	if !isOperator(c) {
		done.Call(switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may change a ticket"))
		return
	}
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		t, found, err := findTicket(tx, c.Tenant(), id)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no ticket %s", id)
		}
		if cmd.Kind == CmdDecline {
			if err := mayDecline(tx, t, c.UserID); err != nil {
				return nil, err
			}
		}
		return s.change(tx, c, t, cmd)
	}, s.routeAfter(c.Tenant(), done))
}

// change decides cmd on ticket t for c and writes it now.
func (s *Service) change(tx *gorm.DB, c Caller, t Ticket, cmd Command) ([]switchboard.Event, error) {
	return s.changeAt(tx, c, t, cmd, s.millis())
}

// changeAt decides cmd on ticket t for c and writes it, dated now: the
// transition, its audit row, the chat membership and the events. A
// scheduled job dates its changes at its slot's time.
func (s *Service) changeAt(tx *gorm.DB, c Caller, t Ticket, cmd Command, now int64) ([]switchboard.Event, error) {
	handlerName := c.Name
	if (cmd.Kind == CmdAssign || cmd.Kind == CmdTransfer) && cmd.Target != "" && cmd.Target != c.UserID {
		op, found, err := chat.StoreIn(tx).FindUser(c.Tenant(), cmd.Target)
		if err != nil {
			return nil, err
		}
		if !found || op.Role != string(switchboard.RoleOperator) {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no operator %s", cmd.Target)
		}
		handlerName = op.DisplayName()
	}
	from := State{t.Status, t.HandlerID, t.Team}
	out, err := Decide(from, cmd, Actor{ID: c.UserID, Role: c.Principal.Role, Admin: c.Principal.Admin})
	if err != nil || out.Noop {
		return nil, err
	}
	switch {
	case out.State.Handler == "":
		handlerName = ""
	case out.State.Handler == from.Handler:
		handlerName = t.HandlerName
	}
	if err := applyTransition(tx, &t, from, out, handlerName, now); err != nil {
		return nil, err
	}
	if err := audit(tx, t.ID, out.Action, c.UserID, from, out.State, now); err != nil {
		return nil, err
	}
	if out.State.Handler != from.Handler {
		if err := changeHandler(tx, t, from.Handler, now); err != nil {
			return nil, err
		}
	}
	evs := transitionEvents(c, t, from, out)
	if s.committer.Streaming() {
		evs = append(evs, transitionStreamEvent(c, t, from, out))
	}
	more, err := s.chatTransitionEvents(tx, c, t, from, cmd, out, now)
	return append(evs, more...), err
}

// changeHandler moves the chat membership to the new handler and makes the
// owner's unread messages the new handler's to read. A ticket declined
// back to the queue has no handler: its previous one leaves, and the
// owner's unread messages wait for whoever takes it.
func changeHandler(tx *gorm.DB, t Ticket, previous string, now int64) error {
	if t.HandlerID == "" {
		if err := chat.Leave(tx, t.ID, previous, now); err != nil {
			return err
		}
		return chat.Readdress(tx, t.ID, t.OwnerID, "", "")
	}
	return chat.StoreIn(tx).HandOver(chat.Handover{SessionID: t.ID, OwnerID: t.OwnerID,
		From: previous, To: t.HandlerID, ToName: t.HandlerName, At: now})
}

// transitionEvents says who hears of a transition.
func transitionEvents(c Caller, t Ticket, from State, out Outcome) []switchboard.Event {
	owner, operators := switchboard.UserRoom(t.Tenant, t.OwnerID), switchboard.OperatorsRoom(t.Tenant)
	var evs []switchboard.Event
	ev := func(name string, to string, args ...any) {
		evs = append(evs, switchboard.Event{Name: name, Args: args, To: []string{to}, SessionID: t.ID})
	}
	switch out.Action {
	case ActionAccept:
		evs = append(evs, switchboard.Event{Name: "ticketAccepted", Args: []any{t.Wire()},
			To: []string{owner, operators}, SessionID: t.ID})
	case ActionAssign, ActionHijack:
		if from.Handler != "" {
			ev("notifyOfAssignment", switchboard.OperatorRoom(t.Tenant, from.Handler), t.ID, 0, c.Name)
		}
		if t.HandlerID != c.UserID {
			ev("notifyOfAssignment", switchboard.OperatorRoom(t.Tenant, t.HandlerID), t.ID, 1, c.Name)
		}
		evs = append(evs, switchboard.Event{Name: "ticketAccepted", Args: []any{t.Wire()},
			To: []string{owner, operators}, SessionID: t.ID})
	case ActionTransfer:
		if from.Handler != "" {
			ev("notifyOfAssignment", switchboard.OperatorRoom(t.Tenant, from.Handler), t.ID, 0, c.Name)
		}
		if from.Status != t.Status {
			evs = append(evs, switchboard.Event{Name: "ticketStatusUpdated", Args: []any{t.ID, int(t.Status)},
				To: []string{owner, operators}, SessionID: t.ID})
		}
	default: // reject, close, reopen, decline
		evs = append(evs, switchboard.Event{Name: "ticketStatusUpdated", Args: []any{t.ID, int(t.Status)},
			To: []string{owner, operators}, SessionID: t.ID})
	}
	return evs
}

// chatTransitionEvents record a transition in the ticket's session as a
// SYSNOTIF message, and show the session to a new handler.
func (s *Service) chatTransitionEvents(tx *gorm.DB, c Caller, t Ticket, from State, cmd Command, out Outcome, now int64) ([]switchboard.Event, error) {
	chats := chat.StoreIn(tx)
	sess, found, err := chats.FindSession(t.Tenant, t.ID)
	if err != nil || !found {
		return nil, err
	}
	var evs []switchboard.Event
	if s.chat != nil && t.HandlerID != from.Handler && t.HandlerID != "" {
		if evs, err = s.chat.SessionEvents(chats, sess, t.HandlerID); err != nil {
			return nil, err
		}
	}
	var text string
	switch out.Action {
	case ActionAccept:
		text = c.Name + " accepted the ticket"
	case ActionAssign:
		text = c.Name + " assigned the ticket to " + t.HandlerName
	case ActionHijack:
		text = c.Name + " took over the ticket"
	case ActionClose:
		text = c.Name + " closed the ticket"
		if c.Principal.Role == RoleSystem {
			text = c.Name + " closed the ticket: nothing happened in it for a while"
		}
	case ActionReject:
		text = c.Name + " rejected the ticket"
	case ActionReopen:
		text = c.Name + " reopened the ticket"
	case ActionDecline:
		text = c.Name + " declined the ticket; it is back in the queue"
	default:
		text = c.Name + " changed the ticket (" + string(out.Action) + ")"
	}
	event := string(out.Action)
	if cmd.Kind == CmdTransfer { // to a person it is an assign: say it was a transfer, with its note
		text, event = transferText(c, t, cmd), string(ActionTransfer)
	}
	_, more, err := chats.Notify(sess, c.UserID, c.Name, text, event, now)
	if err != nil || t.HandlerID == from.Handler {
		return append(evs, more...), err
	}
	// A new handler now counts the ticket's unread messages, the one
	// before no longer does.
	if err := chats.ForgetUnread(t.ID, t.HandlerID, from.Handler); err != nil {
		return append(evs, more...), err
	}
	counts, err := chats.UnreadEvents(t.Tenant, t.ID, t.HandlerID, from.Handler)
	return append(append(evs, more...), counts...), err
}

// mustBeEndUser refuses commands only an end user (or a program acting for
// one) may send.
func mustBeEndUser(c Caller) error {
	switch {
	case isOperator(c):
		return switchboard.Errorf(switchboard.EFORBIDDEN, "operators cannot do this")
	case c.UserID == "":
		return switchboard.Errorf(switchboard.EFORBIDDEN, "subscribe for an end user first")
	}
	return nil
}

// see loads a ticket the caller may see. One the caller may not see is
// NOT_FOUND, exactly like one that does not exist, so ids cannot be probed.
func see(db *gorm.DB, c Caller, id string) (Ticket, error) {
	t, found, err := findTicket(db, c.Tenant(), id)
	if err != nil {
		return t, err
	}
	if !found || !visible(c, t) {
		return t, switchboard.Errorf(switchboard.ENOTFOUND, "no ticket %s", id)
	}
	return t, nil
}

// visible: operators see every ticket of their tenant, an end user its own,
// a program every ticket of its end users.
func visible(c Caller, t Ticket) bool {
	switch c.Principal.Role {
	case switchboard.RoleOperator:
		return true
	case switchboard.RoleProgram:
		return t.ProgramID == c.Principal.ProgramID
	default:
		return t.OwnerID == c.UserID
	}
}

// party returns the ticket's other party's room, or FORBIDDEN if the
// caller is not its owner or its handler.
func party(c Caller, t Ticket) (otherRoom string, isOwner bool, err error) {
	switch {
	case !isOperator(c) && c.UserID != "" && t.OwnerID == c.UserID:
		if t.HandlerID == "" {
			return "", true, nil
		}
		return switchboard.OperatorRoom(t.Tenant, t.HandlerID), true, nil
	case isOperator(c) && t.HandlerID == c.UserID:
		return switchboard.UserRoom(t.Tenant, t.OwnerID), false, nil
	}
	return "", false, switchboard.Errorf(switchboard.EFORBIDDEN, "only the ticket's owner and its handler may do this")
}

// Typing tells the other party of a ticket that the caller is typing.
// Nothing is stored; the events are returned for the caller to publish.
func (s *Service) Typing(ctx context.Context, c Caller, ticketID string) ([]switchboard.Event, error) {
	t, err := see(s.db.WithContext(ctx), c, ticketID)
	if err != nil {
		return nil, err
	}
	other, isOwner, err := party(c, t)
	if err != nil || other == "" {
		return nil, err
	}
	otherID := t.OwnerID
	if isOwner {
		otherID = t.HandlerID
	}
	return []switchboard.Event{{Name: "typing", Args: []any{t.ID, c.Name}, To: []string{other}, SessionID: t.ID},
		chat.UserActionEvent(t.Tenant, c.UserID, t.ID, chat.ActionTyping, s.millis(), otherID)}, nil
}

// EnsureUser records a principal on its first authentication, so that an
// operator is known (and may be assigned tickets) from then on. Each
// principal is written once per process, not on every connection.
func (s *Service) EnsureUser(p switchboard.Principal, done database.Done) {
	key := p.Tenant + "\x00" + p.ID + "\x00" + string(p.Role) // a new role is written again
	if _, seen := s.known.Load(key); seen {
		done.Call(nil)
		return
	}
	done = rememberOnSuccess(&s.known, key, done)
	now := s.millis()
	u := chat.User{Tenant: p.Tenant, ID: p.ID, Role: string(p.Role), ProgramID: p.ProgramID,
		Username: p.DisplayName, FullName: p.DisplayName, Status: "AVAILABLE", CreatedAt: now, UpdatedAt: now}
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		return nil, chat.StoreIn(tx).EnsureUser(u)
	}, done)
}

// rememberOnSuccess wraps done so that key is remembered once the write
// it reports on has committed.
func rememberOnSuccess(m *sync.Map, key string, done database.Done) database.Done {
	return func(err error) {
		if err == nil {
			m.Store(key, struct{}{})
		}
		done.Call(err)
	}
}

// Subscribe stores the profile an end user (or a program for one) gives.
func (s *Service) Subscribe(c Caller, p chat.Profile, done database.Done) {
	u := chat.User{Tenant: c.Tenant(), ID: c.UserID, Role: string(switchboard.RoleUser),
		ProgramID: c.Principal.ProgramID, Username: c.Name}
	if c.Principal.Role == switchboard.RoleUser {
		u.Username = c.Principal.DisplayName
	}
	now := s.millis()
	changed := p != (chat.Profile{})
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		chats := chat.StoreIn(tx)
		if err := chats.UpdateProfile(u, p, now); err != nil || !changed {
			return nil, err
		}
		return chats.ProfileEvents(u.Tenant, u.ID)
	}, func(err error) {
		if err == nil {
			s.router.retell(u.Tenant, u.ID) // a returning owner hears its place again
		}
		done.Call(err)
	})
}

// DisplayName returns the stored name of a user (its profile's full name)
// or "" if it has none.
func (s *Service) DisplayName(ctx context.Context, tenant, userID string) (string, error) {
	u, found, err := chat.StoreIn(s.db.WithContext(ctx)).FindUser(tenant, userID)
	if err != nil || !found {
		return "", err
	}
	return u.FullName, nil
}

package tickets

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/mail"
)

// Keys of a VisitorContext that email reads. The widget sets them when
// the team is offline: offline "true" and the address the visitor left.
const (
	ContextOffline  = "offline"
	ContextEmail    = "email"
	ContextTimeZone = "timeZone"
)

// Emails sends the email tickets cause, after their commit and off the
// path of every command: the team hears of a ticket left while it was
// offline (with its first message), and a visitor who left an address
// gets the transcript when its ticket closes. It is a
// switchboard.Publisher: it learns of both from the events the Service
// publishes after commit, so the state machine knows nothing of mail.
// A nil *Emails, or one without an outbox, sends nothing.
type Emails struct {
	db     *database.DB
	outbox *mail.Outbox
	opts   EmailOptions

	mu sync.Mutex
	// waiting are the offline tickets created on this node whose owner
	// has not written yet, by id: their owner's id. The notice waits for
	// that first message, which is what the team needs to read.
	waiting map[string]string
}

// EmailOptions say where offline notices go and whether one is needed.
type EmailOptions struct {
	// OfflineAddress is where an offline ticket of tenant's team is
	// announced ("" = nowhere).
	OfflineAddress func(ctx context.Context, tenant, team string) (string, error)
	// Available reports whether tenant's team takes live chats now; a
	// ticket marked offline while it does needs no notice (nil: never).
	Available func(ctx context.Context, tenant, team string) (bool, error)
	Logger    *slog.Logger
}

// maxWaiting bounds the offline tickets remembered: beyond it the oldest
// knowledge is dropped (those tickets get no notice, and stay new).
const maxWaiting = 10000

// NewEmails returns the ticket email over db, sent through outbox (nil:
// email is off).
func NewEmails(db *database.DB, outbox *mail.Outbox, opts EmailOptions) *Emails {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Emails{db: db, outbox: outbox, opts: opts, waiting: map[string]string{}}
}

// Publish looks at committed events; it never blocks: what it sends is
// composed and sent by the outbox.
func (e *Emails) Publish(evs []switchboard.Event) {
	if e == nil || e.outbox == nil {
		return
	}
	for _, ev := range evs {
		if ev.Protocol != switchboard.ProtocolLivechat || len(ev.Args) == 0 {
			continue
		}
		switch ev.Name {
		case "ticketCreated":
			e.created(ev)
		case "messageUpdated":
			if m, ok := ev.Args[0].(Message); ok && e.firstFromOwner(m) {
				id, msg := m.TicketID, m.MessageID
				e.outbox.Post("offline ticket "+id, func(ctx context.Context) ([]mail.Message, error) {
					return e.offlineNotice(ctx, id, msg)
				})
			}
		case "ticketAccepted":
			e.forget(ev.SessionID)
		case "ticketStatusUpdated":
			e.forget(ev.SessionID)
			if len(ev.Args) == 2 && ev.Args[1] == int(StatusClosed) {
				id := ev.SessionID
				e.outbox.Post("transcript of "+id, func(ctx context.Context) ([]mail.Message, error) {
					return e.transcript(ctx, id)
				})
			}
		}
	}
}

func (e *Emails) created(ev switchboard.Event) {
	w, _ := ev.Args[0].(map[string]any)
	vc, _ := w["visitorContext"].(VisitorContext)
	owner, _ := w["ownerId"].(string)
	if vc[ContextOffline] != "true" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.waiting) >= maxWaiting {
		e.opts.Logger.Warn("mail: too many offline tickets without a first message; forgetting them", "count", len(e.waiting))
		clear(e.waiting)
	}
	e.waiting[ev.SessionID] = owner
}

func (e *Emails) firstFromOwner(m Message) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	owner, ok := e.waiting[m.TicketID]
	if ok && owner == m.SenderID {
		delete(e.waiting, m.TicketID)
		return true
	}
	return false
}

func (e *Emails) forget(id string) {
	e.mu.Lock()
	delete(e.waiting, id)
	e.mu.Unlock()
}

// ticketWithContext loads a ticket with its visitor context, which the
// commands' reads leave out.
func ticketWithContext(db *gorm.DB, id string) (Ticket, bool, error) {
	var ts []Ticket
	err := db.Where("id = ?", id).Limit(1).Find(&ts).Error
	if err != nil || len(ts) == 0 {
		return Ticket{}, false, err
	}
	return ts[0], true, nil
}

// ticketTeam is the team a ticket is for ("" = its tenant as a whole):
// the team's hours and address apply to it.
func ticketTeam(t Ticket) string { return t.Team }

// offlineNotice tells the team's address of an offline ticket and its
// first message, unless the team is there now after all.
func (e *Emails) offlineNotice(ctx context.Context, ticketID, messageID string) ([]mail.Message, error) {
	db := e.db.WithContext(ctx)
	t, found, err := ticketWithContext(db, ticketID)
	if err != nil || !found || t.Status != StatusNew {
		return nil, err
	}
	team := ticketTeam(t)
	if e.opts.Available != nil {
		if open, err := e.opts.Available(ctx, t.Tenant, team); err != nil || open {
			return nil, err
		}
	}
	if e.opts.OfflineAddress == nil {
		return nil, nil
	}
	to, err := e.opts.OfflineAddress(ctx, t.Tenant, team)
	if err != nil || to == "" {
		return nil, err
	}
	m, found, err := chat.StoreIn(db).FindMessage(t.Tenant, messageID)
	if err != nil || !found {
		return nil, err
	}
	vc := decodeContext(t.VisitorContext)
	replyTo, _ := mail.Address(vc[ContextEmail])
	zone := zoneOf(vc)
	var b strings.Builder
	fmt.Fprintf(&b, "%s left a message while nobody was there to chat.\n\n", t.OwnerName)
	fmt.Fprintf(&b, "Ticket:  %s (%s)\n", orNone(t.TicketName), t.ID)
	fmt.Fprintf(&b, "From:    %s, %s\n", t.OwnerName, orNone(replyTo))
	if page := vc["pageUrl"]; page != "" {
		fmt.Fprintf(&b, "Page:    %s\n", page)
	}
	fmt.Fprintf(&b, "Sent:    %s\n\n%s\n\n", stamp(m.CreatedAt, zone), content(m))
	b.WriteString("The ticket waits in the queue as a new ticket. ")
	if replyTo != "" {
		b.WriteString("Answer it there, or reply to this email to write to the visitor.\n")
	} else {
		b.WriteString("The visitor left no email address: answer it there.\n")
	}
	return []mail.Message{{To: []string{to}, ReplyTo: replyTo,
		Subject: "Offline message: " + orNone(t.TicketName), Body: b.String()}}, nil
}

// Bounds of a transcript: a long conversation fits, a flood does not.
const (
	maxTranscriptMessages = 5000
	maxTranscriptBytes    = 1 << 20
)

// transcript mails a closed ticket's conversation to the address its
// visitor left, if it left one.
func (e *Emails) transcript(ctx context.Context, ticketID string) ([]mail.Message, error) {
	db := e.db.WithContext(ctx)
	t, found, err := ticketWithContext(db, ticketID)
	if err != nil || !found || t.Status != StatusClosed {
		return nil, err
	}
	vc := decodeContext(t.VisitorContext)
	to, err := mail.Address(vc[ContextEmail])
	if err != nil {
		return nil, nil // no address, or none mail could go to
	}
	zone := zoneOf(vc)
	var b strings.Builder
	fmt.Fprintf(&b, "Here is a copy of your conversation \"%s\".\n\n", orNone(t.TicketName))
	since := chat.Since{UserOnly: true, Limit: 500}
	for n := 0; n < maxTranscriptMessages; {
		ms, err := chat.StoreIn(db).MessagesSince(t.ID, since)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			fmt.Fprintf(&b, "[%s] %s:\n%s\n\n", stamp(m.CreatedAt, zone), m.SenderName, content(m))
			if b.Len() > maxTranscriptBytes {
				b.WriteString("(The conversation is longer than one email holds; the rest is not shown.)\n\n")
				n = maxTranscriptMessages
				break
			}
		}
		n += len(ms)
		if len(ms) < since.Limit {
			break
		}
		since.AfterSeq = ms[len(ms)-1].Seq
	}
	fmt.Fprintf(&b, "Times are %s. This conversation is closed; to write again, start a new one.\n", zone)
	return []mail.Message{{To: []string{to}, Subject: "Your conversation: " + orNone(t.TicketName), Body: b.String()}}, nil
}

// zoneOf is the visitor's time zone as its browser said, else UTC.
func zoneOf(vc VisitorContext) *time.Location {
	if name := vc[ContextTimeZone]; name != "" && !strings.EqualFold(name, "local") {
		if z, err := time.LoadLocation(name); err == nil {
			return z
		}
	}
	return time.UTC
}

func stamp(ms int64, zone *time.Location) string {
	return time.UnixMilli(ms).In(zone).Format("2006-01-02 15:04")
}

// content is a message as text: images are not attached.
func content(m chat.Message) string {
	switch {
	case m.RemovedAt != 0:
		return "(removed)"
	case m.Type == 2:
		return "(an image)"
	}
	return m.Content
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

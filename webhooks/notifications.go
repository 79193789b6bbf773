package webhooks

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Notification is one entry of a delivery's "notifications" array.
type Notification struct {
	ID         string          `json:"id"`
	Event      string          `json:"event"`
	ObjectType string          `json:"object_type"`
	Object     json.RawMessage `json:"object"`
}

// kind is what a stream event becomes: its object type and event.
type kind struct{ objectType, event string }

// kinds maps the stream events (docs/events.md) to notifications. The
// rest (userChatRateLimited) tells a program nothing it acts on.
var kinds = map[string]kind{
	"ticketCreated":        {"ticket", "new"},
	"ticketAccepted":       {"ticket", "changed"},
	"ticketAssigned":       {"ticket", "changed"},
	"ticketStatusUpdated":  {"ticket", "changed"},
	"ticketRated":          {"ticket", "changed"},
	"personalChatSent":     {"message", "new"},
	"messageStatusUpdated": {"message", "changed"},
	"messageEdited":        {"message", "changed"},
	"messageRemoved":       {"message", "deleted"},
	"userConnected":        {"user", "is_online"},
	"userDisconnected":     {"user", "is_offline"},
	"presenceChanged":      {"user", ""}, // is_online or is_offline by status
}

// Writer turns a change's stream events about a program into that
// program's notifications, in the change's transaction: it is one of the
// Committer's outboxes. A program without a webhook gets none (one
// indexed look-up per event about a program); events about no program
// cost a map look-up and one JSON encoding.
type Writer struct {
	now func() time.Time
	// registered says whether any webhook is registered, in any tenant:
	// until one is, services build no stream event for webhooks (the
	// committer asks Active), and changes cost what they cost without.
	registered atomic.Bool
}

// Active reports whether any webhook is registered, as last told.
func (w *Writer) Active() bool { return w.registered.Load() }

// SetRegistered tells the Writer whether any webhook is registered: the
// dispatcher on each pass (so within a second of a registration on
// another node), the registration itself on this node at once.
func (w *Writer) SetRegistered(any bool) { w.registered.Store(any) }

// NewWriter returns a Writer; now may be nil (time.Now).
func NewWriter(now func() time.Time) *Writer {
	if now == nil {
		now = time.Now
	}
	return &Writer{now: now}
}

// AnyRegistered reports whether any webhook is registered, in any tenant:
// what a Writer starts from.
func AnyRegistered(db *database.DB) (bool, error) {
	var n int64
	err := db.Table("webhooks").Limit(1).Count(&n).Error
	return n > 0, err
}

// Write queues the notifications of evs, in their order.
func (w *Writer) Write(tx *gorm.DB, evs []switchboard.Event) error {
	for _, ev := range evs {
		if ev.Protocol != switchboard.ProtocolStream || len(ev.Args) == 0 {
			continue
		}
		k, ok := kinds[ev.Name]
		if !ok {
			continue
		}
		body, ok := ev.Args[0].(switchboard.Streamed)
		if !ok {
			continue
		}
		n, program, err := notification(k, body)
		if err != nil || program.ID == "" || n.Event == "" {
			continue // nothing a program is told of
		}
		if err := w.insert(tx, program, n); err != nil {
			return err
		}
	}
	return nil
}

// notification builds the notification of a stream event and names its
// program (no ID for an event about none). Users' objects are {id, status?}:
// the minimal object the format asks for.
func notification(k kind, body switchboard.Streamed) (Notification, Program, error) {
	raw, err := json.Marshal(body.Body())
	if err != nil {
		return Notification{}, Program{}, err
	}
	var head struct {
		ProgramID string `json:"programId"`
		Status    string `json:"status"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Notification{}, Program{}, err
	}
	tenant, user := body.Origin()
	if head.ProgramID == "" && k.objectType == "user" {
		head.ProgramID = programOf(user) // a program's end user: "program/user"
	}
	if head.ProgramID == "" {
		return Notification{}, Program{}, nil
	}
	n := Notification{ID: newID(), Event: k.event, ObjectType: k.objectType, Object: raw}
	if k.objectType == "user" {
		obj := map[string]string{"id": user}
		if head.Status != "" {
			obj["status"] = head.Status
			n.Event = "is_online"
			if head.Status == "OFFLINE" || head.Status == "INVISIBLE" {
				n.Event = "is_offline"
			}
		}
		if n.Object, err = json.Marshal(obj); err != nil {
			return Notification{}, Program{}, err
		}
	}
	return n, Program{Tenant: tenant, ID: head.ProgramID}, nil
}

// programOf is the program of a scoped user id (switchboard.ScopedUserID),
// "" for anyone else.
func programOf(userID string) string {
	program, _, ok := strings.Cut(userID, "/")
	if !ok {
		return ""
	}
	p, err := url.PathUnescape(program)
	if err != nil {
		return ""
	}
	return p
}

// insert queues n for p if the program has a webhook that wants
// its event.
func (w *Writer) insert(tx *gorm.DB, p Program, n Notification) error {
	data, err := json.Marshal(n)
	if err != nil {
		return err
	}
	_, err = database.Exec(tx, `INSERT INTO webhook_notifications (tenant, program_id, id, notification, created_at)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhooks
			WHERE tenant = ? AND program_id = ? AND (events = '' OR events LIKE ?))`,
		p.Tenant, p.ID, n.ID, string(data), w.now().UnixMilli(), p.Tenant, p.ID, "%,"+n.Event+",%")
	return err
}

// newID is a random UUID (version 4): it names a notification for
// de-duplication and guards nothing, so the runtime's fast generator is
// enough.
func newID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// Package webhooks delivers a program's notifications to its webhook
// (spec/integrations.md § Webhooks for external programs, docs/events.md
// § Webhooks): the changes of its tickets, messages and end users, as
// signed batches in the notifications format, at least once, oldest
// first.
//
// The path is one-way. A change's stream events become the program's
// notifications in the change's own transaction (Writer, beside the
// stream's outbox), in the table webhook_notifications; a Dispatcher on
// one node at a time POSTs them and deletes what the endpoint took. So a
// notification outlives a restart, and its id (given when it is written)
// is the same on every attempt.
//
// Why a queue of its own rather than a cursor over the stream's outbox:
// the outbox's rows are published in commit order by one relay, and a
// second reader with a cursor over seq could skip a row that committed
// late (two nodes on PostgreSQL); the queue needs no cursor, since what
// was delivered is deleted, and the outbox's pruning needs no rule for
// it. The queue also keeps webhooks independent of the events sink: a
// NATS or Kafka outage does not stop them, and without a sink nothing is
// written to the outbox for them.
package webhooks

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Events are the notification events a webhook may ask for.
var Events = []string{"new", "changed", "deleted", "is_online", "is_offline"}

// MinSecret is the shortest secret accepted.
const MinSecret = 16

// Program names a program in its tenant: a webhook's key.
type Program struct{ Tenant, ID string }

// Webhook is a program's endpoint.
type Webhook struct {
	Program
	URL    string
	Secret string
	// Events filters the notifications (empty: all).
	Events   []string
	Failures int
	// Parked is when the endpoint was parked (zero: it is not).
	Parked  time.Time
	Created time.Time
	Updated time.Time
}

// Delivery is one attempt in the delivery log.
type Delivery struct {
	At       time.Time
	Status   int // 0 when no answer came
	Error    string
	Count    int
	Duration time.Duration
}

// Committer is the write path (database.Committer).
type Committer interface {
	Run(ctx context.Context, op database.Op) error
}

// Store keeps the webhooks, their queues and their delivery logs.
type Store struct {
	db        *database.DB
	committer Committer
	now       func() time.Time
	// registered is called after a registration commits (the dispatcher's
	// Wake).
	registered func()
}

// NewStore returns the store; now may be nil (time.Now).
func NewStore(db *database.DB, committer Committer, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, committer: committer, now: now, registered: func() {}}
}

// OnRegistered sets what runs after a registration commits.
func (s *Store) OnRegistered(f func()) { s.registered = f }

// Validate refuses a registration the dispatcher cannot deliver to.
func Validate(rawURL, secret string, events []string) error {
	if len(rawURL) > 2048 {
		return switchboard.Errorf(switchboard.EINVALID, "url: at most 2048 bytes")
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return switchboard.Errorf(switchboard.EINVALID, "url: an absolute http:// or https:// URL without credentials")
	}
	if len(secret) < MinSecret || len(secret) > 1024 {
		return switchboard.Errorf(switchboard.EINVALID, "secret: required, %d to 1024 bytes", MinSecret)
	}
	for _, e := range events {
		if !slices.Contains(Events, e) {
			return switchboard.Errorf(switchboard.EINVALID, "events: %q is none of %s", e, strings.Join(Events, ", "))
		}
	}
	return nil
}

// Register creates or replaces the program's webhook; it starts
// unparked, with its queue kept: a parked endpoint registered again
// resumes where it stopped.
func (s *Store) Register(ctx context.Context, p Program, rawURL, secret string, events []string) (Webhook, error) {
	if err := Validate(rawURL, secret, events); err != nil {
		return Webhook{}, err
	}
	now := s.now().UnixMilli()
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		_, err := database.Exec(tx, `INSERT INTO webhooks (tenant, program_id, url, secret, events, failures, parked_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, NULL, ?, ?)
			ON CONFLICT (tenant, program_id) DO UPDATE SET url = excluded.url, secret = excluded.secret,
				events = excluded.events, failures = 0, parked_at = NULL, updated_at = excluded.updated_at`,
			p.Tenant, p.ID, rawURL, secret, encodeEvents(events), now, now)
		return nil, err
	})
	if err != nil {
		return Webhook{}, err
	}
	s.registered()
	return s.Get(ctx, p)
}

// Get reads the program's webhook (ENOTFOUND when it has none).
func (s *Store) Get(ctx context.Context, p Program) (Webhook, error) {
	return get(s.db.WithContext(ctx), p)
}

func get(tx *gorm.DB, p Program) (Webhook, error) {
	var w Webhook
	var events string
	var parked *int64
	var created, updated int64
	w.Program = p
	err := database.QueryRow(tx, `SELECT url, secret, events, failures, parked_at, created_at, updated_at
		FROM webhooks WHERE tenant = ? AND program_id = ?`, p.Tenant, p.ID).
		Scan(&w.URL, &w.Secret, &events, &w.Failures, &parked, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return w, switchboard.Errorf(switchboard.ENOTFOUND, "no webhook is registered")
	}
	if err != nil {
		return w, err
	}
	w.Events = decodeEvents(events)
	if parked != nil {
		w.Parked = time.UnixMilli(*parked)
	}
	w.Created, w.Updated = time.UnixMilli(created), time.UnixMilli(updated)
	return w, nil
}

// Delete removes the program's webhook with its queue and its log.
func (s *Store) Delete(ctx context.Context, p Program) error {
	var n int64
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		var err error
		if n, err = database.Exec(tx, `DELETE FROM webhooks WHERE tenant = ? AND program_id = ?`, p.Tenant, p.ID); err != nil {
			return nil, err
		}
		if _, err = database.Exec(tx, `DELETE FROM webhook_notifications WHERE tenant = ? AND program_id = ?`, p.Tenant, p.ID); err != nil {
			return nil, err
		}
		_, err = database.Exec(tx, `DELETE FROM webhook_deliveries WHERE tenant = ? AND program_id = ?`, p.Tenant, p.ID)
		return nil, err
	})
	if err == nil && n == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no webhook is registered")
	}
	return err
}

// Deliveries lists the program's last deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, p Program) ([]Delivery, error) {
	rows, err := database.Query(s.db.WithContext(ctx), `SELECT at, status, error, count, duration_ms
		FROM webhook_deliveries WHERE tenant = ? AND program_id = ? ORDER BY seq DESC`, p.Tenant, p.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var at, ms int64
		if err := rows.Scan(&at, &d.Status, &d.Error, &d.Count, &ms); err != nil {
			return nil, err
		}
		d.At, d.Duration = time.UnixMilli(at), time.Duration(ms)*time.Millisecond
		out = append(out, d)
	}
	return out, rows.Err()
}

// Pending counts the program's notifications not yet delivered.
func (s *Store) Pending(ctx context.Context, p Program) (int, error) {
	var n int
	err := database.QueryRow(s.db.WithContext(ctx), `SELECT COUNT(*) FROM webhook_notifications
		WHERE tenant = ? AND program_id = ?`, p.Tenant, p.ID).Scan(&n)
	return n, err
}

// encodeEvents writes the filter as ",new,changed," so that one LIKE
// finds an event in it; no filter is "".
func encodeEvents(events []string) string {
	if len(events) == 0 {
		return ""
	}
	return "," + strings.Join(events, ",") + ","
}

func decodeEvents(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

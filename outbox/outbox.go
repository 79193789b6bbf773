// Package outbox carries the domain event stream (docs/events.md): every
// stream event a change makes is written, as its envelope, to the outbox
// table in the transaction of the change (Writer, the Committer's
// Outbox); a Relay publishes the pending rows to a Sink in commit order
// and marks them published; Prune deletes them once they are old enough.
//
// The write and the publication are apart on purpose: a change commits
// whether or not the sink is up, so a sink that is down delays events but
// neither loses them nor slows the chat.
package outbox

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// DefaultNamespace is the envelope's namespace (and the Kafka topic, and
// the NATS subjects' first token) unless configured.
const DefaultNamespace = "switchboard"

// Version is the envelope's version.
const Version = 1

// Envelope is one stream event as published: the shape of the source's
// chat events, field for field.
type Envelope struct {
	ID              string         `json:"id"`
	Version         int            `json:"version"`
	Name            string         `json:"name"`
	Namespace       string         `json:"namespace"`
	ParentNamespace string         `json:"parentNamespace"`
	Timestamp       string         `json:"timestamp"`
	ClientID        string         `json:"clientId"`
	UserID          string         `json:"userId"`
	TraceID         string         `json:"traceId"`
	SessionID       string         `json:"sessionId"`
	SpanContext     string         `json:"spanContext"`
	Payload         map[string]any `json:"payload"`
}

// Writer writes the envelopes of stream events to the outbox table. It is
// the Committer's Outbox: it runs on the Committer's goroutine, in the
// transaction of the Op that made the events.
//
// With a Relay attached (RelayOptions.Writer), it also keeps the records
// it wrote until the Relay hears, after the commit, which of them
// committed (committed): the relay then publishes them from memory and
// reads the table only after a restart, an outage or a gap.
type Writer struct {
	namespace string
	now       func() time.Time

	mu sync.Mutex
	// handOff says a relay takes the records (set by NewRelay).
	handOff bool
	// staged are the records of each Write since the last one the relay
	// was handed, in the order of the Writes; some are of runs that were
	// rolled back.
	staged []staged
}

// staged is the records of one Write, by the events slice it wrote them
// for: the Committer publishes the committed run's slice itself, so
// the slice's first element names the run.
type staged struct {
	key     *switchboard.Event
	records []Record
}

// WriterOptions configures a Writer. Zero values work.
type WriterOptions struct {
	// Namespace is the envelopes' namespace (default DefaultNamespace).
	Namespace string
	Now       func() time.Time
}

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$`)

// ValidNamespace refuses a namespace that is not both a NATS subject
// prefix and a Kafka topic name.
func ValidNamespace(ns string) error {
	if !namespacePattern.MatchString(ns) {
		return fmt.Errorf("events namespace %q: use 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'", ns)
	}
	return nil
}

// NewWriter returns a Writer.
func NewWriter(opts WriterOptions) *Writer {
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Writer{namespace: opts.Namespace, now: opts.Now}
}

// Namespace is the envelopes' namespace.
func (w *Writer) Namespace() string { return w.namespace }

// Write inserts one row per stream event of evs, in their order. The
// events of one Op (one command) share a traceId. Other events are
// skipped: most Ops have no stream event and cost a loop here.
func (w *Writer) Write(tx *gorm.DB, evs []switchboard.Event) error {
	var trace string
	var records []Record
	for _, ev := range evs {
		if ev.Protocol != switchboard.ProtocolStream || len(ev.Args) == 0 {
			continue
		}
		body, ok := ev.Args[0].(switchboard.Streamed)
		if !ok {
			return fmt.Errorf("outbox: stream event %s carries %T, not a switchboard.Streamed", ev.Name, ev.Args[0])
		}
		if trace == "" {
			trace = newID()
		}
		rec, err := w.insert(tx, ev, body, trace)
		if err != nil {
			return err
		}
		records = append(records, rec)
	}
	if len(records) > 0 {
		w.stage(&evs[0], records)
	}
	return nil
}

func (w *Writer) insert(tx *gorm.DB, ev switchboard.Event, body switchboard.Streamed, trace string) (Record, error) {
	now := w.now()
	tenant, user := body.Origin()
	env := Envelope{ID: newID(), Version: Version, Name: ev.Name, Namespace: w.namespace,
		Timestamp: timestamp(now), ClientID: tenant, UserID: user, TraceID: trace,
		SessionID: ev.SessionID}
	payload, err := json.Marshal(body.Body())
	if err != nil {
		return Record{}, fmt.Errorf("outbox: %s: %w", ev.Name, err)
	}
	data := appendEnvelope(make([]byte, 0, envelopeSize+len(payload)), &env, payload)
	rec := Record{ID: env.ID, Namespace: w.namespace, Name: ev.Name, SessionID: ev.SessionID,
		Key: partitionKey(ev.SessionID, user), Envelope: data}
	rec.Seq, _, err = database.Insert(tx, "seq", `INSERT INTO outbox (id, namespace, name, session_id, msg_key, envelope, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, rec.ID, rec.Namespace, rec.Name, rec.SessionID, rec.Key, string(data), now.UnixMilli())
	return rec, err
}

// stage keeps the records of one Write for the relay, replacing those of
// an earlier run of the same Op (a rolled-back run whose events slice the
// Op returned again).
func (w *Writer) stage(key *switchboard.Event, records []Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.handOff {
		return
	}
	w.staged = slices.DeleteFunc(w.staged, func(s staged) bool { return s.key == key })
	w.staged = append(w.staged, staged{key: key, records: records})
}

// committed returns the records written for evs, an Op's events the
// Committer publishes after their commit, and forgets them with those
// of every Write before: the Committer publishes the Ops in the order of
// their last runs, so a Write before this one that was not handed over
// yet belongs to a run that was rolled back. Records it does not find
// (not written by this Writer, or lost to a panicking publisher) leave
// a gap in the seqs the relay is handed, and the relay reads the table
// instead.
func (w *Writer) committed(evs []switchboard.Event) []Record {
	if len(evs) == 0 {
		return nil
	}
	key := &evs[0]
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.staged) - 1; i >= 0; i-- {
		if w.staged[i].key == key {
			records := w.staged[i].records
			w.staged = append(w.staged[:0], w.staged[i+1:]...)
			clear(w.staged[len(w.staged):cap(w.staged)]) // no records kept alive by the array
			return records
		}
	}
	return nil
}

// envelopeSize is about what an envelope takes besides its payload.
const envelopeSize = 320

// timestampLayout is RFC 3339 in UTC with milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// partitionKey keeps one session's events together (Kafka key); an event
// about no session (a user's connection) is keyed by its user.
func partitionKey(sessionID, userID string) string {
	if sessionID != "" {
		return sessionID
	}
	return userID
}

// newID is a random UUID (version 4). The ids name events for
// de-duplication, they guard nothing: the runtime's fast generator
// (ChaCha8, seeded from the system's) is enough, and costs a tenth of
// crypto/rand and fmt on the write path.
func newID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
}

// Prune deletes the rows published before before and reports how many.
func Prune(tx *gorm.DB, before time.Time) (int64, error) {
	return database.Exec(tx, `DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?`, before.UnixMilli())
}

// Lag is how far the stream is behind the changes: the rows not yet
// published and when the oldest of them was written.
type Lag struct {
	Pending int64
	Oldest  time.Time // zero when nothing is pending
}

// PendingLag reads the lag.
func PendingLag(db *gorm.DB) (Lag, error) {
	var lag Lag
	var oldest *int64
	err := database.QueryRow(db, `SELECT COUNT(*), MIN(created_at) FROM outbox WHERE published_at IS NULL`).
		Scan(&lag.Pending, &oldest)
	if err == nil && oldest != nil {
		lag.Oldest = time.UnixMilli(*oldest)
	}
	return lag, err
}

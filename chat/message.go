package chat

import (
	"database/sql"
	"errors"
	"sync"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/database"
)

// Message is one message in a session. Seq is its place in commit order.
// In a ONETOONE session a message has one recipient, so its delivery state
// (StatusID and the times) is kept on the row.
type Message struct {
	Seq           int64  `gorm:"column:seq;primaryKey;autoIncrement"`
	ID            string `gorm:"column:id"`
	SessionID     string `gorm:"column:session_id"`
	Tenant        string `gorm:"column:tenant"`
	Kind          string `gorm:"column:kind"`
	Type          int    `gorm:"column:type"`
	Content       string `gorm:"column:content"`
	Encoding      string `gorm:"column:encoding"`
	ProgramID     string `gorm:"column:program_id"`
	SenderID      string `gorm:"column:sender_id"`
	SenderName    string `gorm:"column:sender_name"`
	RecipientID   string `gorm:"column:recipient_id"`
	RecipientName string `gorm:"column:recipient_name"`
	StatusID      int    `gorm:"column:status_id"`
	StatusFlag    bool   `gorm:"column:status_flag"`
	CreatedAt     int64  `gorm:"column:created_at;autoCreateTime:milli"`
	DeliveredAt   int64  `gorm:"column:delivered_at"`
	ReadAt        int64  `gorm:"column:read_at"`
	// EditedAt and RemovedAt are 0 until the sender edits or removes the
	// message; a removed message keeps its place but not its content.
	EditedAt  int64 `gorm:"column:edited_at"`
	RemovedAt int64 `gorm:"column:removed_at"`
	// Metadata is the JSON of the chat protocol's chatMetadata (and, for a
	// system notification, its name/value metadata), stored and relayed as
	// given; "" when there is none.
	Metadata string `gorm:"column:metadata"`
}

// TableName maps Message to its table.
func (Message) TableName() string { return "messages" }

// InsertMessage stores m and sets its Seq. It reports inserted=false,
// writing nothing, when a message with m's id already exists: ids are
// client GUIDs and a retry must not store a message twice. Letting the
// unique key answer saves a lookup on every message.
//
// A stored message also marks its session as updated (what keeps a
// session RECENT and orders session lists).
//
// Storing a message is the hot path of every protocol: a prepared
// statement with its columns spelled out, not a gorm Create (which cost
// several times the insert itself in the profile of bench/).
func InsertMessage(tx *gorm.DB, m *Message) (inserted bool, err error) {
	args := []any{m.ID, m.SessionID, m.Tenant, m.Kind, m.Type, m.Content, m.Encoding, m.ProgramID, m.SenderID,
		m.SenderName, m.RecipientID, m.RecipientName, m.StatusID, m.StatusFlag, m.CreatedAt, m.DeliveredAt,
		m.ReadAt, m.EditedAt, m.RemovedAt, m.Metadata}
	if tx.Dialector.Name() == "postgres" {
		// The session's id first: the row insertTouchingPostgres locks.
		pgArgs := append([]any{m.SessionID}, args...)
		err = database.QueryRow(tx, insertTouchingPostgres, pgArgs...).Scan(&m.Seq)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // the id is taken
		}
		return err == nil, err
	}
	m.Seq, inserted, err = database.Insert(tx, "seq", insertMessage, args...)
	if err != nil || !inserted {
		return false, err // not inserted: the id is taken
	}
	if err := Touch(tx, m.SessionID, m.CreatedAt); err != nil {
		return true, err
	}
	return true, countMessage(tx, m)
}

// insertMessage stores a message, or nothing when its id is taken.
const insertMessage = `INSERT INTO messages (id, session_id, tenant, kind, type,
		content, encoding, program_id, sender_id, sender_name, recipient_id, recipient_name, status_id,
		status_flag, created_at, delivered_at, read_at, edited_at, removed_at, metadata)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`

// insertTouchingPostgres is insertMessage, Touch and countMessage in one
// statement (each member's row updated once for both: a statement may
// update a row only once), for
// PostgreSQL, where each statement is a round trip to the server: three
// of them were most of a message's time in the write path
// (BenchmarkSendMessagePostgres). Its data-modifying WITH parts each run
// once, on what the insert returned: nothing when the id is taken, which
// touches nothing.
//
// It locks the session's row before the insert draws the message's seq,
// and the lock is held to the commit: with several nodes writing to one
// database, two transactions adding to one session then draw their seqs
// in the order they commit. Otherwise the later commit could hold the
// lower seq, and a client that saw the other message and reconnected
// would ask for the messages after it (since=, docs/protocol.md) and
// never get this one.
const insertTouchingPostgres = `WITH locked AS (SELECT id FROM chat_sessions WHERE id = ? FOR NO KEY UPDATE),
	ins AS (INSERT INTO messages (id, session_id, tenant, kind, type,
		content, encoding, program_id, sender_id, sender_name, recipient_id, recipient_name, status_id,
		status_flag, created_at, delivered_at, read_at, edited_at, removed_at, metadata)
		SELECT ?::text, ?::text, ?::text, ?::text, ?::integer, ?::text, ?::text, ?::text, ?::text, ?::text,
			?::text, ?::text, ?::integer, ?::boolean, ?::bigint, ?::bigint, ?::bigint, ?::bigint, ?::bigint, ?::text
		FROM (SELECT 1) AS one LEFT JOIN locked ON TRUE
		ON CONFLICT (id) DO NOTHING
		RETURNING seq, session_id, created_at, sender_id, recipient_id, status_id),
	touched AS (UPDATE chat_sessions s SET updated_at = ins.created_at FROM ins
		WHERE s.id = ins.session_id AND s.updated_at < ins.created_at),
	members AS (UPDATE chat_members cm SET
			age = CASE WHEN cm.archived = FALSE THEN '` + AgeRecent + `' ELSE cm.age END,
			unread_count = CASE WHEN ` + countsMessage + ` THEN cm.unread_count + 1 ELSE cm.unread_count END,
			last_read_seq = CASE WHEN ` + countsMessage + ` AND cm.unread_count = 0 THEN ins.seq - 1
				ELSE cm.last_read_seq END
		FROM ins WHERE cm.session_id = ins.session_id
			AND ((cm.archived = FALSE AND cm.age <> '` + AgeRecent + `') OR ` + countsMessage + `))
	SELECT seq FROM ins`

// countsMessage is the condition "the member cm counts the message ins
// among its unread ones" (countMessage, in insertTouchingPostgres).
const countsMessage = `(cm.user_id <> ins.sender_id AND cm.unread_count >= 0
	AND NOT (cm.user_id = ins.recipient_id AND ins.status_id >= 3))` // 3: StatusRead

// messageColumns are a Message's columns in scanMessage's order.
const messageColumns = `seq, id, session_id, tenant, kind, type, content, encoding, program_id, sender_id,
	sender_name, recipient_id, recipient_name, status_id, status_flag, created_at, delivered_at, read_at,
	edited_at, removed_at, metadata`

func scanMessage(row database.Row) (m Message, found bool, err error) {
	err = row.Scan(&m.Seq, &m.ID, &m.SessionID, &m.Tenant, &m.Kind, &m.Type, &m.Content, &m.Encoding,
		&m.ProgramID, &m.SenderID, &m.SenderName, &m.RecipientID, &m.RecipientName, &m.StatusID,
		&m.StatusFlag, &m.CreatedAt, &m.DeliveredAt, &m.ReadAt, &m.EditedAt, &m.RemovedAt, &m.Metadata)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, false, nil
	}
	return m, err == nil, err
}

// FindMessage returns the message with the client id, or found=false.
func FindMessage(db *gorm.DB, tenant, id string) (m Message, found bool, err error) {
	return scanMessage(database.QueryRow(db, `SELECT `+messageColumns+` FROM messages WHERE id = ? AND tenant = ?`, id, tenant))
}

// SetStatus moves messages forward to status (never back). flag is the
// client's note recorded with the change. A move to read forgets the
// recipients' unread counts (ForgetUnread).
func SetStatus(tx *gorm.DB, seqs []int64, status int, flag bool, now int64) error {
	if len(seqs) == 0 {
		return nil
	}
	set, args := statusChange(status, flag, now, 2)
	var err error
	if len(seqs) == 1 {
		// One message (the usual receipt): a prepared statement.
		_, err = database.Exec(tx, `UPDATE messages SET `+set+` WHERE seq = ? AND status_id < ?`,
			append(args, seqs[0], status)...)
	} else {
		err = tx.Exec(`UPDATE messages SET `+set+` WHERE seq IN ? AND status_id < ?`, append(args, seqs, status)...).Error
	}
	if err != nil || status < StatusRead {
		return err
	}
	return forgetReadStatus(tx, seqs)
}

// StatusReceipt is a recipient's delivered (2) or read (3) receipt of one
// message: the message moves forward to Status only if it is of Tenant
// and addressed to RecipientID.
type StatusReceipt struct {
	MessageID, Tenant, RecipientID string
	Status                         int
	Flag                           bool
	Now                            int64
}

// MarkReceived applies a receipt and returns the message's routing fields
// (seq, id, session, tenant, sender, recipient) when it moved.
// moved=false says nothing changed: no such message of the tenant for the
// recipient, or its status is already at or past the receipt's.
//
// On PostgreSQL it is one UPDATE … RETURNING, a round trip saved. On
// SQLite RETURNING runs as a trigger program and collects its row in a
// temporary b-tree, with a pager and a page cache of its own made and
// dropped for every receipt: an UPDATE that returns nothing and a read of
// the moved row by its key cost less.
func MarkReceived(tx *gorm.DB, r StatusReceipt) (Message, bool, error) {
	m, moved, err := markReceived(tx, r)
	if err != nil || !moved || r.Status < StatusRead {
		return m, moved, err
	}
	return m, moved, ForgetUnread(tx, m.SessionID, m.RecipientID)
}

// markReceived is MarkReceived but for the reader's unread count.
func markReceived(tx *gorm.DB, r StatusReceipt) (Message, bool, error) {
	set, args := statusChange(r.Status, r.Flag, r.Now, 4)
	args = append(args, r.MessageID, r.Status, r.Tenant, r.RecipientID)
	if tx.Dialector.Name() == "postgres" {
		return scanRouting(tx, r.Status, markOneQuery(set, markOneReturns), args)
	}
	n, err := database.Exec(tx, markOneQuery(set, ""), args...)
	if err != nil || n == 0 {
		return Message{}, false, err
	}
	return scanRouting(tx, r.Status, markOneMoved, []any{r.MessageID})
}

// markOneColumns are the routing fields MarkReceived returns.
const markOneColumns = `seq, id, session_id, tenant, sender_id, recipient_id`

// markOneReturns ends MarkReceived's UPDATE on PostgreSQL; markOneMoved reads
// the moved row after it on SQLite.
const (
	markOneReturns = `
		RETURNING ` + markOneColumns
	markOneMoved = `SELECT ` + markOneColumns + ` FROM messages WHERE id = ?`
)

// scanRouting reads the routing fields from the one row query returns.
func scanRouting(tx *gorm.DB, status int, query string, args []any) (Message, bool, error) {
	// The row's fields land in locals rather than in a Message: what Scan
	// is handed escapes, and a whole Message is several times their size.
	var r struct {
		seq                                    int64
		id, session, tenant, sender, recipient string
	}
	err := database.QueryRow(tx, query, args...).
		Scan(&r.seq, &r.id, &r.session, &r.tenant, &r.sender, &r.recipient)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, false, nil
	}
	if err != nil {
		return Message{}, false, err
	}
	return Message{Seq: r.seq, ID: r.id, SessionID: r.session, Tenant: r.tenant, SenderID: r.sender,
		RecipientID: r.recipient, StatusID: status}, true, nil
}

// markOneQueries holds MarkReceived's statements by their SET and
// RETURNING clauses, all the program's own constants: a receipt does not
// build its statement's text anew.
var markOneQueries sync.Map // [2]string{set, returning} -> query

func markOneQuery(set, returning string) string {
	key := [2]string{set, returning}
	if q, ok := markOneQueries.Load(key); ok {
		return q.(string)
	}
	q := `UPDATE messages SET ` + set + ` WHERE id = ? AND status_id < ? AND tenant = ? AND recipient_id = ?` + returning
	markOneQueries.Store(key, q)
	return q
}

// statusChange is the SET clause that moves a message to status, with its
// arguments: delivered_at is kept from the first delivery, read_at set by
// a read. The arguments' slice has room for more arguments, which the
// caller appends.
func statusChange(status int, flag bool, now int64, more int) (string, []any) {
	args := make([]any, 0, 4+more)
	switch {
	case status >= StatusRead:
		return `status_id = ?, status_flag = ?,
			delivered_at = CASE WHEN delivered_at = 0 THEN ? ELSE delivered_at END, read_at = ?`,
			append(args, status, flag, now, now)
	case status >= StatusDelivered:
		return `status_id = ?, status_flag = ?,
			delivered_at = CASE WHEN delivered_at = 0 THEN ? ELSE delivered_at END`,
			append(args, status, flag, now)
	default:
		return `status_id = ?, status_flag = ?`, append(args, status, flag)
	}
}

// Readdress gives a new recipient every message of sessionID from senderID
// that it has not read yet: when a ticket changes hands, the user's unread
// messages are the new handler's to read.
func Readdress(tx *gorm.DB, sessionID, senderID, recipientID, recipientName string) error {
	return tx.Exec(`UPDATE messages SET recipient_id = ?, recipient_name = ?
		WHERE session_id = ? AND sender_id = ? AND status_id < ?`,
		recipientID, recipientName, sessionID, senderID, StatusRead).Error
}

// Since selects a session's messages after a point, in commit order: after
// the message with seq afterSeq, or created strictly after afterMillis.
type Since struct {
	AfterSeq    int64
	AfterMillis int64
	Limit       int
	// UserOnly leaves out system notifications (SYSNOTIF messages).
	UserOnly bool
	// MaxBytes, when positive, ends the list at the message whose content
	// brings the listed contents to MaxBytes or more (it lists at least
	// one): a page of large images stays within what one request may hold.
	MaxBytes int
}

// MessagesSince lists a session's messages after since, oldest first.
// It reads the rows one at a time, and no more of them than it lists.
func MessagesSince(db *gorm.DB, sessionID string, since Since) ([]Message, error) {
	q := db.Where("session_id = ?", sessionID)
	if since.AfterSeq > 0 {
		q = q.Where("seq > ?", since.AfterSeq)
	}
	if since.AfterMillis > 0 {
		q = q.Where("created_at > ?", since.AfterMillis)
	}
	if since.UserOnly {
		q = q.Where("kind = ?", KindUser)
	}
	if since.Limit > 0 {
		q = q.Limit(since.Limit)
	}
	rows, err := q.Model(&Message{}).Order("seq").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	size := 0
	for rows.Next() {
		var m Message
		if err := db.ScanRows(rows, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
		if size += len(m.Content); since.MaxBytes > 0 && size >= since.MaxBytes {
			break
		}
	}
	return out, rows.Err()
}

// CountUnread counts the messages of senderID in a session that are not
// read yet.
func CountUnread(db *gorm.DB, sessionID, senderID string) (int64, error) {
	var n int64
	err := db.Model(&Message{}).Where("session_id = ? AND sender_id = ? AND status_id < ?",
		sessionID, senderID, StatusRead).Count(&n).Error
	return n, err
}

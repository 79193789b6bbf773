// Package alerts holds what one operator is told about personally (a
// mention in a note, and later kinds), stored until read and pushed to
// the operator's sockets. Other services create alerts inside their own
// command's transaction with Create; this package's Service reads them
// and marks them read.
package alerts

import (
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// Kinds of alert.
const (
	// KindMention: the alert's sender mentioned the recipient in a note.
	KindMention = "mention"
	// KindReaction: the alert's sender reacted to the recipient's
	// message (Text is the emoji and the message).
	KindReaction = "reaction"
)

// MaxTextBytes bounds an alert's text: it quotes what the alert is
// about, the whole of which is one click away.
const MaxTextBytes = 500

// Alert is one thing one operator is told about. Only its recipient sees
// it.
type Alert struct {
	Seq         int64  `gorm:"column:seq"`
	ID          string `gorm:"column:id"`
	Tenant      string `gorm:"column:tenant"`
	RecipientID string `gorm:"column:recipient_id"`
	Kind        string `gorm:"column:kind"`
	TicketID    string `gorm:"column:ticket_id"`
	// NoteID or MessageID is what the alert is about, when it is one.
	NoteID    string `gorm:"column:note_id"`
	MessageID string `gorm:"column:message_id"`
	// ByID and ByName are who caused it.
	ByID      string `gorm:"column:by_id"`
	ByName    string `gorm:"column:by_name"`
	Text      string `gorm:"column:text"`
	CreatedAt int64  `gorm:"column:created_at"`
	ReadAt    int64  `gorm:"column:read_at"` // 0: unread
}

// Wire is the alert as the API shows it.
func (a Alert) Wire() map[string]any {
	w := map[string]any{"id": a.ID, "kind": a.Kind, "ticketId": a.TicketID, "byId": a.ByID, "byNm": a.ByName,
		"text": a.Text, "createdAt": chat.FormatMillis(a.CreatedAt)}
	if a.NoteID != "" {
		w["noteId"] = a.NoteID
	}
	if a.MessageID != "" {
		w["messageId"] = a.MessageID
	}
	if a.ReadAt != 0 {
		w["readAt"] = chat.FormatMillis(a.ReadAt)
	}
	return w
}

// Create stores alert a in tx, the transaction of the command that
// causes it, and returns the event that pushes it to the recipient's
// sockets once that command commits: one commit for the cause and its
// alerts. The caller sets Tenant, RecipientID, Kind, TicketID, ByID,
// ByName, Text and CreatedAt (the command's time); Create makes the id
// and cuts Text to MaxTextBytes.
func Create(tx *gorm.DB, a Alert) (switchboard.Event, error) {
	a.ID, a.Text = chat.NewID(), cut(a.Text, MaxTextBytes)
	err := tx.Exec(`INSERT INTO alerts (id, tenant, recipient_id, kind, ticket_id, note_id, message_id, by_id, by_name,
		text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Tenant, a.RecipientID, a.Kind, a.TicketID,
		a.NoteID, a.MessageID, a.ByID, a.ByName, a.Text, a.CreatedAt).Error
	return switchboard.Event{Name: "alert", Args: []any{a.Wire()}, SessionID: a.TicketID,
		To: []string{switchboard.OperatorRoom(a.Tenant, a.RecipientID)}}, err
}

// cut shortens s to at most n bytes on a character boundary, with an
// ellipsis when it cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	s = s[:n-len(ellipsis)]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + ellipsis
}

// DeleteForTickets erases the alerts about tickets ids, in the erasing
// transaction: an alert quotes its ticket (tickets.Delete, Anonymise).
func DeleteForTickets(tx *gorm.DB, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return tx.Exec(`DELETE FROM alerts WHERE ticket_id IN ?`, ids).Error
}

// ForgetOperator erases what tenant's alerts hold of operator userID:
// the alerts it received go, and those it caused name erasedID instead,
// without a name (tickets.ForgetHandler).
func ForgetOperator(tx *gorm.DB, tenant, userID, erasedID string) error {
	if err := tx.Exec(`DELETE FROM alerts WHERE tenant = ? AND recipient_id = ?`, tenant, userID).Error; err != nil {
		return err
	}
	return tx.Exec(`UPDATE alerts SET by_id = ?, by_name = '' WHERE tenant = ? AND by_id = ?`,
		erasedID, tenant, userID).Error
}

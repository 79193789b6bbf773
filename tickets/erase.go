package tickets

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/alerts"
	"github.com/switchboard-chat/switchboard/chat"
)

// Forgetting: what retention and data-protection requests (package
// privacy) do to tickets. A ticket is a chat session, so each of these
// also reaches the session through chat's Store. Each runs in the
// caller's transaction.

// ActionAnonymise records in the audit trail that retention anonymised a
// closed ticket; it is also the marker that keeps retention from taking
// the ticket again.
const ActionAnonymise Action = "anonymise"

// OwnedBy lists the tickets of tenant that ownerID opened, oldest first.
func OwnedBy(db *gorm.DB, tenant, ownerID string) ([]Ticket, error) {
	var out []Ticket
	return out, db.Where("tenant = ? AND owner_id = ?", tenant, ownerID).Order("created_at, id").Find(&out).Error
}

// RetentionDue lists up to limit closed tickets closed at or before
// cutoff (Unix ms), the longest closed first; with skipAnonymised, only
// those retention has not anonymised since they were closed.
func RetentionDue(db *gorm.DB, cutoff int64, limit int, skipAnonymised bool) ([]Ticket, error) {
	q := db.Where("status = ? AND closed_at > 0 AND closed_at <= ?", StatusClosed, cutoff)
	if skipAnonymised {
		// Anonymised since its last close: a ticket reopened and closed
		// again after it was anonymised has new words to drop.
		q = q.Where(`NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.action = ?
			AND e.at >= tickets.closed_at)`, ActionAnonymise)
	}
	var out []Ticket
	return out, q.Order("closed_at, id").Limit(limit).Find(&out).Error
}

// Delete deletes tickets and everything of them: their audit trails and
// their sessions with the messages, receipts and members in them. The
// visitor context goes with the ticket's row.
func Delete(tx *gorm.DB, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := tx.Exec(`DELETE FROM ticket_events WHERE ticket_id IN ?`, ids).Error; err != nil {
		return err
	}
	if err := tx.Exec(`DELETE FROM tickets WHERE id IN ?`, ids).Error; err != nil {
		return err
	}

	// Their internal notes and the alerts about them go too; their
	// messages' words leave the search index with the messages.
	if err := deleteNotes(tx, ids); err != nil {
		return err
	}
	return chat.StoreIn(tx).DeleteSessions(ids)
}

// Anonymise keeps a ticket for statistics and drops what identifies or
// was said by its owner: the owner's name, the ticket's names and visitor
// context go from the ticket, the conversation is anonymised
// (chat.Store.AnonymiseSession), and an anonymise row is added to the
// audit trail. Ids, statuses, times, handlers and the audit trail stay.
func Anonymise(tx *gorm.DB, t Ticket, text string, now int64) error {
	if err := tx.Exec(`UPDATE tickets SET owner_name = '', display_name = '', ticket_name = '', visitor_context = ''
		WHERE id = ?`, t.ID).Error; err != nil {
		return err
	}
	if err := chat.StoreIn(tx).AnonymiseSession(t.ID, t.OwnerID, text); err != nil {
		return err
	}

	// Its internal notes and the alerts about them may quote the owner:
	// they go (the search index follows the anonymised messages).
	if err := deleteNotes(tx, []string{t.ID}); err != nil {
		return err
	}
	state := State{t.Status, t.HandlerID, t.Team}
	return audit(tx, t.ID, ActionAnonymise, automationActor, state, state, now)
}

// ForgetHandler replaces userID of tenant by erasedID wherever tickets it
// does not own name it: as their handler (with no name) and in their audit
// trails, and as the author of notes (with no name) or one they mention;
// its alerts go (alerts.ForgetOperator). An open ticket it handled waits
// for another operator to take it over.
func ForgetHandler(tx *gorm.DB, tenant, userID, erasedID string) error {
	if err := tx.Exec(`UPDATE ticket_notes SET author_id = ?, author_name = '' WHERE tenant = ? AND author_id = ?`,
		erasedID, tenant, userID).Error; err != nil {
		return err
	}
	if err := forgetMentions(tx, tenant, userID, erasedID); err != nil {
		return err
	}
	if err := alerts.ForgetOperator(tx, tenant, userID, erasedID); err != nil {
		return err
	}
	if err := tx.Exec(`UPDATE tickets SET handler_id = ?, handler_name = '' WHERE tenant = ? AND handler_id = ?`,
		erasedID, tenant, userID).Error; err != nil {
		return err
	}
	inTenant := `ticket_id IN (SELECT id FROM tickets WHERE tenant = ?)`
	for _, col := range []string{"actor_id", "from_handler", "to_handler"} {
		if err := tx.Exec(`UPDATE ticket_events SET `+col+` = ? WHERE `+col+` = ? AND `+inTenant,
			erasedID, userID, tenant).Error; err != nil {
			return err
		}
	}
	return nil
}

// OneAtATime reports whether this run of the named job may go on: not
// while a run on another node sharing the PostgreSQL database has yet to
// commit, as for the ticket automations (see oneAtATime), for jobs of
// other packages that change tickets.
func OneAtATime(tx *gorm.DB, job string) (bool, error) { return oneAtATime(tx, job) }

// HasTicketsSince reports whether ownerID of tenant has a ticket that is
// not closed, or was closed after cutoff (Unix ms).
func HasTicketsSince(db *gorm.DB, tenant, ownerID string, cutoff int64) (bool, error) {
	var n int64
	err := db.Model(&Ticket{}).Where("tenant = ? AND owner_id = ? AND (status <> ? OR closed_at > ?)",
		tenant, ownerID, StatusClosed, cutoff).Limit(1).Count(&n).Error
	return n > 0, err
}

package tickets

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/alerts"
	"github.com/switchboard-chat/switchboard/chat"
)

// Internal notes: what operators write in a ticket's conversation for
// each other. They are kept apart from messages (their own table, their
// own event), so that nothing that carries messages to an end user (the
// user's and programs' sockets, the chat protocol, history, transcripts,
// webhooks, the event stream) can carry a note: only operators ever read
// ticket_notes, and noteAdded goes to the operators' room only.

// MaxNoteBytes bounds a note's content.
const MaxNoteBytes = 16 << 10

// MaxMentions bounds how many operators one note may mention.
const MaxMentions = 20

// Note is one internal note on a ticket.
type Note struct {
	Seq        int64  `gorm:"column:seq"`
	ID         string `gorm:"column:id"`
	Tenant     string `gorm:"column:tenant"`
	TicketID   string `gorm:"column:ticket_id"`
	AuthorID   string `gorm:"column:author_id"`
	AuthorName string `gorm:"column:author_name"`
	Content    string `gorm:"column:content"`
	// Mentions are the ids of the operators the note mentions, in order
	// of first mention, separated by a space.
	Mentions  string `gorm:"column:mentions"`
	CreatedAt int64  `gorm:"column:created_at"`
}

// TableName is the notes' table.
func (Note) TableName() string { return "ticket_notes" }

// Wire is the note as operators see it.
func (n Note) Wire() map[string]any {
	return map[string]any{"id": n.ID, "ticketId": n.TicketID, "authorId": n.AuthorID, "authorNm": n.AuthorName,
		"content": n.Content, "mentions": strings.Fields(n.Mentions), "createdAt": chat.FormatMillis(n.CreatedAt),
		"isNote": true}
}

// AddNote stores a note by operator c on ticket ticketID, whatever its
// status, and tells operators (noteAdded); every operator it mentions
// but its author gets an alert, in the same commit. noteID is the
// client's id: a retry by the same author on the same ticket stores and
// sends nothing and reports the stored note, not created; the id used by
// anyone else, or on another ticket, is CONFLICT. done gets the note.
func (s *Service) AddNote(c Caller, ticketID, noteID, content string, done func(n Note, created bool, err error)) {
	if err := mustBeOperatorFor("write notes", c); err != nil {
		done(Note{}, false, err)
		return
	}
	if err := checkNote(content); err != nil {
		done(Note{}, false, err)
		return
	}
	var n Note
	var created bool
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		t, err := see(tx, c, ticketID)
		if err != nil {
			return nil, err
		}
		var evs []switchboard.Event
		n, created, evs, err = addNote(tx, c, t, noteID, content, s.millis())
		return evs, err
	}, func(err error) { done(n, created, err) })
}

// Notes lists the notes of a ticket, oldest first, to operators.
func (s *Service) Notes(ctx context.Context, c Caller, ticketID string) ([]Note, error) {
	if err := mustBeOperatorFor("read notes", c); err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	if _, err := see(db, c, ticketID); err != nil {
		return nil, err
	}
	ns := []Note{}
	return ns, db.Where("tenant = ? AND ticket_id = ?", c.Tenant(), ticketID).Order("seq").Find(&ns).Error
}

func mustBeOperatorFor(what string, c Caller) error {
	if !isOperator(c) {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only operators may %s", what)
	}
	return nil
}

// checkNote refuses a note's content before anything is stored.
func checkNote(content string) error {
	switch {
	case content == "":
		return invalid("a note needs content")
	case len(content) > MaxNoteBytes:
		return invalid("a note holds at most %d bytes", MaxNoteBytes)
	case len(mentionedIDs(content)) > MaxMentions:
		return invalid("a note mentions at most %d operators", MaxMentions)
	}
	return nil
}

// addNote is AddNote's work in the transaction of the command that
// writes the note (AddNote, TransferTicket): it returns the note, whether
// it is new, and the events (noteAdded, and an alert per mentioned
// operator).
func addNote(tx *gorm.DB, c Caller, t Ticket, id, content string, now int64) (Note, bool, []switchboard.Event, error) {
	if id == "" {
		id = chat.NewID()
	}
	var old Note
	found := tx.Where("tenant = ? AND id = ?", t.Tenant, id).Limit(1).Find(&old)
	if found.Error != nil {
		return Note{}, false, nil, found.Error
	}
	if found.RowsAffected > 0 {
		if old.AuthorID != c.UserID || old.TicketID != t.ID {
			return Note{}, false, nil, switchboard.Errorf(switchboard.ECONFLICT, "note %s is another's", id)
		}
		return old, false, nil, nil
	}
	mentions, err := knownOperators(tx, t.Tenant, mentionedIDs(content))
	if err != nil {
		return Note{}, false, nil, err
	}
	n := Note{ID: id, Tenant: t.Tenant, TicketID: t.ID, AuthorID: c.UserID, AuthorName: c.Name,
		Content: content, Mentions: strings.Join(mentions, " "), CreatedAt: now}
	if err := tx.Exec(`INSERT INTO ticket_notes (id, tenant, ticket_id, author_id, author_name, content, mentions,
		created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, n.ID, n.Tenant, n.TicketID, n.AuthorID, n.AuthorName, n.Content,
		n.Mentions, n.CreatedAt).Error; err != nil {
		return Note{}, false, nil, err
	}
	evs := []switchboard.Event{{Name: "noteAdded", Args: []any{n.Wire()}, SessionID: t.ID,
		To: []string{switchboard.OperatorsRoom(t.Tenant)}}}
	for _, op := range mentions {
		if op == c.UserID {
			continue
		}
		ev, err := alerts.Create(tx, alerts.Alert{Tenant: t.Tenant, RecipientID: op, Kind: alerts.KindMention,
			TicketID: t.ID, NoteID: n.ID, ByID: c.UserID, ByName: c.Name, Text: content, CreatedAt: now})
		if err != nil {
			return Note{}, false, nil, err
		}
		evs = append(evs, ev)
	}
	return n, true, evs, nil
}

// mentionedIDs are the distinct ids written @id in content, in order of
// first mention: an '@' at the start or after a character that cannot be
// part of a word or an address (so "ann@example.com" mentions no one),
// then the id's characters, without a trailing '.' or ':' (the end of a
// sentence, "@ann: look").
func mentionedIDs(content string) []string {
	var ids []string
	seen := map[string]bool{}
	for i := 0; i < len(content); i++ {
		if content[i] != '@' || !mentionBoundary(content[:i]) {
			continue
		}
		j := i + 1
		for j < len(content) && idByte(content[j]) {
			j++
		}
		id := strings.TrimRight(content[i+1:j], ".:")
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		i = j - 1
	}
	return ids
}

// idByte reports whether b may be part of an operator's id as a note
// writes it (ids are token subjects: letters, digits, and a few marks;
// '%' and '@' for encoded and address-like subjects).
func idByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("._:+/%@-", b) >= 0
}

// mentionBoundary reports whether an '@' after before starts a mention:
// at the start, or after a space or punctuation that is not an id's
// mark, not after a letter or digit of any script.
func mentionBoundary(before string) bool {
	r, _ := utf8.DecodeLastRuneInString(before)
	switch {
	case before == "":
		return true
	case r < utf8.RuneSelf:
		return !idByte(byte(r))
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// knownOperators keeps the ids of tenant's operators among ids, in
// order; anything else written @… is plain text.
func knownOperators(tx *gorm.DB, tenant string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var known []string
	if err := tx.Raw(`SELECT id FROM users WHERE tenant = ? AND role = ? AND id IN ?`,
		tenant, switchboard.RoleOperator, ids).Scan(&known).Error; err != nil {
		return nil, err
	}
	is := make(map[string]bool, len(known))
	for _, id := range known {
		is[id] = true
	}
	out := ids[:0:0]
	for _, id := range ids {
		if is[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// forgetMentions replaces userID by erasedID in the mentions of tenant's
// notes (an erasure: ForgetHandler).
func forgetMentions(tx *gorm.DB, tenant, userID, erasedID string) error {
	var ns []Note
	if err := tx.Where("tenant = ? AND mentions LIKE ? ESCAPE '!'", tenant, chat.ContainsPattern(userID)).
		Find(&ns).Error; err != nil {
		return err
	}
	for _, n := range ns {
		ids := strings.Fields(n.Mentions)
		for i, id := range ids {
			if id == userID {
				ids[i] = erasedID
			}
		}
		if err := tx.Exec(`UPDATE ticket_notes SET mentions = ? WHERE seq = ?`, strings.Join(ids, " "), n.Seq).Error; err != nil {
			return err
		}
	}
	return nil
}

// deleteNotes erases the notes of tickets ids and the alerts about
// those tickets, in the erasing transaction.
func deleteNotes(tx *gorm.DB, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := tx.Exec(`DELETE FROM ticket_notes WHERE ticket_id IN ?`, ids).Error; err != nil {
		return err
	}
	return alerts.DeleteForTickets(tx, ids)
}

package chat

import (
	"gorm.io/gorm"
)

// Forgetting: what retention and data-protection requests (package
// privacy) do to chat's tables, kept here so that chat's statements stay
// chat's. Each runs in the caller's transaction.

// DeleteSessions deletes sessions and everything in them: their messages,
// read receipts, members and the request keys that name them or their
// messages.
func (st Store) DeleteSessions(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return execAll(st.db, []statement{
		{`DELETE FROM chat_request_keys WHERE target_id IN ? OR target_id IN (SELECT id FROM messages WHERE session_id IN ?)`,
			[]any{ids, ids}},
		{`DELETE FROM message_reads WHERE session_id IN ?`, []any{ids}},
		{`DELETE FROM messages WHERE session_id IN ?`, []any{ids}},
		{`DELETE FROM chat_members WHERE session_id IN ?`, []any{ids}},
		{`DELETE FROM chat_sessions WHERE id IN ?`, []any{ids}},
	})
}

// statement is one SQL statement and its arguments.
type statement struct {
	sql  string
	args []any
}

// execAll runs statements in order and stops at the first error.
func execAll(db *gorm.DB, statements []statement) error {
	for _, q := range statements {
		if err := db.Exec(q.sql, q.args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// AnonymiseSession keeps a session's messages, their times, senders and
// receipts, and drops what was said: every user message's content becomes
// text (an image becomes text too), its metadata goes, the session's
// title and description go, and the name of userID (the person whose
// details are dropped) is wiped from the messages it sent or received.
// System notifications stay: Switchboard wrote them about its operators'
// actions.
func (st Store) AnonymiseSession(sessionID, userID, text string) error {
	return execAll(st.db, []statement{
		{`UPDATE messages SET content = ?, type = ?, encoding = 'utf-8', metadata = '' WHERE session_id = ? AND kind = ?`,
			[]any{text, TypeText, sessionID, KindUser}},
		{`UPDATE messages SET sender_name = '' WHERE session_id = ? AND sender_id = ?`, []any{sessionID, userID}},
		{`UPDATE messages SET recipient_name = '' WHERE session_id = ? AND recipient_id = ?`, []any{sessionID, userID}},
		{`UPDATE chat_sessions SET title = '', description = '' WHERE id = ?`, []any{sessionID}},
	})
}

// ForgetUser erases a user of tenant from the conversations it leaves
// behind (sessions that are deleted are the caller's business): its
// messages there are anonymised (content text, sent by erasedID with no
// name), messages to it are addressed to erasedID with no name, sessions
// it created are erasedID's, and its read receipts, memberships and
// request keys go, and finally its user row. It reports whether the user existed.
func (st Store) ForgetUser(tenant, userID, erasedID, text string) (bool, error) {
	if err := execAll(st.db, []statement{
		{`UPDATE messages SET content = ?, type = ?, encoding = 'utf-8', metadata = '', sender_id = ?, sender_name = ''
			WHERE tenant = ? AND sender_id = ?`, []any{text, TypeText, erasedID, tenant, userID}},
		{`UPDATE messages SET recipient_id = ?, recipient_name = '' WHERE tenant = ? AND recipient_id = ?`,
			[]any{erasedID, tenant, userID}},
		{`DELETE FROM message_reads WHERE user_id = ? AND session_id IN (SELECT id FROM chat_sessions WHERE tenant = ?)`,
			[]any{userID, tenant}},
		{`DELETE FROM chat_members WHERE user_id = ? AND session_id IN (SELECT id FROM chat_sessions WHERE tenant = ?)`,
			[]any{userID, tenant}},
		{`DELETE FROM chat_request_keys WHERE tenant = ? AND user_id = ?`, []any{tenant, userID}},
		{`UPDATE chat_sessions SET creator_id = ? WHERE tenant = ? AND creator_id = ?`, []any{erasedID, tenant, userID}},
	}); err != nil {
		return false, err
	}
	res := st.db.Exec(`DELETE FROM users WHERE tenant = ? AND id = ?`, tenant, userID)
	return res.RowsAffected > 0, res.Error
}

// UserData is what chat holds about one user beyond the sessions the
// caller exports whole: its memberships, the messages it sent elsewhere,
// and its read receipts. Messages others sent it elsewhere are theirs
// and stay out.
type UserData struct {
	Memberships []Member
	Messages    []Message
	Reads       []Receipt
}

// UserDataOf reads what chat holds about userID of tenant outside the
// sessions listed in except (exported whole by the caller).
func (st Store) UserDataOf(tenant, userID string, except []string) (UserData, error) {
	var d UserData
	except = append(except, "") // IN () is not SQL
	if err := st.db.Where(`user_id = ? AND session_id NOT IN ? AND session_id IN (SELECT id FROM chat_sessions WHERE tenant = ?)`,
		userID, except, tenant).Order("session_id").Find(&d.Memberships).Error; err != nil {
		return d, err
	}
	if err := st.db.Where(`tenant = ? AND sender_id = ? AND session_id NOT IN ?`, tenant, userID, except).Order("seq").Find(&d.Messages).Error; err != nil {
		return d, err
	}
	err := st.db.Where(`user_id = ? AND session_id IN (SELECT id FROM chat_sessions WHERE tenant = ?)`, userID, tenant).
		Order("seq").Find(&d.Reads).Error
	return d, err
}

// WipeProfileIfIdle empties the profile of the end user userID of tenant
// (its names, email, date of birth, gender, location and status message)
// if it was neither seen nor updated after cutoff (Unix ms), and reports
// whether it did. The row stays: it is the account, which signs in again
// with an empty profile.
func (st Store) WipeProfileIfIdle(tenant, userID string, cutoff int64) (bool, error) {
	res := st.db.Exec(`UPDATE users SET full_name = '', username = '', salutation = '', gender = '', dob = '',
		email = '', latitude = NULL, longitude = NULL, status_message = ''
		WHERE tenant = ? AND id = ? AND role = ? AND last_seen <= ? AND updated_at <= ?`,
		tenant, userID, "user", cutoff, cutoff)
	return res.RowsAffected > 0, res.Error
}

package visitors

import (
	"strings"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// Record is what Switchboard holds about a visitor it issued tokens for
// (for a data-protection request, package privacy): its row and its
// refresh credentials, whose hashes stay out.
type Record struct {
	ID          string
	Subject     string
	Name        string
	Email       string
	CreatedAt   int64
	SeenAt      int64
	Credentials []Credential
}

// Credential is one refresh credential of a visitor, without its hash.
type Credential struct {
	Family    string
	CreatedAt int64
	ExpiresAt int64
	UsedAt    int64
}

// subjectOf is the token subject whose user id is userID (the inverse of
// switchboard.SubjectUserID), or false for an id no subject has (a
// program's end user).
func subjectOf(userID string) (string, bool) {
	if strings.Contains(userID, "/") {
		return "", false
	}
	sub := strings.NewReplacer("%2F", "/", "%25", "%").Replace(userID)
	return sub, switchboard.SubjectUserID(sub) == userID
}

// RecordsOf returns the visitor records of the user userID of tenant: one
// at most, none for a user who is not a visitor.
func RecordsOf(db *gorm.DB, tenant, userID string) ([]Record, error) {
	sub, ok := subjectOf(userID)
	if !ok {
		return nil, nil
	}
	var rows []struct {
		ID, Subject, Name, Email string
		CreatedAt, SeenAt        int64
	}
	if err := db.Raw(`SELECT id, subject, name, email, created_at, seen_at FROM visitors WHERE tenant = ? AND subject = ?`,
		tenant, sub).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(rows))
	for _, r := range rows {
		rec := Record{ID: r.ID, Subject: r.Subject, Name: r.Name, Email: r.Email, CreatedAt: r.CreatedAt, SeenAt: r.SeenAt}
		if err := db.Raw(`SELECT family, created_at, expires_at, used_at FROM visitor_refresh_tokens WHERE visitor_id = ?
			ORDER BY created_at`, r.ID).Scan(&rec.Credentials).Error; err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// Forget deletes the visitor records of userID of tenant and their
// refresh credentials, so that nobody renews its tokens again; its access
// tokens still live out their minutes. It returns how many visitors it
// deleted.
func Forget(tx *gorm.DB, tenant, userID string) (int64, error) {
	sub, ok := subjectOf(userID)
	if !ok {
		return 0, nil
	}
	if err := tx.Exec(`DELETE FROM visitor_refresh_tokens WHERE visitor_id IN
		(SELECT id FROM visitors WHERE tenant = ? AND subject = ?)`, tenant, sub).Error; err != nil {
		return 0, err
	}
	res := tx.Exec(`DELETE FROM visitors WHERE tenant = ? AND subject = ?`, tenant, sub)
	return res.RowsAffected, res.Error
}

// WipeDetails empties the name and email of the visitor record of userID
// of tenant, if it has one; the record and its credentials stay.
func WipeDetails(tx *gorm.DB, tenant, userID string) error {
	sub, ok := subjectOf(userID)
	if !ok {
		return nil
	}
	return tx.Exec(`UPDATE visitors SET name = '', email = '' WHERE tenant = ? AND subject = ?`, tenant, sub).Error
}

package visitors

import (
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/database"
)

// visitor is one row of visitors.
type visitor struct {
	ID      string
	Subject string
	Name    string
	Email   string
}

// saveVisitor stores v. An anonymous visitor is new by construction; a
// site's user may be known already: its row keeps its id and takes the
// name and email the site sends now.
func saveVisitor(tx *gorm.DB, tenant string, v visitor, now time.Time, anonymous bool) (visitor, error) {
	ms := now.UnixMilli()
	if anonymous {
		_, err := database.Exec(tx, `INSERT INTO visitors (id, tenant, subject, name, email, created_at, seen_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, v.ID, tenant, v.Subject, v.Name, v.Email, ms, ms)
		return v, err
	}
	if _, err := database.Exec(tx, `INSERT INTO visitors (id, tenant, subject, name, email, created_at, seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, subject) DO UPDATE SET name = excluded.name, email = excluded.email, seen_at = excluded.seen_at`,
		v.ID, tenant, v.Subject, v.Name, v.Email, ms, ms); err != nil {
		return v, err
	}
	err := database.QueryRow(tx, `SELECT id FROM visitors WHERE tenant = ? AND subject = ?`, tenant, v.Subject).Scan(&v.ID)
	return v, err
}

func insertRefresh(tx *gorm.DB, hash, visitorID, family string, now, expires time.Time) error {
	_, err := database.Exec(tx, `INSERT INTO visitor_refresh_tokens (hash, visitor_id, family, expires_at, used_at, created_at)
		VALUES (?, ?, ?, ?, 0, ?)`, hash, visitorID, family, expires.UnixMilli(), now.UnixMilli())
	return err
}

// renewal is what one use of a refresh credential came to.
type renewal struct {
	visitor visitor
	// reused: the credential had been used before, and its family is now
	// revoked.
	reused bool
	// unknown: no such credential, or it expired.
	unknown bool
}

// renewOp spends the credential whose hash is old and stores its
// successor (next) in the same family, all in the Op's transaction. A
// credential used before is a copy in other hands (or theirs was the
// first use): every credential of its family is deleted, so neither
// holder renews again. The outcome is in *out; the Op itself fails only
// on a database error, so that the revocation commits.
func renewOp(old, next string, now time.Time, ttl time.Duration, out *renewal) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		*out = renewal{}
		ms := now.UnixMilli()
		var visitorID, family string
		var usedAt, expiresAt int64
		err := database.QueryRow(tx, `SELECT visitor_id, family, used_at, expires_at FROM visitor_refresh_tokens WHERE hash = ?`, old).
			Scan(&visitorID, &family, &usedAt, &expiresAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out.unknown = true
			return nil
		case err != nil:
			return err
		case usedAt != 0:
			out.reused = true
			_, err := database.Exec(tx, `DELETE FROM visitor_refresh_tokens WHERE family = ?`, family)
			return err
		case expiresAt <= ms:
			out.unknown = true
			return nil
		}
		// The condition on used_at makes two nodes racing with one
		// credential spend it once (PostgreSQL re-checks it after the
		// first commits).
		n, err := database.Exec(tx, `UPDATE visitor_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at = 0`, ms, old)
		if err != nil {
			return err
		}
		if n == 0 {
			out.reused = true
			_, err := database.Exec(tx, `DELETE FROM visitor_refresh_tokens WHERE family = ?`, family)
			return err
		}
		// Only the credential just spent is kept beside its successor, to
		// tell a reuse of it: a family holds two rows, not one per renewal.
		if _, err := database.Exec(tx, `DELETE FROM visitor_refresh_tokens WHERE family = ? AND used_at > 0 AND hash <> ?`,
			family, old); err != nil {
			return err
		}
		if err := insertRefresh(tx, next, visitorID, family, now, now.Add(ttl)); err != nil {
			return err
		}
		v := visitor{ID: visitorID}
		if err := database.QueryRow(tx, `SELECT subject, name, email FROM visitors WHERE id = ?`, visitorID).
			Scan(&v.Subject, &v.Name, &v.Email); err != nil {
			return err
		}
		if _, err := database.Exec(tx, `UPDATE visitors SET seen_at = ? WHERE id = ?`, ms, visitorID); err != nil {
			return err
		}
		out.visitor = v
		return nil
	}
}

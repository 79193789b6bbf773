package chat

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/database"
)

// The directory: the users of a tenant, with their status; whom each
// caller may see of them is the directory policy (directory_policy.go).

// UserStatuses are the statuses a user may set. INVISIBLE looks offline
// to everyone else.
var UserStatuses = []string{"AVAILABLE", "BUSY", "CONFERENCE", "INVISIBLE", "AWAY"}

// ValidUserStatus reports whether s is one of UserStatuses.
func ValidUserStatus(s string) bool {
	for _, v := range UserStatuses {
		if v == s {
			return true
		}
	}
	return false
}

// Invisible is the status that looks offline to others.
const Invisible = "INVISIBLE"

// ListUsers lists a tenant's users by id, skipping offset; with ids, only
// those. It also counts them all. scope, when not nil, narrows both to
// the users a caller may see (the directory policy).
func ListUsers(db *gorm.DB, tenant string, scope func(*gorm.DB) *gorm.DB, ids []string, offset, limit int) (out []User, total int64, err error) {
	if scope == nil {
		scope = func(q *gorm.DB) *gorm.DB { return q }
	}
	if err := scope(db.Model(&User{}).Where("tenant = ?", tenant)).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if limit < 0 {
		return []User{}, total, nil
	}
	q := scope(db.Where("tenant = ?", tenant))
	if ids != nil {
		q = q.Where("id IN ?", append(ids, ""))
	}
	q = q.Order("id").Offset(offset)
	if limit > 0 {
		q = q.Limit(limit)
	}
	return out, total, q.Find(&out).Error
}

// FindUsers returns the users of a tenant with the ids given, by id.
func FindUsers(db *gorm.DB, tenant string, ids []string) (map[string]User, error) {
	out := map[string]User{}
	if len(ids) == 0 {
		return out, nil
	}
	var us []User
	if err := db.Where("tenant = ? AND id IN ?", tenant, ids).Find(&us).Error; err != nil {
		return nil, err
	}
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}

// SetUserStatus records a user's status and status message.
func SetUserStatus(tx *gorm.DB, tenant, id, status, message string, now int64) error {
	return tx.Model(&User{}).Where("tenant = ? AND id = ?", tenant, id).
		Updates(map[string]any{"status": status, "status_message": message, "updated_at": now}).Error
}

// SetLastSeen records when a user last came online or went offline.
func SetLastSeen(tx *gorm.DB, tenant, id string, at int64) error {
	_, err := database.Exec(tx, `UPDATE users SET last_seen = ? WHERE tenant = ? AND id = ?`, at, tenant, id)
	return err
}

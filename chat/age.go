package chat

import (
	"time"

	"gorm.io/gorm"
)

// DefaultArchiveAfter is how long a session stays RECENT without an update
// unless starred: the source's seven days.
const DefaultArchiveAfter = 7 * 24 * time.Hour

// AgeOf is a session's age (MESessionAge) for one member: ARCHIVED when the
// member archived it, else RECENT when the member starred it or it was
// updated at or after now-window, else ARCHIVED. updatedAt is the
// session's last update in Unix ms.
//
// The source's two definitions overlap for a session both starred and
// archived; archiving wins, because it is the member saying "put this
// away" while a star only shields the session from ageing.
func AgeOf(starred, archived bool, updatedAt int64, now time.Time, window time.Duration) string {
	switch {
	case archived:
		return AgeArchived
	case starred, updatedAt >= ageCutoff(now, window):
		return AgeRecent
	default:
		return AgeArchived
	}
}

func ageCutoff(now time.Time, window time.Duration) int64 {
	if window <= 0 {
		window = DefaultArchiveAfter
	}
	return now.Add(-window).UnixMilli()
}

// RefreshAges brings every member's stored age (chat_members.age) up to
// date with AgeOf at now, and reports how many memberships changed. It is
// the scheduled job's work: time passing moves sessions from RECENT to
// ARCHIVED without anything being written. window <= 0 means
// DefaultArchiveAfter.
//
// Two set-based statements, each touching only the rows whose age
// changes, so a run with nothing to do writes nothing.
func RefreshAges(tx *gorm.DB, now time.Time, window time.Duration) (changed int64, err error) {
	return refreshAges(tx, now, window, nil)
}

// RefreshSessionAges is RefreshAges for some sessions only: after a
// member stars or archives them, or after a message, so that the stored
// age is right before the next scheduled run.
func RefreshSessionAges(tx *gorm.DB, sessionIDs []string, now time.Time, window time.Duration) (changed int64, err error) {
	if len(sessionIDs) == 0 {
		return 0, nil
	}
	return refreshAges(tx, now, window, sessionIDs)
}

func refreshAges(tx *gorm.DB, now time.Time, window time.Duration, sessionIDs []string) (int64, error) {
	cutoff := ageCutoff(now, window)
	scope := func(q *gorm.DB) *gorm.DB {
		if sessionIDs != nil {
			q = q.Where("session_id IN ?", sessionIDs)
		}
		return q
	}
	toArchived := scope(tx.Model(&Member{}).
		Where("age <> ?", AgeArchived).
		Where("(archived = TRUE OR (starred = FALSE AND session_id IN (SELECT id FROM chat_sessions WHERE updated_at < ?)))", cutoff)).
		Update("age", AgeArchived)
	if toArchived.Error != nil {
		return 0, toArchived.Error
	}
	toRecent := scope(tx.Model(&Member{}).
		Where("age <> ? AND archived = FALSE", AgeRecent).
		Where("(starred = TRUE OR session_id IN (SELECT id FROM chat_sessions WHERE updated_at >= ?))", cutoff)).
		Update("age", AgeRecent)
	return toArchived.RowsAffected + toRecent.RowsAffected, toRecent.Error
}

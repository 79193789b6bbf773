package privacy

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/tickets"
)

// RetentionMode is what retention does to a closed ticket past its time.
type RetentionMode string

const (
	// Anonymise keeps the ticket for statistics without what was said
	// and who said it (tickets.Anonymise).
	Anonymise RetentionMode = "anonymise"
	// Delete deletes the ticket and everything of it (tickets.Delete).
	Delete RetentionMode = "delete"
)

// ParseRetentionMode reads a SWITCHBOARD_RETENTION_MODE value.
func ParseRetentionMode(s string) (RetentionMode, error) {
	switch m := RetentionMode(s); m {
	case Anonymise, Delete:
		return m, nil
	}
	return "", fmt.Errorf("%q: want anonymise or delete", s)
}

// Retain applies retention to up to limit tickets closed for after or
// longer at now, the longest closed first, and returns how many it
// deleted or anonymised. It runs in the caller's transaction (a scheduled
// job's Op). An anonymised ticket is marked in its audit trail, so the
// next run takes the next ones; open and new tickets, and tickets closed
// more recently, are left alone. Runs on two nodes at once wait for each
// other (the automations' lock), so a ticket is anonymised once.
func Retain(tx *gorm.DB, now time.Time, after time.Duration, mode RetentionMode, limit int) (int, error) {
	if err := tickets.OneAtATime(tx, "retention"); err != nil {
		return 0, err
	}
	due, err := tickets.RetentionDue(tx, now.Add(-after).UnixMilli(), limit, mode == Anonymise)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	if mode == Delete {
		ids := make([]string, len(due))
		for i, t := range due {
			ids[i] = t.ID
		}
		return len(ids), tickets.Delete(tx, ids)
	}
	for _, t := range due {
		if err := tickets.Anonymise(tx, t, RemovedText, now.UnixMilli()); err != nil {
			return 0, fmt.Errorf("anonymising ticket %s: %w", t.ID, err)
		}
	}
	return len(due), nil
}

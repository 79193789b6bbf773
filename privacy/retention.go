package privacy

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/tickets"
	"github.com/switchboard-chat/switchboard/visitors"
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
// deleted or anonymised. An owner left with nothing newer loses its
// profile's details too (forgetDormantOwner). It runs in the caller's transaction (a scheduled
// job's Op). An anonymised ticket is marked in its audit trail, so the
// next run takes the next ones; open and new tickets, and tickets closed
// more recently, are left alone. Of two runs on two nodes at once, the one
// without the automations' lock does nothing (the next slot catches up),
// so a ticket is anonymised once.
func Retain(tx *gorm.DB, now time.Time, after time.Duration, mode RetentionMode, limit int) (int, error) {
	if ok, err := tickets.OneAtATime(tx, "retention"); !ok || err != nil {
		return 0, err
	}
	cutoff := now.Add(-after).UnixMilli()
	due, err := tickets.RetentionDue(tx, cutoff, limit, mode == Anonymise)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	if mode == Delete {
		ids := make([]string, len(due))
		for i, t := range due {
			ids[i] = t.ID
		}
		if err := tickets.Delete(tx, ids); err != nil {
			return 0, err
		}
	} else {
		for _, t := range due {
			if err := tickets.Anonymise(tx, t, RemovedText, now.UnixMilli()); err != nil {
				return 0, fmt.Errorf("anonymising ticket %s: %w", t.ID, err)
			}
		}
	}
	done := map[[2]string]bool{}
	for _, t := range due {
		if owner := [2]string{t.Tenant, t.OwnerID}; !done[owner] {
			done[owner] = true
			if err := forgetDormantOwner(tx, t.Tenant, t.OwnerID, cutoff); err != nil {
				return 0, fmt.Errorf("forgetting the details of %s: %w", t.OwnerID, err)
			}
		}
	}
	return len(due), nil
}

// forgetDormantOwner wipes the profile (names, email, …) and visitor
// record details of an owner retention has left with nothing newer: no
// ticket open or closed after cutoff, and neither seen nor updated since.
// An owner still active keeps them: they are its account's, not the old
// ticket's.
func forgetDormantOwner(tx *gorm.DB, tenant, ownerID string, cutoff int64) error {
	active, err := tickets.HasTicketsSince(tx, tenant, ownerID, cutoff)
	if err != nil || active {
		return err
	}
	wiped, err := chat.StoreIn(tx).WipeProfileIfIdle(tenant, ownerID, cutoff)
	if err != nil || !wiped {
		return err
	}
	return visitors.WipeDetails(tx, tenant, ownerID)
}

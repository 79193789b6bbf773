package alerts

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Service lists an operator's alerts and marks them read. Each operator
// sees only its own: another's alert is NOT_FOUND.
type Service struct {
	db        *database.DB
	committer *database.Committer
	now       func() int64
}

// NewService returns a Service reading db and writing through committer;
// now (nil: the clock) is the time a read is recorded at, Unix ms.
func NewService(db *database.DB, committer *database.Committer, now func() int64) *Service {
	if now == nil {
		now = func() int64 { return time.Now().UnixMilli() }
	}
	return &Service{db: db, committer: committer, now: now}
}

// Page selects one page of List.
type Page struct {
	UnreadOnly bool
	Limit      int    // 0: switchboard.DefaultPageLimit
	Cursor     string // "" is the first page
}

// List is one page of the operator's alerts, newest first, how many of
// its alerts are unread in all, and the next page's cursor ("" on the
// last page).
func (s *Service) List(ctx context.Context, p switchboard.Principal, page Page) (as []Alert, unread int64, next string, err error) {
	if err := mustBeOperator(p); err != nil {
		return nil, 0, "", err
	}
	db := s.db.WithContext(ctx)
	q := db.Where("tenant = ? AND recipient_id = ?", p.Tenant, p.ID)
	if page.UnreadOnly {
		q = q.Where("read_at = 0")
	}
	if page.Cursor != "" {
		var before int64
		if err := switchboard.DecodeCursor(page.Cursor, &before); err != nil {
			return nil, 0, "", err
		}
		q = q.Where("seq < ?", before)
	}
	limit := switchboard.ClampPageLimit(page.Limit)
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&as).Error; err != nil {
		return nil, 0, "", err
	}
	if len(as) > limit {
		as, next = as[:limit], switchboard.EncodeCursor(as[limit-1].Seq)
	}
	err = db.Model(&Alert{}).Where("tenant = ? AND recipient_id = ? AND read_at = 0", p.Tenant, p.ID).Count(&unread).Error
	return as, unread, next, err
}

// Read marks the operator's alert id read and returns it; one already
// read stays as it was. Its other sockets hear alertsRead.
func (s *Service) Read(p switchboard.Principal, id string, done func(Alert, error)) {
	if err := mustBeOperator(p); err != nil {
		done(Alert{}, err)
		return
	}
	var a Alert
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		a = Alert{}
		found := tx.Where("tenant = ? AND recipient_id = ? AND id = ?", p.Tenant, p.ID, id).Limit(1).Find(&a)
		if found.Error != nil {
			return nil, found.Error
		}
		if found.RowsAffected == 0 {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no alert %s", id)
		}
		if a.ReadAt != 0 {
			return nil, nil
		}
		a.ReadAt = s.now()
		if err := tx.Exec(`UPDATE alerts SET read_at = ? WHERE seq = ?`, a.ReadAt, a.Seq).Error; err != nil {
			return nil, err
		}
		return []switchboard.Event{readEvent(p, []string{a.ID})}, nil
	}, func(err error) { done(a, err) })
}

// ReadAll marks every unread alert of the operator read and reports how
// many there were.
func (s *Service) ReadAll(p switchboard.Principal, done func(int, error)) {
	if err := mustBeOperator(p); err != nil {
		done(0, err)
		return
	}
	var ids []string
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		ids = nil
		if err := tx.Raw(`SELECT id FROM alerts WHERE tenant = ? AND recipient_id = ? AND read_at = 0 ORDER BY seq`,
			p.Tenant, p.ID).Scan(&ids).Error; err != nil || len(ids) == 0 {
			return nil, err
		}
		if err := tx.Exec(`UPDATE alerts SET read_at = ? WHERE tenant = ? AND recipient_id = ? AND read_at = 0`,
			s.now(), p.Tenant, p.ID).Error; err != nil {
			return nil, err
		}
		return []switchboard.Event{readEvent(p, ids)}, nil
	}, func(err error) { done(len(ids), err) })
}

// readEvent tells the operator's sockets which alerts are read now, so
// that every tab's count follows.
func readEvent(p switchboard.Principal, ids []string) switchboard.Event {
	return switchboard.Event{Name: "alertsRead", Args: []any{map[string]any{"ids": ids}},
		To: []string{switchboard.OperatorRoom(p.Tenant, p.ID)}}
}

func mustBeOperator(p switchboard.Principal) error {
	if !p.IsOperator() {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only operators have alerts")
	}
	return nil
}

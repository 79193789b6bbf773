package canned

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// Service reads canned responses through the read pool and writes them
// through the Committer. Every method authorizes its principal: only
// operators use canned responses at all.
type Service struct {
	db        *database.DB
	committer *database.Committer
	now       func() time.Time
}

// Options configures a Service. Zero values work.
type Options struct {
	Now func() time.Time
}

// NewService returns the canned responses of db.
func NewService(db *database.DB, committer *database.Committer, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, committer: committer, now: opts.Now}
}

// List returns the tenant's responses, then p's own, each by shortcut.
func (s *Service) List(ctx context.Context, p switchboard.Principal) ([]Response, error) {
	if err := mustBeOperator(p); err != nil {
		return nil, err
	}
	var out []Response
	err := s.db.WithContext(ctx).
		Where("tenant = ? AND (scope = ? OR (scope = ? AND owner_id = ?))", p.Tenant, ScopeTenant, ScopePersonal, p.ID).
		Order("scope DESC, shortcut").Find(&out).Error // "tenant" sorts after "personal"
	return out, err
}

// Create adds a response in scope: the tenant's (supervisors) or p's own.
// A shortcut taken in that scope (and by that owner) is CONFLICT.
func (s *Service) Create(ctx context.Context, p switchboard.Principal, scope Scope, shortcut, text string) (Response, error) {
	if err := mustBeOperator(p); err != nil {
		return Response{}, err
	}
	r := Response{ID: chat.NewID(), Tenant: p.Tenant, Scope: scope, Shortcut: shortcut, Text: text}
	switch scope {
	case ScopeTenant:
	case ScopePersonal:
		r.OwnerID = p.ID
	default:
		return r, invalid("scope must be tenant or personal")
	}
	if !mayManage(p, r) {
		return r, switchboard.Errorf(switchboard.EFORBIDDEN, "only supervisors manage the tenant's canned responses")
	}
	if err := checkShortcut(shortcut); err != nil {
		return r, err
	}
	if err := checkText(text); err != nil {
		return r, err
	}
	r.CreatedAt = s.now().UnixMilli()
	r.UpdatedAt = r.CreatedAt
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		// The unique index settles two nodes creating one shortcut at once.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
		if res.Error == nil && res.RowsAffected == 0 {
			return nil, taken(shortcut)
		}
		return nil, res.Error
	})
	return r, err
}

// Change sets a response's shortcut and/or text (nil: unchanged); its
// scope and owner stay. Who may create it may change it; a response p
// does not see is NOT_FOUND.
func (s *Service) Change(ctx context.Context, p switchboard.Principal, id string, shortcut, text *string) (Response, error) {
	if err := mustBeOperator(p); err != nil {
		return Response{}, err
	}
	if shortcut != nil {
		if err := checkShortcut(*shortcut); err != nil {
			return Response{}, err
		}
	}
	if text != nil {
		if err := checkText(*text); err != nil {
			return Response{}, err
		}
	}
	now := s.now().UnixMilli()
	var r Response
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		var err error
		if r, err = s.managed(tx, p, id); err != nil {
			return nil, err
		}
		if shortcut != nil && *shortcut != r.Shortcut {
			var n int64
			if err := tx.Model(&Response{}).Where("tenant = ? AND scope = ? AND owner_id = ? AND shortcut = ?",
				r.Tenant, r.Scope, r.OwnerID, *shortcut).Count(&n).Error; err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, taken(*shortcut)
			}
			r.Shortcut = *shortcut
		}
		if text != nil {
			r.Text = *text
		}
		r.UpdatedAt = now
		return nil, tx.Model(&Response{}).Where("id = ?", r.ID).
			Updates(map[string]any{"shortcut": r.Shortcut, "text": r.Text, "updated_at": now}).Error
	})
	return r, err
}

// Delete removes a response; who may change it may delete it.
func (s *Service) Delete(ctx context.Context, p switchboard.Principal, id string) error {
	if err := mustBeOperator(p); err != nil {
		return err
	}
	return s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		r, err := s.managed(tx, p, id)
		if err != nil {
			return nil, err
		}
		return nil, tx.Where("id = ?", r.ID).Delete(&Response{}).Error
	})
}

// managed loads a response p may change: one p does not see is NOT_FOUND
// (another operator's personal response is not probed), one p sees but
// may not change (the tenant's, for an operator) FORBIDDEN.
func (s *Service) managed(tx *gorm.DB, p switchboard.Principal, id string) (Response, error) {
	var rs []Response
	if err := tx.Where("id = ? AND tenant = ?", id, p.Tenant).Limit(1).Find(&rs).Error; err != nil {
		return Response{}, err
	}
	if len(rs) == 0 || !visibleTo(p, rs[0]) {
		return Response{}, switchboard.Errorf(switchboard.ENOTFOUND, "no canned response %s", clip(id))
	}
	if !mayManage(p, rs[0]) {
		return Response{}, switchboard.Errorf(switchboard.EFORBIDDEN, "only supervisors manage the tenant's canned responses")
	}
	return rs[0], nil
}

func taken(shortcut string) error {
	return switchboard.Errorf(switchboard.ECONFLICT, "the shortcut %q is taken", shortcut)
}

// clip shortens an id for an error message: a client may send anything.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

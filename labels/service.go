package labels

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// Service reads labels through the read pool and writes them through the
// Committer. Operators read them; supervisors (and administrators)
// create, change and delete them.
type Service struct {
	db        *database.DB
	committer *database.Committer
	opts      Options
}

// Options configures a Service. Zero values work.
type Options struct {
	Now func() time.Time
	// OpenCounts, when set, counts the new or open tickets carrying each
	// label of a tenant (tickets.Service.OpenLabelCounts): the tickets
	// own that relation, so the count is theirs to make.
	OpenCounts func(ctx context.Context, tenant string) (map[string]int, error)
	// Removed, when set, runs inside the transaction that deletes a label:
	// it takes the label off every ticket and returns the events that say
	// so (tickets.DropLabel), so no ticket keeps a label that is gone.
	Removed func(tx *gorm.DB, by switchboard.Principal, label string, now int64) ([]switchboard.Event, error)
}

// NewService returns the labels of db.
func NewService(db *database.DB, committer *database.Committer, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, committer: committer, opts: opts}
}

// List returns the tenant's labels by name, with their open counts.
// Operators only.
func (s *Service) List(ctx context.Context, p switchboard.Principal) ([]Label, error) {
	if !p.IsOperator() {
		return nil, switchboard.Errorf(switchboard.EFORBIDDEN, "labels are for operators")
	}
	var out []Label
	if err := s.db.WithContext(ctx).Where("tenant = ?", p.Tenant).Order("name, id").Find(&out).Error; err != nil {
		return nil, err
	}
	if s.opts.OpenCounts == nil || len(out) == 0 {
		return out, nil
	}
	counts, err := s.opts.OpenCounts(ctx, p.Tenant)
	for i := range out {
		out[i].OpenCount = counts[out[i].ID]
	}
	return out, err
}

// Create adds a label; a name the tenant has already is CONFLICT.
func (s *Service) Create(ctx context.Context, p switchboard.Principal, name, color string) (Label, error) {
	if err := mustSupervise(p); err != nil {
		return Label{}, err
	}
	if err := checkName(name); err != nil {
		return Label{}, err
	}
	if err := checkColor(color); err != nil {
		return Label{}, err
	}
	now := s.opts.Now().UnixMilli()
	l := Label{ID: chat.NewID(), Tenant: p.Tenant, Name: name, Color: color, CreatedAt: now, UpdatedAt: now}
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		// The unique index settles two nodes creating one name at once.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&l)
		if res.Error == nil && res.RowsAffected == 0 {
			return nil, nameTaken(name)
		}
		return nil, res.Error
	})
	return l, err
}

// Change renames and/or recolours a label (nil: unchanged).
func (s *Service) Change(ctx context.Context, p switchboard.Principal, id string, name, color *string) (Label, error) {
	if err := mustSupervise(p); err != nil {
		return Label{}, err
	}
	if name != nil {
		if err := checkName(*name); err != nil {
			return Label{}, err
		}
	}
	if color != nil {
		if err := checkColor(*color); err != nil {
			return Label{}, err
		}
	}
	now := s.opts.Now().UnixMilli()
	var l Label
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		var found bool
		var err error
		if l, found, err = Find(tx, p.Tenant, id); err != nil || !found {
			if err == nil {
				err = noLabel(id)
			}
			return nil, err
		}
		if name != nil && *name != l.Name {
			var n int64
			if err := tx.Model(&Label{}).Where("tenant = ? AND name = ?", p.Tenant, *name).Count(&n).Error; err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, nameTaken(*name)
			}
			l.Name = *name
		}
		if color != nil {
			l.Color = *color
		}
		l.UpdatedAt = now
		return nil, tx.Model(&Label{}).Where("id = ?", l.ID).
			Updates(map[string]any{"name": l.Name, "color": l.Color, "updated_at": now}).Error
	})
	return l, err
}

// Delete removes a label and takes it off every ticket in the same
// transaction (Options.Removed).
func (s *Service) Delete(ctx context.Context, p switchboard.Principal, id string) error {
	if err := mustSupervise(p); err != nil {
		return err
	}
	now := s.opts.Now().UnixMilli()
	return s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		res := tx.Where("tenant = ? AND id = ?", p.Tenant, id).Delete(&Label{})
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 {
			return nil, noLabel(id)
		}
		if s.opts.Removed == nil {
			return nil, nil
		}
		return s.opts.Removed(tx, p, id, now)
	})
}

// Find loads label id of tenant from db (a transaction or the read pool).
func Find(db *gorm.DB, tenant, id string) (Label, bool, error) {
	var ls []Label
	err := db.Where("tenant = ? AND id = ?", tenant, id).Limit(1).Find(&ls).Error
	if err != nil || len(ls) == 0 {
		return Label{}, false, err
	}
	return ls[0], true, nil
}

// MustExist is NOT_FOUND unless tenant has label id: what a ticket's
// labelling checks, in its own transaction.
func MustExist(tx *gorm.DB, tenant, id string) error {
	_, found, err := Find(tx, tenant, id)
	if err == nil && !found {
		err = noLabel(id)
	}
	return err
}

func nameTaken(name string) error {
	return switchboard.Errorf(switchboard.ECONFLICT, "a label named %q exists", name)
}

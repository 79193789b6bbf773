package hours

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// row is one stored schedule.
type row struct {
	Tenant    string `gorm:"column:tenant;primaryKey"`
	Team      string `gorm:"column:team;primaryKey"`
	Schedule  string `gorm:"column:schedule"`
	UpdatedBy string `gorm:"column:updated_by"`
	UpdatedAt int64  `gorm:"column:updated_at"`
}

func (row) TableName() string { return "business_hours" }

// find loads the schedule stored for exactly (tenant, team).
func find(ctx context.Context, db *gorm.DB, tenant, team string) (Schedule, bool, error) {
	var rows []row
	err := db.WithContext(ctx).Where("tenant = ? AND team = ?", tenant, team).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Schedule{}, false, err
	}
	s, err := decode(rows[0].Schedule)
	return s, err == nil, err
}

// effective is the schedule a team follows: its own, else its tenant's;
// found=false when neither is stored (always open).
func effective(ctx context.Context, db *gorm.DB, tenant, team string) (Schedule, bool, error) {
	var rows []row
	err := db.WithContext(ctx).Where("tenant = ? AND team IN ?", tenant, []string{team, ""}).
		Order("team DESC").Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Schedule{}, false, err
	}
	s, err := decode(rows[0].Schedule)
	return s, err == nil, err
}

func save(tx *gorm.DB, r row) error {
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant"}, {Name: "team"}},
		DoUpdates: clause.AssignmentColumns([]string{"schedule", "updated_by", "updated_at"}),
	}).Create(&r).Error
}

func remove(tx *gorm.DB, tenant, team string) (bool, error) {
	res := tx.Where("tenant = ? AND team = ?", tenant, team).Delete(&row{})
	return res.RowsAffected > 0, res.Error
}

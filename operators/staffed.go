package operators

import (
	"context"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// Staffed reports whether any operator who could take team's tickets
// (team "": any of tenant's; else the team's members, as routing gives
// them) is online (subscribed, on this node, as routing counts them) and
// AVAILABLE: someone could answer a visitor now.
func (r *Roster) Staffed(ctx context.Context, tenant, team string) (bool, error) {
	q := r.db.WithContext(ctx).Model(&chat.User{}).
		Where("tenant = ? AND role = ? AND status = ?", tenant, string(switchboard.RoleOperator), "AVAILABLE")
	if team != "" {
		q = q.Where("id IN (?)", r.db.Model(&memberRow{}).Select("operator_id").
			Where("tenant = ? AND team_id = ?", tenant, team))
	}
	var ids []string
	if err := q.Pluck("id", &ids).Error; err != nil {
		return false, err
	}
	for _, id := range ids {
		if r.presence.Online(tenant, id) {
			return true, nil
		}
	}
	return false, nil
}

package operators

import (
	"context"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
)

// Staffed reports whether any operator of tenant is online (subscribed,
// on this node, as routing counts them) and AVAILABLE: someone could
// answer a visitor now.
func (r *Roster) Staffed(ctx context.Context, tenant string) (bool, error) {
	var ids []string
	err := r.db.WithContext(ctx).Model(&chat.User{}).
		Where("tenant = ? AND role = ? AND status = ?", tenant, string(switchboard.RoleOperator), "AVAILABLE").
		Pluck("id", &ids).Error
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if r.presence.Online(tenant, id) {
			return true, nil
		}
	}
	return false, nil
}

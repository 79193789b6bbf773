package privacy

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/operators"
	"github.com/switchboard-chat/switchboard/tickets"
	"github.com/switchboard-chat/switchboard/visitors"
)

// Writer runs one Op in a transaction and publishes its events after the
// commit (database.Committer).
type Writer interface {
	Run(ctx context.Context, op database.Op) error
}

// Options configures a Service; zero values work.
type Options struct {
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service answers data-protection requests: an administrator of a tenant
// exports or erases everything Switchboard holds about one user of that
// tenant. Nothing of another tenant is ever read or changed. Each request
// is one transaction and leaves a data_requests row and a log line.
type Service struct {
	w   Writer
	now func() time.Time
	log *slog.Logger
}

// NewService returns the service, writing through w.
func NewService(w Writer, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{w: w, now: opts.Now, log: opts.Logger}
}

// Request kinds, as data_requests records them.
const (
	KindExport = "export"
	KindErase  = "erase"
)

// administrator refuses anyone but an administrator of its tenant.
func administrator(p switchboard.Principal) error {
	if !p.IsOperator() || !p.Admin {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only an administrator answers data-protection requests")
	}
	return nil
}

// Export returns everything Switchboard holds about userID in the
// caller's tenant (Data). An unknown user is NOT_FOUND.
func (s *Service) Export(ctx context.Context, p switchboard.Principal, userID string) (Data, error) {
	if err := administrator(p); err != nil {
		return Data{}, err
	}
	var d Data
	err := s.w.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		var err error
		if d, err = collect(tx, p.Tenant, userID); err != nil {
			return nil, err
		}
		d.ExportedAt = chat.FormatMillis(s.now().UnixMilli())
		return nil, record(tx, p, userID, KindExport, d.counts(), s.now())
	})
	if err == nil {
		s.log.Info("data-protection export", "tenant", p.Tenant, "user", userID, "by", p.ID)
	}
	return d, err
}

// Erased is what an erasure came to.
type Erased struct {
	UserID          string `json:"userId"`
	TicketsDeleted  int    `json:"ticketsDeleted"`
	VisitorsDeleted int64  `json:"visitorsDeleted"`
}

// Erase forgets userID in the caller's tenant, in one transaction: the
// tickets it owns are deleted with their conversations
// (tickets.Delete); in what others keep (their conversations, tickets it
// handled, audit trails) it becomes ErasedUserID and its messages
// RemovedText; its read receipts, memberships, user row, visitor records
// and refresh credentials go. Its connected sockets are disconnected
// after the commit. An unknown user is NOT_FOUND.
func (s *Service) Erase(ctx context.Context, p switchboard.Principal, userID string) (Erased, error) {
	if err := administrator(p); err != nil {
		return Erased{}, err
	}
	out := Erased{UserID: userID}
	err := s.w.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		out = Erased{UserID: userID}
		found, err := erase(tx, p.Tenant, userID, &out)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no user %s", userID)
		}
		counts := map[string]int64{"ticketsDeleted": int64(out.TicketsDeleted), "visitorsDeleted": out.VisitorsDeleted}
		if err := record(tx, p, userID, KindErase, counts, s.now()); err != nil {
			return nil, err
		}
		return disconnectEvents(p.Tenant, userID), nil
	})
	if err == nil {
		s.log.Info("data-protection erasure", "tenant", p.Tenant, "user", userID, "by", p.ID,
			"tickets", out.TicketsDeleted, "visitors", out.VisitorsDeleted)
	}
	return out, err
}

// erase is Erase's work; found says whether the user was there at all.
func erase(tx *gorm.DB, tenant, userID string, out *Erased) (found bool, err error) {
	owned, err := tickets.OwnedBy(tx, tenant, userID)
	if err != nil {
		return false, err
	}
	ids := make([]string, len(owned))
	for i, t := range owned {
		ids[i] = t.ID
	}
	if err := tickets.Delete(tx, ids); err != nil {
		return false, err
	}
	out.TicketsDeleted = len(ids)
	if err := tickets.ForgetHandler(tx, tenant, userID, ErasedUserID); err != nil {
		return false, err
	}
	if err := operators.ForgetMember(tx, tenant, userID); err != nil {
		return false, err
	}
	hadRow, err := chat.StoreIn(tx).ForgetUser(tenant, userID, ErasedUserID, RemovedText)
	if err != nil {
		return false, err
	}
	if out.VisitorsDeleted, err = visitors.Forget(tx, tenant, userID); err != nil {
		return false, err
	}
	return hadRow || len(ids) > 0 || out.VisitorsDeleted > 0, nil
}

// disconnectEvents disconnect every socket of an erased user on both
// protocols: whatever it shows was erased, and a reconnect starts afresh.
func disconnectEvents(tenant, userID string) []switchboard.Event {
	return []switchboard.Event{
		{Name: switchboard.EventDisconnect, To: []string{switchboard.UserRoom(tenant, userID), switchboard.OperatorRoom(tenant, userID)}},
		{Protocol: switchboard.ProtocolChat, Name: switchboard.EventDisconnect, To: []string{switchboard.ChatUserRoom(tenant, userID)}},
	}
}

// record writes the request's data_requests row.
func record(tx *gorm.DB, p switchboard.Principal, userID, kind string, counts map[string]int64, now time.Time) error {
	summary, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO data_requests (tenant, subject_id, kind, actor_id, summary, at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.Tenant, userID, kind, p.ID, string(summary), now.UnixMilli()).Error
}

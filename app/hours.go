package app

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/hours"
	"github.com/switchboard-chat/switchboard/mail"
	"github.com/switchboard-chat/switchboard/operators"
	"github.com/switchboard-chat/switchboard/tickets"
)

// MailSettings are email: where it goes through, and where offline
// tickets are announced when the business hours name no address.
type MailSettings struct {
	// SMTPURL is SWITCHBOARD_SMTP_URL; empty turns email off.
	SMTPURL string
	// OfflineEmailTo is SWITCHBOARD_OFFLINE_EMAIL_TO.
	OfflineEmailTo string
}

func (m *MailSettings) load(str func(*string, setting, string)) {
	str(&m.SMTPURL, setting{"smtp-url", "SWITCHBOARD_SMTP_URL", "where email goes: smtp://user:pass@host:port?from=support@example.com (STARTTLS when offered), starttls:// (required) or smtps:// (TLS); empty = no email"}, "")
	str(&m.OfflineEmailTo, setting{"offline-email-to", "SWITCHBOARD_OFFLINE_EMAIL_TO", "address told of tickets left while the team was offline, unless the business hours name one"}, "")
}

func (m MailSettings) check() error {
	if m.SMTPURL != "" {
		if _, err := mail.ParseURL(m.SMTPURL); err != nil {
			return fmt.Errorf("SWITCHBOARD_SMTP_URL: %w", err)
		}
	}
	if m.OfflineEmailTo != "" {
		if _, err := mail.Address(m.OfflineEmailTo); err != nil {
			return fmt.Errorf("SWITCHBOARD_OFFLINE_EMAIL_TO: %w", err)
		}
	}
	return nil
}

// outbox is the mail outbox, or nil when email is off.
func (a *App) outbox() *mail.Outbox {
	if a.cfg.Mail.SMTPURL == "" {
		return nil
	}
	cfg, _ := mail.ParseURL(a.cfg.Mail.SMTPURL) // checked by Load
	return mail.NewOutbox(mail.NewSMTP(cfg), mail.OutboxOptions{Logger: a.log})
}

// businessHours is the hours service; a team is staffed by its members.
func (a *App) businessHours(db *database.DB, committer *database.Committer, roster *operators.Roster) *hours.Service {
	return hours.NewService(db, committer, hours.Options{Staffed: roster.Staffed, OfflineEmailTo: a.cfg.Mail.OfflineEmailTo})
}

// offlineAddress is where an offline ticket of team is announced: the
// team's own address (PUT /api/v1/teams/{id}), else what the business
// hours name (hours.Service.OfflineAddress).
func offlineAddress(db *database.DB, h *hours.Service) func(ctx context.Context, tenant, team string) (string, error) {
	return func(ctx context.Context, tenant, team string) (string, error) {
		if team != "" {
			t, found, err := operators.FindTeam(db.WithContext(ctx), tenant, team)
			if err != nil {
				return "", err
			}
			if found && t.Email != "" {
				return t.Email, nil
			}
		}
		return h.OfflineAddress(ctx, tenant, team)
	}
}

// ticketEmails sends the email of offline tickets and transcripts.
func ticketEmails(db *database.DB, outbox *mail.Outbox, h *hours.Service, a *App) *tickets.Emails {
	available := func(ctx context.Context, tenant, team string) (bool, error) {
		av, err := h.Availability(ctx, tenant, team)
		return av.Open, err
	}
	return tickets.NewEmails(db, outbox, tickets.EmailOptions{OfflineAddress: offlineAddress(db, h),
		Available: available, Logger: a.log})
}

// closeMail sends what is queued for a few seconds, then gives up.
func (a *App) closeMail() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.mail.Close(ctx)
}

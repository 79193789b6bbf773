package app

import (
	"fmt"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/webhooks"
)

// WebhookSettings are the settings of programs' webhooks (package
// webhooks, docs/events.md § Webhooks).
type WebhookSettings struct {
	// Mode is "on" (programs may register webhooks; every change about a
	// program is checked against them in its transaction) or "off".
	Mode string
	// MaxFailures parks an endpoint after that many failed deliveries in
	// a row.
	MaxFailures int
}

// On says webhooks are on.
func (w WebhookSettings) On() bool { return w.Mode == "on" }

// load binds the settings with Load's helpers.
func (w *WebhookSettings) load(str func(*string, setting, string), num func(*int, setting, int)) {
	str(&w.Mode, setting{"webhooks", "SWITCHBOARD_WEBHOOKS", "programs' webhooks: on (programs register them; their notifications are queued with each change) or off (no endpoint, nothing built or written)"}, "on")
	num(&w.MaxFailures, setting{"webhook-max-failures", "SWITCHBOARD_WEBHOOK_MAX_FAILURES", "failed deliveries in a row after which a webhook is parked (then probed once a minute)"}, 10)
}

func (w WebhookSettings) check() error {
	if w.Mode != "on" && w.Mode != "off" {
		return fmt.Errorf("SWITCHBOARD_WEBHOOKS: on or off, not %q", w.Mode)
	}
	if w.MaxFailures < 1 {
		return fmt.Errorf("SWITCHBOARD_WEBHOOK_MAX_FAILURES must be at least 1, not %d", w.MaxFailures)
	}
	return nil
}

// outboxes writes a change's stream events to each of its outboxes: the
// event stream's and the webhooks' queue, either of which may be off.
type outboxes []database.Outbox

// Active says whether any of them is in use (one without Active always is).
func (o outboxes) Active() bool {
	for _, box := range o {
		if a, ok := box.(interface{ Active() bool }); !ok || a.Active() {
			return true
		}
	}
	return false
}

func (o outboxes) Write(tx *gorm.DB, evs []switchboard.Event) error {
	for _, box := range o {
		if err := box.Write(tx, evs); err != nil {
			return err
		}
	}
	return nil
}

// joinOutboxes is the committer's Outbox: nil when neither is on, so
// that services build no stream event.
func joinOutboxes(boxes ...database.Outbox) database.Outbox {
	var on outboxes
	for _, b := range boxes {
		if b != nil {
			on = append(on, b)
		}
	}
	switch len(on) {
	case 0:
		return nil
	case 1:
		return on[0]
	}
	return on
}

// webhookWriter queues programs' notifications, when webhooks are on.
// Until a webhook is registered it is idle, and changes build nothing for
// it (Writer.Active).
func (a *App) webhookWriter() (database.Outbox, error) {
	if !a.cfg.Webhooks.On() {
		return nil, nil
	}
	a.webhookQueue = webhooks.NewWriter(nil)
	any, err := webhooks.AnyRegistered(a.db)
	a.webhookQueue.SetRegistered(any)
	return a.webhookQueue, err
}

// startWebhooks makes the dispatcher (started by Run), right after the
// committer: the committer's publisher wakes it.
func (a *App) startWebhooks() {
	if a.cfg.Webhooks.On() {
		a.webhooks = webhooks.NewDispatcher(a.db, a.committer, webhooks.Options{
			MaxFailures: a.cfg.Webhooks.MaxFailures, Logger: a.log,
			Delivered: a.metrics.WebhookDelivered, Parked: a.metrics.SetParked,
			Registered: a.webhookQueue.SetRegistered})
	}
}

// webhookAPI serves the programs' webhook endpoints.
func (a *App) webhookAPI(api *echo.Group, verifier switchboard.Verifier) {
	if a.webhooks == nil {
		return
	}
	store := webhooks.NewStore(a.db, a.committer, nil)
	store.OnRegistered(func() {
		a.webhookQueue.SetRegistered(true)
		a.webhooks.Wake()
	})
	webhooks.NewHTTP(store, verifier).Register(api)
}

// stopWebhooks stops delivering; what is queued waits for the next start
// (or another node).
func (a *App) stopWebhooks() {
	if a.webhooks != nil {
		a.webhooks.Stop()
	}
}

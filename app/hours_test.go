package app

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/smtptest"
)

// TestOfflineTicketEmails drives the offline flow over the real server
// with a real SMTP server: outside the business hours a visitor is told
// the team is offline, leaves a ticket with its email address, and the
// address in the hours gets the message; within the hours with nobody
// online it is told that; a ticket marked offline while someone is
// there sends nothing; when the offline ticket closes the visitor gets
// the transcript.
func TestOfflineTicketEmails(t *testing.T) {
	smtp := smtptest.Start(t, "switchboard", "s3cret")
	cfg := testConfig(t, t.TempDir(), testEnv(map[string]string{
		"SWITCHBOARD_SMTP_URL":         "smtp://switchboard:s3cret@" + smtp.Addr + "?from=support@example.com",
		"SWITCHBOARD_OFFLINE_EMAIL_TO": "fallback@example.com"}))
	cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
	n := runNode(t, cfg)
	admin := n.token(t, "operator-1")
	_, g := newVisitor(t, n, "")
	visitor, visitorID := g["access_token"].(string), "visitor:"+g["visitor_id"].(string)

	// Hours with no interval at all: closed now, and never open again.
	if status, body := rest(t, n, "PUT", "/api/v1/hours", admin,
		`{"timeZone": "Europe/Berlin", "weekly": {}, "email": "help@example.com"}`); status != 200 {
		t.Fatalf("PUT /api/v1/hours: %d %v", status, body)
	}
	if status, body := rest(t, n, "PUT", "/api/v1/hours", n.token(t, "operator-2"), `{"timeZone": "UTC"}`); status != 403 {
		t.Fatalf("PUT by an operator who is no administrator: %d %v", status, body)
	}
	if status, body := rest(t, n, "GET", "/api/v1/availability", visitor, ""); status != 200 ||
		!mentions(body, `"open":false`) || !mentions(body, `"reason":"hours"`) {
		t.Fatalf("availability outside hours: %d %v", status, body)
	}

	user, _ := dial(t, n, visitor)
	mustAck(t, user, "subscribe", map[string]any{"userId": visitorID})
	offline := map[string]any{"offline": "true", "email": "ann@example.com", "timeZone": "Europe/Berlin",
		"pageUrl": "https://shop.example.com/cart"}
	mustAck(t, user, "createTicket", "off-1", map[string]any{"ticketId": "off-1", "ticketNm": "Printer on fire",
		"visitorContext": offline})
	mustAck(t, user, "updateMessage", "off-1", "off-m1", map[string]any{"content": "It is smoking.\nWhat now?", "type": 1}, "")
	notice := smtp.Wait(t, "the offline notice", func(m smtptest.Mail) bool { return m.To[0] == "help@example.com" })
	if notice.From != "support@example.com" || notice.Header.Get("Reply-To") != "ann@example.com" ||
		!strings.Contains(notice.Subject, "Printer on fire") || !strings.Contains(notice.Body, "It is smoking.\nWhat now?") ||
		!strings.Contains(notice.Body, "https://shop.example.com/cart") {
		t.Fatalf("the offline notice: %s %v %q\n%s", notice.From, notice.Header, notice.Subject, notice.Body)
	}

	// Within the hours (none now: always) but nobody online, then someone.
	if status, _ := rest(t, n, "DELETE", "/api/v1/hours", admin, ""); status != 200 {
		t.Fatalf("DELETE /api/v1/hours: %d", status)
	}
	if _, body := rest(t, n, "GET", "/api/v1/availability", visitor, ""); !mentions(body, `"reason":"nobody-online"`) {
		t.Fatalf("availability with nobody online: %v", body)
	}
	op, opEv := dial(t, n, admin)
	mustAck(t, op, "subscribeOperator")
	if _, body := rest(t, n, "GET", "/api/v1/availability", visitor, ""); !mentions(body, `"open":true`) {
		t.Fatalf("availability with an operator online: %v", body)
	}
	// A ticket marked offline while the team is there: no notice.
	mustAck(t, user, "createTicket", "off-2", map[string]any{"ticketId": "off-2", "ticketNm": "Not really offline",
		"visitorContext": offline})
	mustAck(t, user, "updateMessage", "off-2", "off-m2", map[string]any{"content": "hello?", "type": 1}, "")

	// The operator answers the offline ticket and closes it: the
	// transcript goes to the visitor, messages in order with names and
	// times in the visitor's zone.
	mustAck(t, op, "acceptTicket", "off-1", map[string]any{}, visitorID)
	mustAck(t, op, "updateMessage", "off-1", "off-m3", map[string]any{"content": "Unplug it, please.", "type": 1}, visitorID)
	mustAck(t, op, "updateTicketStatus", "off-1", map[string]any{}, 10000, visitorID)
	opEv.next(t, "ticketStatusUpdated")
	transcript := smtp.Wait(t, "the transcript", func(m smtptest.Mail) bool { return m.To[0] == "ann@example.com" })
	body := transcript.Body
	first, second := strings.Index(body, "It is smoking."), strings.Index(body, "Unplug it, please.")
	if !strings.Contains(transcript.Subject, "Printer on fire") || first < 0 || second < first ||
		!strings.Contains(body, "Operator One") || !strings.Contains(body, "Europe/Berlin") ||
		!strings.Contains(body, time.Now().In(mustZone(t, "Europe/Berlin")).Format("2006-01-02")) {
		t.Fatalf("the transcript %q:\n%s", transcript.Subject, body)
	}
	// The outbox sends in order: off-2's notice would be here by now.
	for _, m := range smtp.Mails() {
		if strings.Contains(m.Body, "hello?") {
			t.Fatalf("a notice for a ticket left while the team was there: %s", m.Body)
		}
	}
	if len(smtp.Mails()) != 2 {
		t.Fatalf("%d mails, want the notice and the transcript", len(smtp.Mails()))
	}

	// A team's ticket: the team has nobody online (operator-1 is no
	// member), so its own address hears of it, not the tenant's.
	if status, body := rest(t, n, "PUT", "/api/v1/teams/billing", admin,
		`{"name": "Billing", "email": "billing@example.com"}`); status/100 != 2 {
		t.Fatalf("PUT /api/v1/teams/billing: %d %v", status, body)
	}
	if _, body := rest(t, n, "GET", "/api/v1/availability?team=billing", visitor, ""); !mentions(body, `"reason":"nobody-online"`) {
		t.Fatalf("availability of a team with no member online: %v", body)
	}
	mustAck(t, user, "createTicket", "off-3", map[string]any{"ticketId": "off-3", "ticketNm": "Invoice",
		"visitorContext": offline, "team": "billing"})
	mustAck(t, user, "updateMessage", "off-3", "off-m4", map[string]any{"content": "Where is my invoice?", "type": 1}, "")
	teamNotice := smtp.Wait(t, "the team's offline notice", func(m smtptest.Mail) bool { return m.To[0] == "billing@example.com" })
	if !strings.Contains(teamNotice.Body, "Where is my invoice?") {
		t.Fatalf("the team's offline notice:\n%s", teamNotice.Body)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestMailSettings: a bad SMTP URL or offline address stops the server
// at start with the setting's name; none at all is fine (no email).
func TestMailSettings(t *testing.T) {
	for env, want := range map[string]string{
		"SWITCHBOARD_SMTP_URL":         "SWITCHBOARD_SMTP_URL",
		"SWITCHBOARD_OFFLINE_EMAIL_TO": "SWITCHBOARD_OFFLINE_EMAIL_TO",
	} {
		bad := map[string]string{env: "http://mail.example.com"}
		if env == "SWITCHBOARD_OFFLINE_EMAIL_TO" {
			bad[env] = "Team <team@example.com>"
		}
		if _, err := Load("switchboard", nil, testEnv(bad), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%q: %v", env, bad[env], err)
		}
	}
	if _, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_SMTP_URL": "smtp://mail.example.com?from=support@example.com"}), nil); err != nil {
		t.Errorf("smtp://…?from=: %v", err)
	}
	if _, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_SMTP_URL": "smtp://mail.example.com"}), nil); err == nil {
		t.Error("an SMTP URL without a sender was accepted")
	}
}

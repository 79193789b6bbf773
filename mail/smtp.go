// Package mail sends plain-text email through an SMTP server, off the
// path of the commands that cause it: an Outbox takes messages after
// their cause has committed and sends them from its own goroutine, with
// a bounded retry. Switchboard works the same without it (no
// SWITCHBOARD_SMTP_URL): nothing is sent.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Security is how the connection to the SMTP server is protected.
type Security string

const (
	// Opportunistic (smtp://) upgrades with STARTTLS when the server
	// offers it, else sends in the clear (and then never authenticates,
	// except to localhost: net/smtp refuses to send a password in clear).
	Opportunistic Security = "smtp"
	// StartTLS (starttls://) requires the STARTTLS upgrade.
	StartTLS Security = "starttls"
	// ImplicitTLS (smtps://) speaks TLS from the first byte.
	ImplicitTLS Security = "smtps"
)

// Config is where and how to send, read from SWITCHBOARD_SMTP_URL.
type Config struct {
	Security Security
	Host     string
	Port     string
	Username string
	Password string
	// From is the envelope sender and the From header.
	From string
	// Timeout bounds one delivery, connection to QUIT (default 30 s).
	Timeout time.Duration
}

// ParseURL reads smtp://user:pass@host:port?from=support@example.com
// (also starttls:// and smtps://). The port defaults to 25, 587 and 465.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("SMTP URL: %w", err)
	}
	c := Config{Security: Security(strings.ToLower(u.Scheme)), Host: u.Hostname(), Port: u.Port()}
	defaults := map[Security]string{Opportunistic: "25", StartTLS: "587", ImplicitTLS: "465"}
	def, ok := defaults[c.Security]
	switch {
	case !ok:
		return Config{}, fmt.Errorf("SMTP URL: scheme %q: want smtp://, starttls:// or smtps://", u.Scheme)
	case c.Host == "":
		return Config{}, errors.New("SMTP URL: no host (smtp://user:pass@host:port?from=support@example.com)")
	}
	if c.Port == "" {
		c.Port = def
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	c.From = u.Query().Get("from")
	if _, err := Address(c.From); err != nil {
		return Config{}, fmt.Errorf("SMTP URL: from=%q: the sender's address is required, e.g. ?from=support@example.com", c.From)
	}
	return c, nil
}

// Address checks that s is one bare address (no display name, no list,
// nothing that could end a header line) and returns it.
func Address(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > 254 {
		return "", fmt.Errorf("%q is not one plain email address", s)
	}
	return s, nil
}

// SMTP sends each message over a connection of its own: offline notices
// and transcripts are rare, and a fresh connection has no state to lose.
type SMTP struct{ cfg Config }

// NewSMTP returns a sender for cfg.
func NewSMTP(cfg Config) *SMTP {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &SMTP{cfg: cfg}
}

// Send delivers m, or says why not.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	data, err := m.render(s.cfg.From, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := s.secure(c); err != nil {
		return err
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("SMTP authentication: %w", err)
		}
	}
	if err := c.Mail(s.cfg.From); err != nil {
		return err
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	addr := net.JoinHostPort(s.cfg.Host, s.cfg.Port)
	if s.cfg.Security == ImplicitTLS {
		d := tls.Dialer{Config: &tls.Config{ServerName: s.cfg.Host}}
		return d.DialContext(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// secure upgrades the connection as the configuration says.
func (s *SMTP) secure(c *smtp.Client) error {
	if s.cfg.Security == ImplicitTLS {
		return nil
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		return c.StartTLS(&tls.Config{ServerName: s.cfg.Host})
	}
	if s.cfg.Security == StartTLS {
		return fmt.Errorf("SMTP server %s offers no STARTTLS (starttls:// requires it)", s.cfg.Host)
	}
	return nil
}

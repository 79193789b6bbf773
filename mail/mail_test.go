package mail_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/smtptest"
	"github.com/switchboard-chat/switchboard/mail"
)

func TestParseURL(t *testing.T) {
	c, err := mail.ParseURL("smtp://ann:s%40cret@mail.example.com?from=support@example.com")
	if err != nil || c.Security != mail.Opportunistic || c.Host != "mail.example.com" || c.Port != "25" ||
		c.Username != "ann" || c.Password != "s@cret" || c.From != "support@example.com" {
		t.Fatalf("%+v %v", c, err)
	}
	if c, _ := mail.ParseURL("smtps://mail.example.com?from=a@example.com"); c.Port != "465" || c.Security != mail.ImplicitTLS {
		t.Errorf("smtps: %+v", c)
	}
	if c, _ := mail.ParseURL("starttls://mail.example.com:2525?from=a@example.com"); c.Port != "2525" || c.Security != mail.StartTLS {
		t.Errorf("starttls: %+v", c)
	}
	for _, bad := range []string{"http://mail.example.com?from=a@example.com", "smtp://?from=a@example.com",
		"smtp://mail.example.com", "smtp://mail.example.com?from=Ann%20%3Ca@example.com%3E", "smtp://mail.example.com?from=a@example.com%0D%0ABcc:%20b@example.com"} {
		if _, err := mail.ParseURL(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func sender(t *testing.T, srv *smtptest.Server, user, pass string) *mail.SMTP {
	cfg, err := mail.ParseURL("smtp://" + user + ":" + pass + "@" + srv.Addr + "?from=support@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return mail.NewSMTP(cfg)
}

// TestSMTPSends delivers through a real SMTP server with authentication:
// headers, an encoded subject, a UTF-8 body with its lines and a line
// that is only a dot.
func TestSMTPSends(t *testing.T) {
	srv := smtptest.Start(t, "ann", "secret")
	body := "Hello Zoë,\nline two\n.\nthe end " + strings.Repeat("long ", 30)
	err := sender(t, srv, "ann", "secret").Send(context.Background(), mail.Message{To: []string{"zoe@example.com"},
		ReplyTo: "help@example.com", Subject: "Ihre Unterhaltung: Drucker brennt\r\nBcc: evil@example.com", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Wait(t, "the message", func(mail smtptest.Mail) bool { return true })
	if m.From != "support@example.com" || len(m.To) != 1 || m.To[0] != "zoe@example.com" {
		t.Fatalf("envelope %s → %v", m.From, m.To)
	}
	if m.Subject != "Ihre Unterhaltung: Drucker brennt Bcc: evil@example.com" || m.Header.Get("Bcc") != "" {
		t.Errorf("subject %q (a line break in it must not make a header)", m.Subject)
	}
	if m.Header.Get("Reply-To") != "help@example.com" || m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers %v", m.Header)
	}
	if strings.TrimRight(m.Body, "\n") != body {
		t.Errorf("body %q\nwant %q", m.Body, body)
	}
	if err := sender(t, srv, "ann", "wrong").Send(context.Background(), mail.Message{To: []string{"zoe@example.com"}, Subject: "x", Body: "x"}); err == nil {
		t.Error("a wrong password was accepted")
	}
	if err := sender(t, srv, "ann", "secret").Send(context.Background(), mail.Message{To: []string{"zoe@example.com, eve@example.com"}, Body: "x"}); err == nil {
		t.Error("a list in one recipient was accepted")
	}
}

// TestOutboxRetries: a server that refuses twice gets the message on the
// third try; one that never takes it is given up after Attempts; Post
// never blocks and a nil outbox sends nothing.
func TestOutboxRetries(t *testing.T) {
	srv := smtptest.Start(t, "", "")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := mail.NewOutbox(sender(t, srv, "", ""), mail.OutboxOptions{Attempts: 3, Backoff: 20 * time.Millisecond, Logger: log})
	srv.FailNext(2)
	o.Post("first", func(context.Context) ([]mail.Message, error) {
		return []mail.Message{{To: []string{"a@example.com"}, Subject: "first", Body: "1"}}, nil
	})
	srv.Wait(t, "the retried message", func(m smtptest.Mail) bool { return m.Subject == "first" })

	var tries atomic.Int32
	failing := mail.NewOutbox(senderFunc(func(context.Context, mail.Message) error {
		tries.Add(1)
		return errors.New("down")
	}), mail.OutboxOptions{Attempts: 3, Backoff: time.Millisecond, Logger: log})
	failing.Post("doomed", func(context.Context) ([]mail.Message, error) {
		return []mail.Message{{To: []string{"a@example.com"}, Body: "x"}}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failing.Close(ctx)
	if tries.Load() != 3 {
		t.Errorf("%d tries, want 3", tries.Load())
	}
	if failing.Post("late", nil) {
		t.Error("a closed outbox took mail")
	}
	var none *mail.Outbox
	if none.Post("x", nil) {
		t.Error("a nil outbox took mail")
	}
	none.Close(ctx)

	// A sender that hangs does not hold up Post, and Close gives up at
	// its deadline.
	hang := make(chan struct{})
	stuck := mail.NewOutbox(senderFunc(func(ctx context.Context, _ mail.Message) error {
		select {
		case <-hang:
		case <-ctx.Done():
		}
		return ctx.Err()
	}), mail.OutboxOptions{Queue: 2, Logger: log})
	start := time.Now()
	for i := 0; i < 10; i++ {
		stuck.Post("stuck", func(context.Context) ([]mail.Message, error) {
			return []mail.Message{{To: []string{"a@example.com"}, Body: "x"}}, nil
		})
	}
	if time.Since(start) > time.Second {
		t.Error("Post blocked")
	}
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	stuck.Close(short)
	close(hang)
	o.Close(ctx)
}

type senderFunc func(context.Context, mail.Message) error

func (f senderFunc) Send(ctx context.Context, m mail.Message) error { return f(ctx, m) }

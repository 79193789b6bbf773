// Package smtptest runs a real SMTP server in the test's process
// (emersion/go-smtp) that keeps what it receives, so that tests see the
// mail Switchboard sends as a mail server would. Only tests import it.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message as the server received it.
type Mail struct {
	From    string
	To      []string
	Header  mail.Header
	Subject string // decoded
	Body    string // decoded from quoted-printable, LF line ends
	Raw     []byte
}

// Server is a listening SMTP server.
type Server struct {
	Addr string
	// Fail, while above zero, refuses that many more messages (counting
	// down): a server that is briefly unwell.
	mu    sync.Mutex
	fail  int
	auth  [2]string
	mails []Mail
	got   chan struct{}
}

// Start runs a server on a free loopback port until the test ends. With
// user and password set it requires PLAIN authentication with them.
func Start(t testing.TB, user, password string) *Server {
	t.Helper()
	s := &Server{got: make(chan struct{}, 1024), auth: [2]string{user, password}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// FailNext makes the server refuse the next n messages.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.fail = n
	s.mu.Unlock()
}

// Mails is what arrived so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Wait waits until a mail that match accepts has arrived and returns it.
func (s *Server) Wait(t testing.TB, what string, match func(Mail) bool) Mail {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		for _, m := range s.Mails() {
			if match(m) {
				return m
			}
		}
		select {
		case <-s.got:
		case <-deadline:
			t.Fatalf("no mail: %s; got %d others", what, len(s.Mails()))
		}
	}
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (c *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (c *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != c.s.auth[0] || pass != c.s.auth[1] {
			return errors.New("bad credentials")
		}
		c.authed = true
		return nil
	}), nil
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	if c.s.auth[0] != "" && !c.authed {
		return smtp.ErrAuthRequired
	}
	c.from = from
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.fail > 0 {
		c.s.fail--
		return &smtp.SMTPError{Code: 451, Message: "try again later"}
	}
	m := Mail{From: c.from, To: c.to, Raw: raw}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Header = msg.Header
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		m.Body = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	c.s.mails = append(c.s.mails, m)
	select {
	case c.s.got <- struct{}{}:
	default:
	}
	return nil
}

func (c *session) Reset()        { c.from, c.to = "", nil }
func (c *session) Logout() error { return nil }

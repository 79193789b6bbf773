package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
)

// Message is one plain-text email.
type Message struct {
	To      []string
	ReplyTo string // "" = none
	Subject string
	Body    string
}

// render is m as RFC 5322 text: headers from checked addresses only, the
// subject encoded (RFC 2047), the body quoted-printable UTF-8 with CRLF
// line ends. Automatic mail says so (RFC 3834), so that auto-replies
// do not answer it.
func (m Message) render(from string, now time.Time) ([]byte, error) {
	if len(m.To) == 0 {
		return nil, fmt.Errorf("mail: no recipient")
	}
	for _, to := range append([]string{from}, m.To...) {
		if _, err := Address(to); err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
	}
	if m.ReplyTo != "" {
		if _, err := Address(m.ReplyTo); err != nil {
			return nil, fmt.Errorf("mail: reply-to: %w", err)
		}
	}
	var b bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", from)
	header("To", strings.Join(m.To, ", "))
	if m.ReplyTo != "" {
		header("Reply-To", m.ReplyTo)
	}
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(from))
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// oneLine keeps a header value on one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

func messageID(from string) string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	domain := from[strings.LastIndexByte(from, '@')+1:]
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}

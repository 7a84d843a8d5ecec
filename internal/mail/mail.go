package mail

import (
	"context"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one e-mail, rendered: a plain-text body and the same in HTML, sent as
// multipart/alternative. It never carries a secret other than a one-time link.
type Message struct {
	Kind    string // the template it came from, for logs
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer delivers messages. Send returns when the message was handed over (accepted by
// the SMTP server, or written to the outbox); a failure is an error for the caller to log.
type Mailer interface {
	Send(ctx context.Context, m *Message) error
}

// Discard is a Mailer that drops every message.
type Discard struct{}

// Send drops m.
func (Discard) Send(context.Context, *Message) error { return nil }

// build turns m into a MIME message from from, dated at.
func build(from string, m *Message, at time.Time) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(at)
	msg.SetMessageID()
	// Automatic messages: no out-of-office replies (RFC 3834).
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetGenHeader(gomail.HeaderXMailer, "twofold")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP security modes.
const (
	SecuritySTARTTLS = "starttls" // plain connection upgraded with STARTTLS, which must succeed
	SecurityTLS      = "tls"      // TLS from the first byte (SMTPS, usually port 465)
	SecurityNone     = "none"     // no encryption: only for a relay on the same host or network
)

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int    // 0: 587 for starttls and none, 465 for tls
	Security string // starttls (default), tls or none
	Username string // empty: no authentication
	Password string
	From     string // the sender, such as "twofold <no-reply@example.com>"
	// TLSConfig replaces the default (verify the server's certificate for Host); tests
	// use it to trust their own certificate authority.
	TLSConfig *tls.Config
	Timeout   time.Duration // per connection; 0: 15 s
}

// SMTP sends each message over a new connection to an SMTP server.
type SMTP struct {
	cfg  SMTPConfig
	opts []gomail.Option
	now  func() time.Time
}

// NewSMTP checks cfg and returns a mailer for it. It does not connect yet.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: no SMTP host")
	}
	if cfg.From == "" {
		return nil, errors.New("mail: no sender address")
	}
	if cfg.Security == "" {
		cfg.Security = SecuritySTARTTLS
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.Security == SecurityTLS {
			cfg.Port = 465
		}
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout)}
	switch cfg.Security {
	case SecuritySTARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case SecurityTLS:
		opts = append(opts, gomail.WithSSL())
	case SecurityNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("mail: security %q is not starttls, tls or none", cfg.Security)
	}
	if cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(cfg.TLSConfig))
	}
	if cfg.Username != "" {
		// The strongest mechanism the server offers. Over an unencrypted connection
		// only challenge-response mechanisms are used: a password never crosses in clear.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &SMTP{cfg: cfg, opts: opts, now: time.Now}, nil
}

// Send delivers m in one SMTP transaction.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	msg, err := build(s.cfg.From, m, s.now())
	if err != nil {
		return err
	}
	c, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send %q to %s via %s:%d: %w", m.Subject, m.To, s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

package config

import (
	"fmt"
	"net/mail"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/twofold-id/twofold/internal/apperr"
)

// SupportDesk holds the `mail:` and `support:` sections (issue 4). Config embeds it
// inline, so they are top-level sections of the file and cfg.Mail, cfg.Support work.
type SupportDesk struct {
	Mail    Mail    `yaml:"mail"`
	Support Support `yaml:"support"`
}

// Mail is the outgoing mail server. With no host, messages are written as .eml files to
// <data_dir>/outbox and logged, so the embedded default shows every message.
type Mail struct {
	Host     string `yaml:"host"`     // SMTP server; empty: the outbox
	Port     int    `yaml:"port"`     // 0: 587 (starttls, none) or 465 (tls)
	Security string `yaml:"security"` // starttls (also when empty), tls or none
	Username string `yaml:"username"` // empty: no authentication
	Password string `yaml:"password"`
	From     string `yaml:"from"` // sender, such as "twofold <no-reply@example.com>"
}

// Support configures the support desk.
type Support struct {
	// ResetRequiresApproval turns on dual control: an MFA reset requested by one agent
	// happens only when a second agent approves it.
	ResetRequiresApproval bool `yaml:"reset_requires_approval"`
}

// defaultOutboxFrom is the sender of messages written to the outbox when mail.from is empty.
const defaultOutboxFrom = "twofold <no-reply@localhost>"

// SMTPConfigured reports whether mail goes to an SMTP server (else to the outbox).
func (m Mail) SMTPConfigured() bool { return m.Host != "" }

// Sender is mail.from, or a placeholder for the outbox.
func (m Mail) Sender() string {
	if m.From == "" {
		return defaultOutboxFrom
	}
	return m.From
}

// OutboxDir is where messages go without SMTP.
func (c *Config) OutboxDir() string { return filepath.Join(c.DataDir, "outbox") }

// applySupportEnv reads the TWOFOLD_MAIL_* and TWOFOLD_SUPPORT_* variables.
func (c *Config) applySupportEnv(getenv func(string) string) []error {
	var problems []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	m := &c.Mail
	str("TWOFOLD_MAIL_HOST", &m.Host)
	if v := getenv("TWOFOLD_MAIL_PORT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("TWOFOLD_MAIL_PORT: %s is not a whole number", apperr.Quote(v)))
		} else {
			m.Port = n
		}
	}
	str("TWOFOLD_MAIL_SECURITY", &m.Security)
	str("TWOFOLD_MAIL_USERNAME", &m.Username)
	str("TWOFOLD_MAIL_PASSWORD", &m.Password)
	str("TWOFOLD_MAIL_FROM", &m.From)
	if v := getenv("TWOFOLD_SUPPORT_RESET_REQUIRES_APPROVAL"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("TWOFOLD_SUPPORT_RESET_REQUIRES_APPROVAL: %s is not true or false", apperr.Quote(v)))
		} else {
			c.Support.ResetRequiresApproval = b
		}
	}
	return problems
}

// validateSupport reports every invalid mail setting.
func (c *Config) validateSupport() []error {
	var p []error
	bad := func(format string, args ...any) { p = append(p, fmt.Errorf(format, args...)) }
	m := c.Mail
	switch m.Security {
	case "", "starttls", "tls", "none":
	default:
		bad("mail.security: %s is not starttls, tls or none", apperr.Quote(m.Security))
	}
	if m.Port < 0 || m.Port > 65535 {
		bad("mail.port: %d is outside 0..65535", m.Port)
	}
	if strings.ContainsAny(m.Host, " /:") {
		bad("mail.host: %s must be a host name or address, without a scheme or port (use mail.port)", apperr.Quote(m.Host))
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			bad("mail.from: %s is not an address such as \"twofold <no-reply@example.com>\"", apperr.Quote(m.From))
		}
	} else if m.Host != "" {
		bad("mail.from: required when mail.host is set")
	}
	if m.Username != "" && m.Security == "none" {
		bad("mail.username: authentication needs mail.security starttls or tls, so the password never crosses the network in clear")
	}
	if m.Password != "" && m.Username == "" {
		bad("mail.password: set mail.username too")
	}
	return p
}

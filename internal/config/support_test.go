package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
)

// supportLoad loads yaml (may be empty) with the variables in vars.
func supportLoad(t *testing.T, yaml string, vars map[string]string) (*config.Config, error) {
	t.Helper()
	path := ""
	if yaml != "" {
		path = filepath.Join(t.TempDir(), "twofold.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return config.Load(path, func(k string) string { return vars[k] })
}

func TestMailAndSupportSections(t *testing.T) {
	t.Run("defaults_use_the_outbox", func(t *testing.T) {
		c := config.Default()
		if c.Mail.SMTPConfigured() || c.Support.ResetRequiresApproval {
			t.Errorf("defaults: %+v", c.SupportDesk)
		}
		if c.Mail.Sender() != "twofold <no-reply@localhost>" || c.OutboxDir() != filepath.Join("twofold-data", "outbox") {
			t.Errorf("sender %q, outbox %q", c.Mail.Sender(), c.OutboxDir())
		}
	})
	t.Run("file", func(t *testing.T) {
		c, err := supportLoad(t, `
mail:
  host: smtp.example.com
  port: 465
  security: tls
  username: twofold
  password: s3cret
  from: "Example ID <id@example.com>"
support:
  reset_requires_approval: true
`, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := config.Mail{Host: "smtp.example.com", Port: 465, Security: "tls", Username: "twofold", Password: "s3cret", From: "Example ID <id@example.com>"}
		if c.Mail != want || !c.Support.ResetRequiresApproval || !c.Mail.SMTPConfigured() {
			t.Errorf("got %+v", c.SupportDesk)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})
	t.Run("environment_overrides_the_file", func(t *testing.T) {
		c, err := supportLoad(t, "mail:\n  host: a.example.com\n  from: a@example.com\n", map[string]string{
			"TWOFOLD_MAIL_HOST": "b.example.com", "TWOFOLD_MAIL_PORT": "2525", "TWOFOLD_MAIL_SECURITY": "starttls",
			"TWOFOLD_MAIL_USERNAME": "u", "TWOFOLD_MAIL_PASSWORD": "p", "TWOFOLD_MAIL_FROM": "b@example.com",
			"TWOFOLD_SUPPORT_RESET_REQUIRES_APPROVAL": "true",
		})
		if err != nil {
			t.Fatal(err)
		}
		want := config.Mail{Host: "b.example.com", Port: 2525, Security: "starttls", Username: "u", Password: "p", From: "b@example.com"}
		if c.Mail != want || !c.Support.ResetRequiresApproval {
			t.Errorf("got %+v", c.SupportDesk)
		}
	})
	t.Run("bad_environment_is_reported", func(t *testing.T) {
		_, err := supportLoad(t, "", map[string]string{"TWOFOLD_MAIL_PORT": "smtp", "TWOFOLD_SUPPORT_RESET_REQUIRES_APPROVAL": "maybe"})
		if err == nil || !strings.Contains(err.Error(), "TWOFOLD_MAIL_PORT") || !strings.Contains(err.Error(), "TWOFOLD_SUPPORT_RESET_REQUIRES_APPROVAL") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("unknown_key_is_refused", func(t *testing.T) {
		if _, err := supportLoad(t, "mail:\n  hostname: x\n", nil); err == nil {
			t.Error("mail.hostname accepted")
		}
	})
}

func TestValidateMail(t *testing.T) {
	for _, tc := range []struct {
		name string
		mail config.Mail
		want string // "" = valid
	}{
		{"outbox", config.Mail{}, ""},
		{"smtp", config.Mail{Host: "smtp.example.com", From: "a@example.com"}, ""},
		{"relay_without_tls", config.Mail{Host: "localhost", Port: 25, Security: "none", From: "a@example.com"}, ""},
		{"unknown_security", config.Mail{Security: "ssl"}, "mail.security"},
		{"port_out_of_range", config.Mail{Port: 70000}, "mail.port"},
		{"host_with_scheme", config.Mail{Host: "smtp://x", From: "a@example.com"}, "mail.host"},
		{"host_with_port", config.Mail{Host: "x:25", From: "a@example.com"}, "mail.host"},
		{"host_without_sender", config.Mail{Host: "smtp.example.com"}, "mail.from: required"},
		{"bad_sender", config.Mail{From: "not an address"}, "mail.from"},
		{"password_in_clear", config.Mail{Host: "x", From: "a@example.com", Security: "none", Username: "u", Password: "p"}, "mail.username"},
		{"password_without_user", config.Mail{Password: "p"}, "mail.password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Mail = tc.mail
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want a problem with %q", err, tc.want)
			}
		})
	}
}

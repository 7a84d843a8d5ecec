package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
)

func TestRegistrationSection(t *testing.T) {
	t.Run("off_by_default", func(t *testing.T) {
		r := config.Default().Registration
		if r.Enabled || len(r.AllowedDomains) != 0 || r.RequestsPerIPHour != 10 || r.RequestsPerEmailHour != 3 || r.MailsPerHour != 100 {
			t.Errorf("defaults: %+v", r)
		}
		if err := config.Default().Validate(); err != nil {
			t.Error(err)
		}
	})
	t.Run("file", func(t *testing.T) {
		c, err := supportLoad(t, `
registration:
  enabled: true
  allowed_domains: [example.com, Example.ORG]
  requests_per_ip_hour: 20
  requests_per_email_hour: 2
  mails_per_hour: 500
`, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := c.Registration
		if !r.Enabled || !slices.Equal(r.AllowedDomains, []string{"example.com", "Example.ORG"}) || r.RequestsPerIPHour != 20 ||
			r.RequestsPerEmailHour != 2 || r.MailsPerHour != 500 {
			t.Errorf("got %+v", r)
		}
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
		if !r.DomainAllowed("example.org") || r.DomainAllowed("example.net") || r.DomainAllowed("sub.example.com") {
			t.Error("DomainAllowed matches more or less than the listed domains")
		}
	})
	t.Run("environment_overrides_the_file", func(t *testing.T) {
		c, err := supportLoad(t, "registration:\n  allowed_domains: [a.example]\n", map[string]string{
			"TWOFOLD_REGISTRATION_ENABLED": "true", "TWOFOLD_REGISTRATION_ALLOWED_DOMAINS": " b.example, c.example ",
			"TWOFOLD_REGISTRATION_REQUESTS_PER_IP_HOUR": "5", "TWOFOLD_REGISTRATION_REQUESTS_PER_EMAIL_HOUR": "1",
			"TWOFOLD_REGISTRATION_MAILS_PER_HOUR": "7",
		})
		if err != nil {
			t.Fatal(err)
		}
		r := c.Registration
		if !r.Enabled || !slices.Equal(r.AllowedDomains, []string{"b.example", "c.example"}) || r.RequestsPerIPHour != 5 ||
			r.RequestsPerEmailHour != 1 || r.MailsPerHour != 7 {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("any_domain_when_none_listed", func(t *testing.T) {
		if !config.Default().Registration.DomainAllowed("anything.example") {
			t.Error("an empty list must allow every domain")
		}
	})
	t.Run("bad_environment", func(t *testing.T) {
		_, err := supportLoad(t, "", map[string]string{"TWOFOLD_REGISTRATION_ENABLED": "maybe", "TWOFOLD_REGISTRATION_MAILS_PER_HOUR": "many"})
		if err == nil || !strings.Contains(err.Error(), "TWOFOLD_REGISTRATION_ENABLED") || !strings.Contains(err.Error(), "TWOFOLD_REGISTRATION_MAILS_PER_HOUR") {
			t.Errorf("err = %v", err)
		}
	})
	for _, tc := range []struct {
		name   string
		change func(*config.Registration)
		want   string
	}{
		{"domain_with_at", func(r *config.Registration) { r.AllowedDomains = []string{"@example.com"} }, `registration.allowed_domains: "@example.com"`},
		{"domain_literal", func(r *config.Registration) { r.AllowedDomains = []string{"[192.0.2.1]"} }, "registration.allowed_domains"},
		{"empty_domain", func(r *config.Registration) { r.AllowedDomains = []string{""} }, "registration.allowed_domains"},
		{"no_ip_limit", func(r *config.Registration) { r.RequestsPerIPHour = 0 }, "registration.requests_per_ip_hour"},
		{"no_mail_cap", func(r *config.Registration) { r.MailsPerHour = 0 }, "registration.mails_per_hour: 0 is below 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.change(&c.Registration)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

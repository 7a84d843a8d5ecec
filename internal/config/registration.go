package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twofold-id/twofold/internal/apperr"
)

// Registration configures self-registration: whether anyone may create an account from
// the sign-in page, and from which e-mail domains. It is off by default.
type Registration struct {
	// Enabled offers /register and POST /api/v1/register; off, both answer 404.
	Enabled bool `yaml:"enabled"`
	// AllowedDomains are the e-mail domains that may register (an exact match, case
	// folded); empty lets any domain register.
	AllowedDomains []string `yaml:"allowed_domains"`
	// Requests per hour from one client address (an IPv6 /64) and for one e-mail address.
	RequestsPerIPHour    int `yaml:"requests_per_ip_hour"`
	RequestsPerEmailHour int `yaml:"requests_per_email_hour"`
	// MailsPerHour caps the mail registration sends per clock hour, from every client and
	// instance together; past it requests are answered the same but send nothing.
	MailsPerHour int `yaml:"mails_per_hour"`
}

// DefaultRegistration is registration as built in: off, with its limits.
func DefaultRegistration() Registration {
	return Registration{RequestsPerIPHour: 10, RequestsPerEmailHour: 3, MailsPerHour: 100}
}

// DomainAllowed reports whether an address of domain (already case folded) may register.
func (r Registration) DomainAllowed(domain string) bool {
	if len(r.AllowedDomains) == 0 {
		return true
	}
	for _, d := range r.AllowedDomains {
		if strings.EqualFold(strings.TrimSpace(d), domain) {
			return true
		}
	}
	return false
}

// applyRegistrationEnv reads the TWOFOLD_REGISTRATION_* variables.
func (c *Config) applyRegistrationEnv(getenv func(string) string) []error {
	var problems []error
	r := &c.Registration
	if v := getenv("TWOFOLD_REGISTRATION_ENABLED"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("TWOFOLD_REGISTRATION_ENABLED: %s is not true or false", apperr.Quote(v)))
		} else {
			r.Enabled = b
		}
	}
	if v := getenv("TWOFOLD_REGISTRATION_ALLOWED_DOMAINS"); v != "" {
		r.AllowedDomains = nil
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				r.AllowedDomains = append(r.AllowedDomains, d)
			}
		}
	}
	for name, dst := range map[string]*int{
		"TWOFOLD_REGISTRATION_REQUESTS_PER_IP_HOUR":    &r.RequestsPerIPHour,
		"TWOFOLD_REGISTRATION_REQUESTS_PER_EMAIL_HOUR": &r.RequestsPerEmailHour,
		"TWOFOLD_REGISTRATION_MAILS_PER_HOUR":          &r.MailsPerHour,
	} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %s is not a whole number", name, apperr.Quote(v)))
				continue
			}
			*dst = n
		}
	}
	return problems
}

// validateRegistration reports every invalid registration setting.
func (c *Config) validateRegistration() []error {
	var p []error
	bad := func(format string, args ...any) { p = append(p, fmt.Errorf(format, args...)) }
	r := c.Registration
	for _, d := range r.AllowedDomains {
		if !validDomain(strings.TrimSpace(d)) {
			bad("registration.allowed_domains: %s is not a domain name such as example.com (no @, no brackets)", apperr.Quote(d))
		}
	}
	if r.RequestsPerIPHour < 1 || r.RequestsPerEmailHour < 1 {
		bad("registration.requests_per_ip_hour and registration.requests_per_email_hour: must be positive")
	}
	if r.MailsPerHour < 1 {
		bad("registration.mails_per_hour: %d is below 1 (the cap cannot be turned off; set a high number to lift it)", r.MailsPerHour)
	}
	return p
}

// validDomain reports whether d is a plain DNS name: dot-separated labels of letters,
// digits and hyphens (or non-ASCII letters, for internationalised names).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, ch := range label {
			if ch < 0x80 && !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	return true
}

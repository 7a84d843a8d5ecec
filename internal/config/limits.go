package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/throttle"
)

// Limits are the abuse limits (docs/security.md explains each one).
type Limits struct {
	// The per-account failure budgets, one for the password step and one for the second
	// factor: free_attempts, first_delay, max_delay, max_failures, forget_after.
	throttle.Policy `yaml:",inline"`

	// Per-client-IP token buckets (per instance).
	SignInPerSecond float64 `yaml:"sign_in_per_second"` // POST /login*, /api/v1/login*
	SignInBurst     int     `yaml:"sign_in_burst"`
	APIPerSecond    float64 `yaml:"api_per_second"` // every other /api/ request
	APIBurst        int     `yaml:"api_burst"`

	// Support cases opened per hour.
	SupportCasesPerIPHour    int `yaml:"support_cases_per_ip_hour"`
	SupportCasesPerEmailHour int `yaml:"support_cases_per_email_hour"`
	// SupportMailsPerHour caps the mail the public support form sends per hour, from every
	// client and instance together; past it cases are still opened but not confirmed by mail.
	SupportMailsPerHour int `yaml:"support_mails_per_hour"`
}

// DefaultLimits are the built-in abuse limits: the throttle package's defaults.
func DefaultLimits() Limits {
	return Limits{
		Policy:          throttle.Default,
		SignInPerSecond: throttle.DefaultSignIn.PerSecond, SignInBurst: throttle.DefaultSignIn.Burst,
		APIPerSecond: throttle.DefaultAPI.PerSecond, APIBurst: throttle.DefaultAPI.Burst,
		SupportCasesPerIPHour:    throttle.DefaultSupportCasesPerIPHour,
		SupportCasesPerEmailHour: throttle.DefaultSupportCasesPerEmailHour,
		SupportMailsPerHour:      throttle.DefaultSupportMailsPerHour,
	}
}

// SignIn is the per-client-address rate of sign-in steps.
func (l Limits) SignIn() throttle.Rate {
	return throttle.Rate{PerSecond: l.SignInPerSecond, Burst: l.SignInBurst}
}

// API is the per-client-address rate of other API requests.
func (l Limits) API() throttle.Rate {
	return throttle.Rate{PerSecond: l.APIPerSecond, Burst: l.APIBurst}
}

// applyLimitsEnv reads the TWOFOLD_LIMITS_* variables and TWOFOLD_TRUSTED_PROXIES.
func (c *Config) applyLimitsEnv(getenv func(string) string) []error {
	var problems []error
	integer := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %s is not a whole number", name, apperr.Quote(v)))
				return
			}
			*dst = n
		}
	}
	number := func(name string, dst *float64) {
		if v := getenv(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %s is not a number", name, apperr.Quote(v)))
				return
			}
			*dst = f
		}
	}
	duration := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %s is not a duration such as 30s or 15m", name, apperr.Quote(v)))
				return
			}
			*dst = d
		}
	}
	l := &c.Limits
	integer("TWOFOLD_LIMITS_FREE_ATTEMPTS", &l.FreeAttempts)
	duration("TWOFOLD_LIMITS_FIRST_DELAY", &l.FirstDelay)
	duration("TWOFOLD_LIMITS_MAX_DELAY", &l.MaxDelay)
	integer("TWOFOLD_LIMITS_MAX_FAILURES", &l.MaxFailures)
	duration("TWOFOLD_LIMITS_FORGET_AFTER", &l.ForgetAfter)
	number("TWOFOLD_LIMITS_SIGN_IN_PER_SECOND", &l.SignInPerSecond)
	integer("TWOFOLD_LIMITS_SIGN_IN_BURST", &l.SignInBurst)
	number("TWOFOLD_LIMITS_API_PER_SECOND", &l.APIPerSecond)
	integer("TWOFOLD_LIMITS_API_BURST", &l.APIBurst)
	integer("TWOFOLD_LIMITS_SUPPORT_CASES_PER_IP_HOUR", &l.SupportCasesPerIPHour)
	integer("TWOFOLD_LIMITS_SUPPORT_CASES_PER_EMAIL_HOUR", &l.SupportCasesPerEmailHour)
	integer("TWOFOLD_LIMITS_SUPPORT_MAILS_PER_HOUR", &l.SupportMailsPerHour)
	if v := getenv("TWOFOLD_TRUSTED_PROXIES"); v != "" {
		c.Server.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.Server.TrustedProxies = append(c.Server.TrustedProxies, p)
			}
		}
	}
	return problems
}

// validateLimits reports every invalid abuse limit and trusted proxy.
func (c *Config) validateLimits() []error {
	var p []error
	bad := func(format string, args ...any) { p = append(p, fmt.Errorf(format, args...)) }
	l := c.Limits
	for _, err := range l.Policy.Validate() {
		bad("limits.%v", err)
	}
	if !(l.SignInPerSecond > 0) || l.SignInBurst < 1 {
		bad("limits.sign_in_per_second and limits.sign_in_burst: must be positive")
	}
	if !(l.APIPerSecond > 0) || l.APIBurst < 1 {
		bad("limits.api_per_second and limits.api_burst: must be positive")
	}
	if l.SupportCasesPerIPHour < 1 || l.SupportCasesPerEmailHour < 1 {
		bad("limits.support_cases_per_ip_hour and limits.support_cases_per_email_hour: must be positive")
	}
	if l.SupportMailsPerHour < 1 {
		bad("limits.support_mails_per_hour: %d is below 1 (the cap cannot be turned off; set a high number to lift it)", l.SupportMailsPerHour)
	}
	for _, s := range c.Server.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			bad("server.trusted_proxies: %s is not an IP address or CIDR such as 10.0.0.0/8", apperr.Quote(s))
		}
	}
	return p
}

// TrustedProxyPrefixes returns server.trusted_proxies as networks; a plain address is a
// network of one. Entries that do not parse are left out (Validate reports them).
func (c *Config) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.Server.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix shorter than /96")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

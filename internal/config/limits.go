package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Limits are the abuse limits (docs/security.md explains each one).
type Limits struct {
	// Per-account failure budgets, one for the password step and one for the second factor.
	FreeAttempts int           `yaml:"free_attempts"` // failures that cost no wait
	FirstDelay   time.Duration `yaml:"first_delay"`   // wait after the first failure beyond them, doubling
	MaxDelay     time.Duration `yaml:"max_delay"`     // the wait stops doubling here
	MaxFailures  int           `yaml:"max_failures"`  // consecutive failures that lock a budget (at most 100)
	// ForgetAfter is how long a password budget that is not locked is kept after its last
	// failure (second-factor budgets and locked ones are kept until a success or an unlock).
	ForgetAfter time.Duration `yaml:"forget_after"`

	// Per-client-IP token buckets (per instance).
	SignInPerSecond float64 `yaml:"sign_in_per_second"` // POST /login*, /api/v1/login*
	SignInBurst     int     `yaml:"sign_in_burst"`
	APIPerSecond    float64 `yaml:"api_per_second"` // every other /api/ request
	APIBurst        int     `yaml:"api_burst"`

	// Support cases (issue 4 reads these).
	SupportCasesPerIPHour    int `yaml:"support_cases_per_ip_hour"`
	SupportCasesPerEmailHour int `yaml:"support_cases_per_email_hour"`
}

// DefaultLimits are the built-in abuse limits.
func DefaultLimits() Limits {
	return Limits{
		FreeAttempts: 5, FirstDelay: 30 * time.Second, MaxDelay: 15 * time.Minute, MaxFailures: 100,
		ForgetAfter:     24 * time.Hour,
		SignInPerSecond: 10, SignInBurst: 30,
		APIPerSecond: 50, APIBurst: 100,
		SupportCasesPerIPHour: 10, SupportCasesPerEmailHour: 3,
	}
}

// applyLimitsEnv reads the TWOFOLD_LIMITS_* variables and TWOFOLD_TRUSTED_PROXIES.
func (c *Config) applyLimitsEnv(getenv func(string) string) []error {
	var problems []error
	integer := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %q is not a whole number", name, v))
				return
			}
			*dst = n
		}
	}
	number := func(name string, dst *float64) {
		if v := getenv(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %q is not a number", name, v))
				return
			}
			*dst = f
		}
	}
	duration := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %q is not a duration such as 30s or 15m", name, v))
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
	if l.FreeAttempts < 1 || l.FreeAttempts > 100 {
		bad("limits.free_attempts: %d is outside 1..100", l.FreeAttempts)
	}
	if l.FirstDelay < time.Second {
		bad("limits.first_delay: %s is shorter than 1s", l.FirstDelay)
	}
	if l.MaxDelay < l.FirstDelay || l.MaxDelay > 24*time.Hour {
		bad("limits.max_delay: %s is outside limits.first_delay..24h", l.MaxDelay)
	}
	// NIST SP 800-63B 5.2.2: no more than 100 consecutive failed attempts.
	if l.MaxFailures < l.FreeAttempts || l.MaxFailures > 100 {
		bad("limits.max_failures: %d is outside limits.free_attempts..100", l.MaxFailures)
	}
	if l.ForgetAfter < time.Hour {
		bad("limits.forget_after: %s is shorter than 1h", l.ForgetAfter)
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
	for _, s := range c.Server.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			bad("server.trusted_proxies: %q is not an IP address or CIDR such as 10.0.0.0/8", s)
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

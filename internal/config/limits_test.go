package config_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/throttle"
)

func TestDefaultLimits(t *testing.T) {
	l := config.Default().Limits
	want := config.Limits{
		Policy: throttle.Policy{FreeAttempts: 5, FirstDelay: 30 * time.Second, MaxDelay: 15 * time.Minute, MaxFailures: 100,
			ForgetAfter: 24 * time.Hour},
		SignInPerSecond: 10, SignInBurst: 30, APIPerSecond: 50, APIBurst: 100,
		SupportCasesPerIPHour: 10, SupportCasesPerEmailHour: 3, SupportMailsPerHour: 200,
	}
	if l != want {
		t.Fatalf("default limits %+v, want %+v", l, want)
	}
}

func TestLimitsFromEnv(t *testing.T) {
	c := mustLoad(t, "", env(map[string]string{
		"TWOFOLD_LIMITS_FREE_ATTEMPTS":                "3",
		"TWOFOLD_LIMITS_FIRST_DELAY":                  "10s",
		"TWOFOLD_LIMITS_MAX_DELAY":                    "1h",
		"TWOFOLD_LIMITS_MAX_FAILURES":                 "20",
		"TWOFOLD_LIMITS_FORGET_AFTER":                 "72h",
		"TWOFOLD_LIMITS_SIGN_IN_PER_SECOND":           "2.5",
		"TWOFOLD_LIMITS_SIGN_IN_BURST":                "8",
		"TWOFOLD_LIMITS_API_PER_SECOND":               "100",
		"TWOFOLD_LIMITS_API_BURST":                    "200",
		"TWOFOLD_LIMITS_SUPPORT_CASES_PER_IP_HOUR":    "4",
		"TWOFOLD_LIMITS_SUPPORT_CASES_PER_EMAIL_HOUR": "1",
		"TWOFOLD_LIMITS_SUPPORT_MAILS_PER_HOUR":       "50",
		"TWOFOLD_TRUSTED_PROXIES":                     " 10.0.0.0/8 , 192.0.2.1,, ",
	}))
	want := config.Limits{Policy: throttle.Policy{FreeAttempts: 3, FirstDelay: 10 * time.Second, MaxDelay: time.Hour, MaxFailures: 20,
		ForgetAfter: 72 * time.Hour}, SignInPerSecond: 2.5, SignInBurst: 8, APIPerSecond: 100, APIBurst: 200,
		SupportCasesPerIPHour: 4, SupportCasesPerEmailHour: 1, SupportMailsPerHour: 50}
	if c.Limits != want {
		t.Errorf("limits %+v, want %+v", c.Limits, want)
	}
	if !reflect.DeepEqual(c.Server.TrustedProxies, []string{"10.0.0.0/8", "192.0.2.1"}) {
		t.Errorf("trusted proxies %q", c.Server.TrustedProxies)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	_, err := config.Load("", env(map[string]string{
		"TWOFOLD_LIMITS_FREE_ATTEMPTS":      "five",
		"TWOFOLD_LIMITS_FIRST_DELAY":        "30",
		"TWOFOLD_LIMITS_SIGN_IN_PER_SECOND": "fast",
	}))
	if err == nil {
		t.Fatal("Load accepted malformed limits")
	}
	wantContains(t, err.Error(),
		`TWOFOLD_LIMITS_FREE_ATTEMPTS: "five" is not a whole number`,
		`TWOFOLD_LIMITS_FIRST_DELAY: "30" is not a duration`,
		`TWOFOLD_LIMITS_SIGN_IN_PER_SECOND: "fast" is not a number`)
}

func TestValidateLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*config.Config)
		bad    string // fragment of the problem; empty when valid
	}{
		{"defaults", func(*config.Config) {}, ""},
		{"no_free_attempt", func(c *config.Config) { c.Limits.FreeAttempts = 0 }, "limits.free_attempts: 0 is outside 1..100"},
		{"first_delay_under_a_second", func(c *config.Config) { c.Limits.FirstDelay = 500 * time.Millisecond }, "limits.first_delay"},
		{"max_delay_below_first", func(c *config.Config) { c.Limits.MaxDelay = 10 * time.Second }, "limits.max_delay"},
		{"max_delay_over_a_day", func(c *config.Config) { c.Limits.MaxDelay = 25 * time.Hour }, "limits.max_delay"},
		{"more_than_100_failures_NIST", func(c *config.Config) { c.Limits.MaxFailures = 101 }, "limits.max_failures: 101 is outside"},
		{"100_failures", func(c *config.Config) { c.Limits.MaxFailures = 100 }, ""},
		{"failures_below_the_free_attempts", func(c *config.Config) { c.Limits.MaxFailures = 4 }, "limits.max_failures"},
		{"forget_after_under_an_hour", func(c *config.Config) { c.Limits.ForgetAfter = time.Minute }, "limits.forget_after"},
		{"no_sign_in_rate", func(c *config.Config) { c.Limits.SignInPerSecond = 0 }, "limits.sign_in_per_second"},
		{"no_sign_in_burst", func(c *config.Config) { c.Limits.SignInBurst = 0 }, "limits.sign_in_burst"},
		{"negative_api_rate", func(c *config.Config) { c.Limits.APIPerSecond = -1 }, "limits.api_per_second"},
		{"no_support_cases", func(c *config.Config) { c.Limits.SupportCasesPerEmailHour = 0 }, "limits.support_cases_per_email_hour"},
		{"no_support_mail_cap", func(c *config.Config) { c.Limits.SupportMailsPerHour = 0 }, "limits.support_mails_per_hour: 0 is below 1"},
		{"one_support_mail", func(c *config.Config) { c.Limits.SupportMailsPerHour = 1 }, ""},
		{"proxy_cidr", func(c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "fd00::/8", "127.0.0.1"} }, ""},
		{"proxy_junk", func(c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/33"} }, `server.trusted_proxies: "10.0.0.0/33"`},
		{"proxy_hostname", func(c *config.Config) { c.Server.TrustedProxies = []string{"proxy.internal"} }, `"proxy.internal" is not an IP address or CIDR`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.change(c)
			err := c.Validate()
			switch {
			case tc.bad == "" && err != nil:
				t.Errorf("Validate = %v, want valid", err)
			case tc.bad != "" && err == nil:
				t.Errorf("Validate accepted it, want a %s problem", tc.bad)
			case tc.bad != "":
				wantContains(t, err.Error(), tc.bad)
			}
		})
	}
}

func TestTrustedProxyPrefixes(t *testing.T) {
	c := config.Default()
	c.Server.TrustedProxies = []string{"10.1.2.3/8", "192.0.2.7", "::ffff:198.51.100.0/120", "2001:db8::/32", "junk"}
	var got []string
	for _, p := range c.TrustedProxyPrefixes() {
		got = append(got, p.String())
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "198.51.100.0/24", "2001:db8::/32"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("prefixes %q, want %q", got, want)
	}
	if !c.TrustedProxyPrefixes()[1].Contains(netip.MustParseAddr("192.0.2.7")) {
		t.Fatal("a plain address is not a network of one")
	}
}

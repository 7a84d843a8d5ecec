package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
)

func TestIssuer(t *testing.T) {
	for _, tc := range []struct{ name, publicURL, listen, want string }{
		{"public_url wins", "https://id.example.com/", "127.0.0.1:8080", "https://id.example.com"},
		{"public_url with a path", "https://example.com/id", "0.0.0.0:8080", "https://example.com/id"},
		{"local fallback", "", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"unspecified IPv4 host", "", "0.0.0.0:9000", "http://127.0.0.1:9000"},
		{"unspecified IPv6 host", "", "[::]:9000", "http://127.0.0.1:9000"},
		{"empty host", "", ":9000", "http://127.0.0.1:9000"},
		{"IPv6 loopback", "", "[::1]:9000", "http://[::1]:9000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Server.PublicURL = tc.publicURL
			if got := c.Issuer(tc.listen); got != tc.want {
				t.Errorf("Issuer(%q) = %q, want %q", tc.listen, got, tc.want)
			}
		})
	}
}

func TestOIDCLifetimes(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		o := config.Default().OIDC
		if o.AccessTokenLifetime != 10*time.Minute || o.IDTokenLifetime != time.Hour || o.RefreshTokenLifetime != 720*time.Hour ||
			o.RefreshFamilyMaxAge != 90*24*time.Hour {
			t.Errorf("defaults %+v", o)
		}
	})
	t.Run("environment", func(t *testing.T) {
		env := map[string]string{"TWOFOLD_OIDC_ACCESS_TOKEN_LIFETIME": "2m", "TWOFOLD_OIDC_ID_TOKEN_LIFETIME": "15m",
			"TWOFOLD_OIDC_REFRESH_TOKEN_LIFETIME": "24h", "TWOFOLD_OIDC_REFRESH_FAMILY_MAX_AGE": "720h"}
		c, err := config.Load("", func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if c.OIDC != (config.OIDC{AccessTokenLifetime: 2 * time.Minute, IDTokenLifetime: 15 * time.Minute, RefreshTokenLifetime: 24 * time.Hour,
			RefreshFamilyMaxAge: 720 * time.Hour}) {
			t.Errorf("OIDC from the environment = %+v", c.OIDC)
		}
	})
	t.Run("not a duration", func(t *testing.T) {
		_, err := config.Load("", func(k string) string {
			if k == "TWOFOLD_OIDC_ID_TOKEN_LIFETIME" {
				return "an hour"
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "TWOFOLD_OIDC_ID_TOKEN_LIFETIME") {
			t.Errorf("Load: %v, want an error naming the variable", err)
		}
	})
	t.Run("out of range", func(t *testing.T) {
		c := config.Default()
		c.OIDC = config.OIDC{AccessTokenLifetime: time.Second, IDTokenLifetime: 48 * time.Hour, RefreshTokenLifetime: time.Minute,
			RefreshFamilyMaxAge: 30 * time.Minute}
		err := c.Validate()
		for _, want := range []string{"oidc.access_token_lifetime", "oidc.id_token_lifetime", "oidc.refresh_token_lifetime",
			"oidc.refresh_family_max_age"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Validate: %v, want it to name %s", err, want)
			}
		}
	})
}

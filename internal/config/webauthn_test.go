package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
)

func TestWebAuthnSection(t *testing.T) {
	t.Run("defaults_follow_the_public_url", func(t *testing.T) {
		for _, tc := range []struct {
			name, publicURL, addr string
			tls                   bool
			wantID                string
			wantOrigins           []string
		}{
			{"unset", "", "127.0.0.1:8080", false, "localhost", []string{"http://localhost:8080"}},
			{"unset_with_tls", "", "0.0.0.0:8443", true, "localhost", []string{"https://localhost:8443"}},
			{"a_name", "https://Login.Example.com/", "127.0.0.1:8080", false, "login.example.com", []string{"https://login.example.com"}},
			{"a_name_and_port", "http://localhost:9000", "127.0.0.1:8080", false, "localhost", []string{"http://localhost:9000"}},
			{"an_ip_address", "http://127.0.0.1:8081", "127.0.0.1:8080", false, "localhost", []string{"http://localhost:8081"}},
			{"an_ipv6_address", "https://[::1]", "127.0.0.1:8080", false, "localhost", []string{"https://localhost"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := config.Default()
				c.Server.PublicURL, c.Server.Addr = tc.publicURL, tc.addr
				if tc.tls {
					c.Server.TLSCertFile, c.Server.TLSKeyFile = "cert.pem", "key.pem"
				}
				if got := c.WebAuthnRPID(); got != tc.wantID {
					t.Errorf("rp_id = %q, want %q", got, tc.wantID)
				}
				if got := c.WebAuthnOrigins(); !slices.Equal(got, tc.wantOrigins) {
					t.Errorf("rp_origins = %q, want %q", got, tc.wantOrigins)
				}
				if err := c.Validate(); err != nil {
					t.Error(err)
				}
			})
		}
		w := config.Default().WebAuthn
		if w.RPDisplayName != "twofold" || !w.Passwordless || len(w.AllowedAAGUIDs) != 0 {
			t.Errorf("defaults: %+v", w)
		}
	})
	t.Run("file_and_environment", func(t *testing.T) {
		c, err := supportLoad(t, `
server:
  public_url: https://login.example.com
webauthn:
  rp_id: example.com
  rp_origins: [https://login.example.com, https://example.com/]
  rp_display_name: Example Corp
  passwordless: false
  allowed_aaguids: [cb69481e-8ff7-4039-93ec-0a2729a154a8]
`, map[string]string{"TWOFOLD_WEBAUTHN_RP_DISPLAY_NAME": "Example"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.WebAuthnRPID() != "example.com" || c.WebAuthn.Passwordless || c.WebAuthn.RPDisplayName != "Example" ||
			!slices.Equal(c.WebAuthnOrigins(), []string{"https://login.example.com", "https://example.com"}) || len(c.WebAuthnAAGUIDs()) != 1 {
			t.Errorf("got %+v, origins %q", c.WebAuthn, c.WebAuthnOrigins())
		}
		c, err = supportLoad(t, "", map[string]string{"TWOFOLD_WEBAUTHN_PASSWORDLESS": "false",
			"TWOFOLD_WEBAUTHN_RP_ID": "example.org", "TWOFOLD_WEBAUTHN_RP_ORIGINS": "https://a.example.org, https://example.org",
			"TWOFOLD_WEBAUTHN_ALLOWED_AAGUIDS": "cb69481e-8ff7-4039-93ec-0a2729a154a8"})
		if err != nil {
			t.Fatal(err)
		}
		if c.WebAuthn.Passwordless || c.WebAuthnRPID() != "example.org" || len(c.WebAuthnOrigins()) != 2 || len(c.WebAuthnAAGUIDs()) != 1 {
			t.Errorf("environment: %+v", c.WebAuthn)
		}
		if _, err := supportLoad(t, "", map[string]string{"TWOFOLD_WEBAUTHN_PASSWORDLESS": "maybe"}); err == nil {
			t.Error("TWOFOLD_WEBAUTHN_PASSWORDLESS=maybe accepted")
		}
	})
	t.Run("invalid_settings_are_reported", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			edit func(c *config.Config)
			want string
		}{
			{"ip_rp_id", func(c *config.Config) { c.WebAuthn.RPID = "192.0.2.1" }, "IP address"},
			{"not_a_domain", func(c *config.Config) { c.WebAuthn.RPID = "exa mple.com" }, "not a domain"},
			{"origin_not_under_rp_id", func(c *config.Config) {
				c.WebAuthn.RPID, c.WebAuthn.RPOrigins = "example.com", []string{"https://evil.example.net"}
			}, "neither"},
			{"origin_lookalike", func(c *config.Config) {
				c.WebAuthn.RPID, c.WebAuthn.RPOrigins = "example.com", []string{"https://badexample.com"}
			}, "neither"},
			{"origin_with_path", func(c *config.Config) { c.WebAuthn.RPOrigins = []string{"http://localhost:8080/login"} }, "not an origin"},
			{"origin_not_http", func(c *config.Config) { c.WebAuthn.RPOrigins = []string{"ftp://localhost"} }, "not an origin"},
			{"empty_display_name", func(c *config.Config) { c.WebAuthn.RPDisplayName = "" }, "rp_display_name"},
			{"bad_aaguid", func(c *config.Config) { c.WebAuthn.AllowedAAGUIDs = []string{"yubikey"} }, "not a UUID"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := config.Default()
				tc.edit(c)
				err := c.Validate()
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Validate() = %v, want an error about %q", err, tc.want)
				}
			})
		}
	})
}

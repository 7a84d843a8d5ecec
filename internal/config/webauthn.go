package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/twofold-id/twofold/internal/apperr"
)

// WebAuthn configures security keys and passkeys: the relying party browsers bind each
// credential to, and whether a passkey alone may sign a user in.
type WebAuthn struct {
	// RPID is the relying party ID: the domain every key is bound to. Default: the host of
	// server.public_url, or localhost when that is unset or an IP address (browsers refuse
	// WebAuthn on an IP address). Changing it later orphans every registered key.
	RPID string `yaml:"rp_id"`
	// RPOrigins are the origins (scheme://host[:port]) the browser may report. Default: the
	// origin of server.public_url when its host is a name, else http://localhost:<port>.
	RPOrigins []string `yaml:"rp_origins"`
	// RPDisplayName is the name authenticators show beside the account.
	RPDisplayName string `yaml:"rp_display_name"`
	// Passwordless offers "Sign in with a passkey": a discoverable credential with user
	// verification signs the user in without a password. Off, only the second factor remains.
	Passwordless bool `yaml:"passwordless"`
	// AllowedAAGUIDs, when set, accept only keys whose authenticator model (AAGUID) is listed.
	// Empty accepts any key.
	AllowedAAGUIDs []string `yaml:"allowed_aaguids"`
}

// DefaultRPDisplayName is webauthn.rp_display_name unless set.
const DefaultRPDisplayName = "twofold"

// DefaultWebAuthn is the built-in WebAuthn section: the relying party follows the public URL.
func DefaultWebAuthn() WebAuthn {
	return WebAuthn{RPDisplayName: DefaultRPDisplayName, Passwordless: true}
}

// WebAuthnRPID is the relying party ID in force: webauthn.rp_id, or its default.
func (c *Config) WebAuthnRPID() string {
	if c.WebAuthn.RPID != "" {
		return strings.ToLower(c.WebAuthn.RPID)
	}
	if u := c.publicURL(); u != nil {
		if h := u.Hostname(); h != "" && net.ParseIP(h) == nil {
			return strings.ToLower(h)
		}
	}
	return "localhost"
}

// publicURL is server.public_url parsed, or nil when it is unset or not an http(s) URL.
func (c *Config) publicURL() *url.URL {
	u, err := url.Parse(c.Server.PublicURL)
	if err != nil || c.Server.PublicURL == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return u
}

// WebAuthnOrigins are the origins in force: webauthn.rp_origins, or the default.
func (c *Config) WebAuthnOrigins() []string {
	if len(c.WebAuthn.RPOrigins) > 0 {
		out := make([]string, 0, len(c.WebAuthn.RPOrigins))
		for _, o := range c.WebAuthn.RPOrigins {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(o), "/"))
		}
		return out
	}
	scheme, port := c.Server.Scheme(), ""
	if _, p, err := net.SplitHostPort(c.Server.Addr); err == nil {
		port = p
	}
	if u := c.publicURL(); u != nil {
		if h := u.Hostname(); net.ParseIP(h) == nil {
			return []string{u.Scheme + "://" + strings.ToLower(u.Host)}
		}
		scheme, port = u.Scheme, u.Port()
	}
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return []string{scheme + "://localhost"}
	}
	return []string{scheme + "://localhost:" + port}
}

// WebAuthnAAGUIDs parses webauthn.allowed_aaguids (Validate has checked them).
func (c *Config) WebAuthnAAGUIDs() []uuid.UUID {
	var out []uuid.UUID
	for _, s := range c.WebAuthn.AllowedAAGUIDs {
		if id, err := uuid.Parse(strings.TrimSpace(s)); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// applyWebAuthnEnv reads the TWOFOLD_WEBAUTHN_* variables.
func (c *Config) applyWebAuthnEnv(getenv func(string) string) []error {
	var problems []error
	w := &c.WebAuthn
	if v := getenv("TWOFOLD_WEBAUTHN_RP_ID"); v != "" {
		w.RPID = v
	}
	if v := getenv("TWOFOLD_WEBAUTHN_RP_ORIGINS"); v != "" {
		w.RPOrigins = splitList(v)
	}
	if v := getenv("TWOFOLD_WEBAUTHN_RP_DISPLAY_NAME"); v != "" {
		w.RPDisplayName = v
	}
	if v := getenv("TWOFOLD_WEBAUTHN_PASSWORDLESS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("TWOFOLD_WEBAUTHN_PASSWORDLESS: %s is not true or false", apperr.Quote(v)))
		} else {
			w.Passwordless = b
		}
	}
	if v := getenv("TWOFOLD_WEBAUTHN_ALLOWED_AAGUIDS"); v != "" {
		w.AllowedAAGUIDs = splitList(v)
	}
	return problems
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// validateWebAuthn reports every invalid webauthn setting, judged on the values in force
// (the defaults derived from server.public_url included).
func (c *Config) validateWebAuthn() []error {
	var p []error
	bad := func(format string, args ...any) { p = append(p, fmt.Errorf(format, args...)) }
	rpID := c.WebAuthnRPID()
	switch {
	case net.ParseIP(rpID) != nil:
		bad("webauthn.rp_id: %s is an IP address; browsers accept only a domain name (use localhost on this machine)", apperr.Quote(rpID))
	case !validDomain(rpID):
		bad("webauthn.rp_id: %s is not a domain name such as example.com or localhost", apperr.Quote(rpID))
	}
	for _, o := range c.WebAuthnOrigins() {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			bad("webauthn.rp_origins: %s is not an origin such as https://login.example.com", apperr.Quote(o))
			continue
		}
		h := strings.ToLower(u.Hostname())
		if h != rpID && !strings.HasSuffix(h, "."+rpID) {
			bad("webauthn.rp_origins: the host of %s is neither webauthn.rp_id (%s) nor under it", apperr.Quote(o), rpID)
		}
	}
	if n := len(c.WebAuthn.RPDisplayName); n == 0 || n > 64 {
		bad("webauthn.rp_display_name: must be 1 to 64 characters")
	}
	for _, s := range c.WebAuthn.AllowedAAGUIDs {
		if _, err := uuid.Parse(strings.TrimSpace(s)); err != nil {
			bad("webauthn.allowed_aaguids: %s is not a UUID such as cb69481e-8ff7-4039-93ec-0a2729a154a8", apperr.Quote(s))
		}
	}
	return p
}

package config

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
)

// OIDC is the `oidc:` section: token lifetimes of the OpenID Connect provider.
// The issuer is server.public_url (see Issuer).
type OIDC struct {
	AccessTokenLifetime  time.Duration `yaml:"access_token_lifetime"`  // opaque access tokens
	IDTokenLifetime      time.Duration `yaml:"id_token_lifetime"`      // exp of ID tokens
	RefreshTokenLifetime time.Duration `yaml:"refresh_token_lifetime"` // each rotated refresh token
	// RefreshFamilyMaxAge ends a family of refresh tokens this long after the sign-in that
	// started it, however often it is refreshed.
	RefreshFamilyMaxAge time.Duration `yaml:"refresh_family_max_age"`
}

// DefaultOIDC returns the built-in lifetimes.
func DefaultOIDC() OIDC {
	return OIDC{AccessTokenLifetime: 10 * time.Minute, IDTokenLifetime: time.Hour, RefreshTokenLifetime: 30 * 24 * time.Hour,
		RefreshFamilyMaxAge: 90 * 24 * time.Hour}
}

// applyOIDCEnv reads the TWOFOLD_OIDC_* variables.
func (c *Config) applyOIDCEnv(getenv func(string) string) []error {
	var problems []error
	for _, v := range []struct {
		name string
		dst  *time.Duration
	}{
		{"TWOFOLD_OIDC_ACCESS_TOKEN_LIFETIME", &c.OIDC.AccessTokenLifetime},
		{"TWOFOLD_OIDC_ID_TOKEN_LIFETIME", &c.OIDC.IDTokenLifetime},
		{"TWOFOLD_OIDC_REFRESH_TOKEN_LIFETIME", &c.OIDC.RefreshTokenLifetime},
		{"TWOFOLD_OIDC_REFRESH_FAMILY_MAX_AGE", &c.OIDC.RefreshFamilyMaxAge},
	} {
		if s := getenv(v.name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %s is not a duration such as 10m or 720h", v.name, apperr.Quote(s)))
				continue
			}
			*v.dst = d
		}
	}
	return problems
}

// validateOIDC checks the lifetimes.
func (c *Config) validateOIDC() []error {
	var p []error
	o := c.OIDC
	if o.AccessTokenLifetime < time.Minute || o.AccessTokenLifetime > 24*time.Hour {
		p = append(p, fmt.Errorf("oidc.access_token_lifetime: %s is outside 1m..24h", o.AccessTokenLifetime))
	}
	if o.IDTokenLifetime < time.Minute || o.IDTokenLifetime > 24*time.Hour {
		p = append(p, fmt.Errorf("oidc.id_token_lifetime: %s is outside 1m..24h", o.IDTokenLifetime))
	}
	if o.RefreshTokenLifetime < time.Hour || o.RefreshTokenLifetime > 365*24*time.Hour {
		p = append(p, fmt.Errorf("oidc.refresh_token_lifetime: %s is outside 1h..8760h", o.RefreshTokenLifetime))
	}
	if o.RefreshFamilyMaxAge < time.Hour || o.RefreshFamilyMaxAge > 5*365*24*time.Hour {
		p = append(p, fmt.Errorf("oidc.refresh_family_max_age: %s is outside 1h..43800h", o.RefreshFamilyMaxAge))
	}
	return p
}

// Issuer is the OpenID Connect issuer: server.public_url without a trailing slash, or for
// local use http://<listen address> (https:// when the server serves TLS; an unspecified host
// such as 0.0.0.0 becomes 127.0.0.1).
// listenAddr is the address the server actually listens on (its port may have been 0).
func (c *Config) Issuer(listenAddr string) string {
	if c.Server.PublicURL != "" {
		return strings.TrimRight(c.Server.PublicURL, "/")
	}
	scheme := c.Server.Scheme() + "://"
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return scheme + listenAddr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return scheme + net.JoinHostPort(host, port)
}

package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// client is a stored client as the op package sees it.
type client struct {
	c          *store.OIDCClient
	idTokenTTL time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ApplicationType: confidential clients are web applications. Public ones are native (or
// browser) applications, which may use loopback and private-scheme redirect URIs; the
// exact match of the URI is checked on top of the op package's rules (see CreateAuthRequest).
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// LoginURL is where an authorization request goes once stored: twofold's own sign-in
// integration, which sends the browser through the login when needed.
func (c *client) LoginURL(id string) string { return CallbackPath + "?id=" + url.QueryEscape(id) }

func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return c.idTokenTTL }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(string) bool           { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// NewClient describes a client to register.
type NewClient struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool
	FirstParty             bool
	IDTokenAlg             string // empty: ES256
}

// RegisteredClient is a client just registered, with its secret: the only time it exists
// in clear (empty for a public client).
type RegisteredClient struct {
	Client *store.OIDCClient
	Secret string
}

// Audit events of the OpenID Connect provider.
const (
	EventClientAdded     = "oidc.client_added"
	EventClientRemoved   = "oidc.client_removed"
	EventKeysRotated     = "oidc.keys_rotated"
	EventAuthorized      = "oidc.authorized"
	EventConsentGranted  = "oidc.consent_granted"
	EventConsentDenied   = "oidc.consent_denied"
	EventKeyDenied       = "oidc.security_key_denied" // the user gave up the key an application demanded
	EventCodeReplayed    = "oidc.code_replayed"
	EventRefreshReused   = "oidc.refresh_token_reused"
	EventTokensRevoked   = "oidc.tokens_revoked"
	maxClientName        = 64
	maxRedirectURIs      = 20
	maxRedirectURILength = 2000
)

func describeClient(c *store.OIDCClient) string {
	kind := "confidential"
	if c.Public {
		kind = "public"
	}
	return fmt.Sprintf("client %s (%s, %s)", c.Name, c.ID, kind)
}

// validateClient checks a new client and fills in defaults. Its errors name the form
// field they are about (name, redirect_uris, post_logout_redirect_uris, id_token_alg) and
// come from the message catalog.
func validateClient(nc *NewClient) error {
	bad := func(field, key string, args ...any) error {
		return apperr.Msg(apperr.CodeBadRequest, key, args...).In(field)
	}
	nc.Name = strings.TrimSpace(nc.Name)
	if nc.Name == "" || utf8.RuneCountInString(nc.Name) > maxClientName || strings.ContainsAny(nc.Name, "\x00\r\n\t") {
		return bad("name", "err.client.name", "Max", maxClientName)
	}
	if !utf8.ValidString(nc.Name) || auth.ContainsUnseen(nc.Name) {
		// The consent page shows the name: a direction override could turn it into another.
		// A joiner between two visible characters, as an emoji or a Persian word has, may stay.
		return bad("name", "err.client.name_chars")
	}
	if nc.IDTokenAlg == "" {
		nc.IDTokenAlg = AlgES256
	}
	if !ValidAlg(nc.IDTokenAlg) {
		return bad("id_token_alg", "err.client.alg", "Alg", apperr.Quote(nc.IDTokenAlg))
	}
	if len(nc.RedirectURIs) == 0 {
		return bad("redirect_uris", "err.client.no_redirect")
	}
	for _, l := range []struct {
		field string
		list  *[]string
	}{{"redirect_uris", &nc.RedirectURIs}, {"post_logout_redirect_uris", &nc.PostLogoutRedirectURIs}} {
		if len(*l.list) > maxRedirectURIs {
			return bad(l.field, "err.client.too_many", "Max", maxRedirectURIs)
		}
		var clean []string
		for _, u := range *l.list {
			if key := checkRedirectURI(u, nc.Public); key != "" {
				return bad(l.field, key, "URI", apperr.Quote(u))
			}
			if !slices.Contains(clean, u) {
				clean = append(clean, u)
			}
		}
		*l.list = clean
	}
	return nil
}

// checkRedirectURI accepts absolute URIs without fragment, user information, white
// space or invisible characters, whose port (if any) is one from 1 to 65535: https
// anywhere, http only on the loopback interface (or any host for a confidential client, for
// development), and for public clients private-use schemes named after a domain the other
// way round (com.example.app:/callback, RFC 8252 section 7.1). It returns "" for a good URI,
// else the catalog key of what is wrong.
func checkRedirectURI(raw string, public bool) string {
	if raw == "" {
		return "err.client.uri_absolute"
	}
	if len(raw) > maxRedirectURILength {
		return "err.client.uri_long"
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || auth.Unseen(r) }) {
		// A no-break space or a direction mark would be stored and matched, but no
		// application sends it back, and a person reading the list cannot see it.
		return "err.client.uri_space"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "err.client.uri_absolute"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "err.client.uri_fragment"
	}
	if u.User != nil {
		// RFC 6749 section 3.1.2 and the OAuth 2.0 security BCP: a password in a URI that
		// every authorization repeats, and user@host reads as another host than it is.
		return "err.client.uri_userinfo"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "err.client.uri_port"
		}
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return "err.client.uri_host"
		}
	case "http":
		if u.Host == "" {
			return "err.client.uri_host"
		}
		if _, loopback := op.HTTPLoopbackOrLocalhost(raw); public && !loopback {
			return "err.client.uri_public_http"
		}
	case "javascript", "vbscript", "data", "file", "blob", "about", "filesystem", "view-source":
		// The way back can be a link on a twofold page: never one the browser runs or renders.
		return "err.client.uri_scheme"
	default:
		if !public {
			return "err.client.uri_https"
		}
		if !reverseDomain(u.Scheme) {
			// ftp:, ws:, mailto:, chrome: and every other scheme of the web or a browser
			// is one word; only a reverse domain name is surely the application's own.
			return "err.client.uri_private_scheme"
		}
	}
	return ""
}

// reverseDomain reports whether scheme is a domain name written the other way round
// (com.example.app): two or more labels of letters, digits and '-', separated by dots.
func reverseDomain(scheme string) bool {
	labels := strings.Split(scheme, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.ContainsFunc(l, func(r rune) bool {
			return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-')
		}) {
			return false
		}
	}
	return true
}

// hashSecret is what is stored of a client secret.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// secretMatches compares in constant time.
func secretMatches(c *store.OIDCClient, secret string) bool {
	return !c.Public && len(c.SecretHash) == sha256.Size && secret != "" &&
		subtle.ConstantTimeCompare(hashSecret(secret), c.SecretHash) == 1
}

// newClientID returns a random client ID (128 bits, hex): no '-' or '_', so it never
// reads as a command-line flag and needs no quoting anywhere.
func newClientID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// newClientSecret returns a client secret: 256 random bits.
func newClientSecret() (string, error) { return randomString(32) }

// randomString returns n random bytes, base64url without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

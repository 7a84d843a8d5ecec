package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/secrets"
)

// Paths of the protocol endpoints (announced in the discovery document) and of the
// sign-in integration pages the web server serves.
const (
	DiscoveryPath     = "/.well-known/openid-configuration"
	AuthorizePath     = "/authorize"
	CallbackPath      = "/authorize/callback" // where a stored request continues, ?id=
	TokenPath         = "/oauth/token"
	IntrospectionPath = "/oauth/introspect"
	UserinfoPath      = "/userinfo"
	RevocationPath    = "/oauth/revoke"
	EndSessionPath    = "/end_session"
	KeysPath          = "/.well-known/jwks.json"
	// LogoutConfirmPath is the page where the user confirms a logout request without an
	// id_token_hint (?client_id, post_logout_redirect_uri, state); LoggedOutPath is where a
	// logout lands without a post_logout_redirect_uri.
	LogoutConfirmPath = "/end_session/confirm"
	LoggedOutPath     = "/login?done=logout"
)

// ProtocolPaths are the endpoints the op package serves, for mounting.
var ProtocolPaths = []string{DiscoveryPath, AuthorizePath, TokenPath, IntrospectionPath, UserinfoPath,
	RevocationPath, EndSessionPath, KeysPath}

// Default lifetimes.
const (
	DefaultAccessTokenLifetime  = 10 * time.Minute
	DefaultIDTokenLifetime      = time.Hour
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	// DefaultRefreshFamilyMaxAge ends a family of refresh tokens, however often it was
	// refreshed, this long after the sign-in that started it.
	DefaultRefreshFamilyMaxAge = 90 * 24 * time.Hour
)

// Options configure a Provider. Store, Keyring, Auth and Issuer are required.
type Options struct {
	Store   Store
	Keyring *secrets.Keyring
	// Auth ends the sessions RP-initiated logout names.
	Auth *auth.Service
	// Issuer is the provider's absolute URL (server.public_url), without a trailing slash.
	Issuer string
	// Lifetimes; zero means the default.
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	// RefreshFamilyMaxAge ends a refresh token family this long after the sign-in that
	// started it, however often it was refreshed.
	RefreshFamilyMaxAge time.Duration
	Now                 func() time.Time // default time.Now
	Log                 *slog.Logger
	// Metrics counts the tokens issued and the refresh tokens reused; nil counts nothing.
	Metrics metrics.Recorder
	// Admin, when set, shares the signing keys it rotates: its rotations take effect at
	// once here, not within KeyCacheTime.
	Admin *Admin
}

// corsOptions let browser applications of any origin call the endpoints, but never with
// twofold's cookies: they authenticate with client credentials or tokens.
var corsOptions = cors.Options{
	AllowOriginFunc:  func(string) bool { return true },
	AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
	AllowedHeaders:   []string{"Accept", "Authorization", "Content-Type"},
	AllowCredentials: false,
}

// Provider is twofold's OpenID Connect provider.
type Provider struct {
	op      *op.Provider
	cors    *cors.Cors // for the endpoints served here rather than by the op package
	storage *storage
	issuer  string
	now     func() time.Time
	log     *slog.Logger
}

// New builds the provider. Plain http issuers are allowed (for local use); production
// deployments set an https public_url.
func New(o Options) (*Provider, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if fallback := routeLibraryLogs(); o.Log == nil {
		o.Log = slog.New(fallback)
	}
	o.Issuer = strings.TrimRight(o.Issuer, "/")
	u, err := url.Parse(o.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("oidc: issuer %q is not an http(s) URL", o.Issuer)
	}
	if o.Auth == nil {
		return nil, errors.New("oidc: the auth service is required")
	}
	keys := newKeyring(o.Store, o.Keyring, o.Now)
	if o.Admin != nil {
		keys = o.Admin.signing
	}
	st := &storage{
		st: o.Store, auth: o.Auth, keys: keys, now: o.Now, log: o.Log,
		metrics:      metrics.Or(o.Metrics),
		accessTTL:    orDefault(o.AccessTokenLifetime, DefaultAccessTokenLifetime),
		idTokenTTL:   orDefault(o.IDTokenLifetime, DefaultIDTokenLifetime),
		refreshTTL:   orDefault(o.RefreshTokenLifetime, DefaultRefreshTokenLifetime),
		familyMaxAge: orDefault(o.RefreshFamilyMaxAge, DefaultRefreshFamilyMaxAge),
	}
	cfg := &op.Config{
		CryptoKey:                [32]byte(o.Keyring.Derive("oidc-token-crypto")),
		CryptoKeyId:              "1",
		DefaultLogoutRedirectURI: LoggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		SupportedClaims:          supportedClaims,
	}
	opts := []op.Option{
		op.WithCustomEndpoints(op.NewEndpoint(AuthorizePath), op.NewEndpoint(TokenPath), op.NewEndpoint(UserinfoPath),
			op.NewEndpoint(RevocationPath), op.NewEndpoint(EndSessionPath), op.NewEndpoint(KeysPath)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(IntrospectionPath)),
		op.WithCORSOptions(&corsOptions),
	}
	if u.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	p, err := op.NewProvider(cfg, st, op.StaticIssuer(o.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return &Provider{op: p, cors: cors.New(corsOptions), storage: st, issuer: o.Issuer, now: o.Now, log: o.Log}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

var supportedClaims = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
	"azp", "at_hash", "c_hash", "name", "preferred_username", "updated_at", "email", "email_verified"}

// Issuer returns the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// maxProtocolBody bounds the form bodies of the protocol endpoints.
const maxProtocolBody = 64 << 10

// ServeHTTP serves the protocol endpoints (ProtocolPaths) with the methods of
// ProtocolMethods; the server that mounts it routes no other method here, and answers
// those 405 itself.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(withLogger(withCall(r.Context()), p.log))
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxProtocolBody)
	}
	switch r.URL.Path {
	case DiscoveryPath:
		p.discovery(w, r)
		return
	case TokenPath, IntrospectionPath, RevocationPath:
		w = &credentialAnswer{ResponseWriter: w, clientAuth: true}
	case UserinfoPath, EndSessionPath: // end_session reads an ID token
		w = &credentialAnswer{ResponseWriter: w}
	}
	if r.Method == http.MethodOptions {
		// A CORS preflight, which the op package would answer with the same options: none
		// of the checks below is about it.
		p.cors.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
		return
	}
	if p.checkParams(w, r) || p.exactRedirects(w, r) || p.unsupported(w, r) || (r.URL.Path == TokenPath || r.URL.Path == RevocationPath) && p.clientFirst(w, r) {
		return
	}
	switch r.URL.Path {
	case EndSessionPath:
		callFrom(r.Context()).logout = r.Form
		p.op.ServeHTTP(w, r)
	case RevocationPath:
		if r.Form.Get("token") == "" { // RFC 7009, section 2.1: the op package revokes nothing and answers 200
			p.cors.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusBadRequest, OAuthError{Error: string(oidc.InvalidRequest), Description: "The token parameter is required."})
			})).ServeHTTP(w, r)
			return
		}
		p.op.ServeHTTP(w, r)
	case IntrospectionPath:
		p.cors.Handler(http.HandlerFunc(p.introspect)).ServeHTTP(w, r)
	case UserinfoPath:
		p.cors.Handler(http.HandlerFunc(p.userinfo)).ServeHTTP(w, r)
	default:
		p.op.ServeHTTP(w, r)
	}
}

// discovery serves the op package's discovery document, narrowed to what twofold offers.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	d := op.CreateDiscoveryConfig(ctx, p.op, p.storage)
	d.DeviceAuthorizationEndpoint = ""
	d.CheckSessionIframe = ""
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	d.ACRValuesSupported = []string{ACRMFA, ACRPhishingResistant, ACRMultiFactorPAPE}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic}
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RequestObjectSigningAlgValuesSupported = nil
	d.RequestParameterSupported = false
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.ClaimsParameterSupported = false
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	op.Discover(w, d)
}

// Housekeep deletes expired requests, tokens and keys every interval until ctx ends. Each
// round is idempotent, so every instance may run it.
func (p *Provider) Housekeep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := p.storage.st.DeleteExpiredOIDC(ctx, p.now()); err != nil && ctx.Err() == nil {
			p.log.Warn("oidc housekeeping failed", "err", err)
		} else if n > 0 {
			p.log.Debug("oidc housekeeping", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

package web

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/logging"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/register"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

//go:embed templates static
var assets embed.FS

// Options configure the HTTP server.
type Options struct {
	Auth *auth.Service
	Log  *slog.Logger
	// SecureCookies marks cookies Secure with the __Host- prefix (set when served over HTTPS).
	SecureCookies bool
	// Ready checks the dependencies for /readyz; nil means always ready.
	Ready func(context.Context) error
	// RateLimits are the per-client-address limits; the zero value turns them off.
	RateLimits RateLimits
	// TrustedProxies are the networks whose X-Forwarded-For names the client (see clientip.go).
	TrustedProxies []netip.Prefix
	// Support runs the support desk (/support, /api/v1/support); nil leaves it out.
	Support *support.Service
	// Invite accepts invitations (/invite, /api/v1/invitations); nil leaves it out.
	Invite *invite.Service
	// Address verifies and changes users' e-mail addresses; nil leaves it out.
	Address *address.Service
	// OIDC is the OpenID Connect provider (issue 6); nil leaves it out.
	OIDC *oidc.Provider
	// OIDCAdmin manages the provider's clients and signing keys for the admin console and
	// API; nil leaves those pages out.
	OIDCAdmin *oidc.Admin
	// Settings are the effective configuration the admin console shows, secrets redacted
	// (config.Effective).
	Settings []config.Setting
	// Tokens checks the API tokens of the admin API and manages them (/admin/tokens); nil
	// refuses every token and leaves the token pages out.
	Tokens *apitoken.Service
	// Register runs self-registration; nil or off leaves /register answering 404.
	Register *register.Service
	// PublicURL is server.public_url. When set, the browser returns after the sign-in to
	// an absolute URL on its origin; empty, to a path.
	PublicURL string
	// Brand is the product name, logo and accent colour of the pages.
	Brand Brand
	// Admin manages users for the admin console and API; nil leaves the user pages out.
	Admin *admin.Service
	// Keys seal the results a form hands to the page it redirects to (result.go); every
	// instance must have the same. Nil uses a random key of this process only.
	Keys *secrets.Keyring
	// Metrics records every request by route, and the busy answers; nil records nothing.
	Metrics metrics.Recorder
}

// Server is twofold's HTTP handler.
type Server struct {
	auth   *auth.Service
	log    *slog.Logger
	secure bool
	ready  func(context.Context) error
	pages  *pages
	mux    *http.ServeMux
	// routeTable is every route registered on mux with its access level.
	routeTable []route
	guard      *guard
	support    *support.Service
	brand      Brand
	invite     *invite.Service
	address    *address.Service
	oidc       *oidc.Provider
	clients    *oidc.Admin
	settings   []config.Setting
	register   *register.Service
	tokens     *apitoken.Service
	admin      *admin.Service
	origin     string // scheme://host of Options.PublicURL, or ""
	results    *secrets.Box
	handler    http.Handler
	metrics    metrics.Recorder
	// routeMetrics are the recorders of the routes by pattern, for requests answered
	// before their route ran; unmatched records those no route matches.
	routeMetrics map[string]metrics.RouteRecorder
	unmatched    metrics.RouteRecorder
	// fallbacks are the patterns of noRoute ("/", "/api/"), which serve every method.
	fallbacks map[string]bool
}

// New builds the server and its routes.
func New(o Options) (*Server, error) {
	s := &Server{auth: o.Auth, log: o.Log, secure: o.SecureCookies, ready: o.Ready, metrics: metrics.Or(o.Metrics)}
	s.routeMetrics = map[string]metrics.RouteRecorder{}
	s.fallbacks = map[string]bool{}
	s.unmatched = s.metrics.Route("unmatched")
	s.guard = newGuard(o.RateLimits, o.TrustedProxies)
	s.support = o.Support
	s.invite = o.Invite
	s.address = o.Address
	s.oidc = o.OIDC
	s.clients, s.settings = o.OIDCAdmin, o.Settings
	s.register = o.Register
	s.tokens = o.Tokens
	s.admin = o.Admin
	s.brand = o.Brand
	if s.brand.Name == "" {
		s.brand.Name = "twofold"
	}
	keys := o.Keys
	if keys == nil {
		master := make([]byte, secrets.KeySize)
		if _, err := rand.Read(master); err != nil {
			return nil, err
		}
		var err error
		if keys, err = secrets.NewKeyring(master); err != nil {
			return nil, err
		}
	}
	s.results = keys.Box(resultPurpose)
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("public URL %q is not an http(s) URL", o.PublicURL)
		}
		s.origin = u.Scheme + "://" + u.Host
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = logging.Logger(s.log)
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s.pages = p
	mux := http.NewServeMux()
	s.mux = mux
	rt := &router{s: s, mux: mux}
	s.routes(rt)
	s.routeTable = rt.routes
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	s.oidcBypass(csrf)
	s.handler = s.accessLog(s.recoverPanics(securityHeaders(s.secure, s.guarded(csrf.Handler(mux)))))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routes registers every route with its access level (access.go).
func (s *Server) routes(rt *router) {
	static, _ := fs.Sub(assets, "static")
	rt.handle("GET /static/", public, staticFiles(static))
	rt.handle("GET /healthz", public, func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, Health{Status: "ok"})
		return nil
	})
	rt.handle("GET /readyz", public, s.readyz)

	// JSON API.
	rt.handle("GET /api/v1/openapi.json", public, s.openAPIDoc)
	rt.handle("POST /api/v1/login", public, s.apiLogin)
	rt.handle("POST /api/v1/login/totp", partial, s.apiLoginTOTP)
	rt.handle("POST /api/v1/login/recovery-code", partial, s.apiLoginRecovery)
	rt.handle("GET /api/v1/session", partial, s.apiSession)
	rt.handle("POST /api/v1/logout", public, s.apiLogout)
	rt.handle("POST /api/v1/account/mfa/totp", enrolling, s.apiBeginTOTP)
	rt.handle("POST /api/v1/account/mfa/totp/confirm", enrolling, s.apiConfirmTOTP)
	rt.handle("POST /api/v1/account/mfa/recovery-code", signedIn, s.apiNewRecoveryCode)
	rt.handle("GET /api/v1/account/mfa", signedIn, s.apiMFAFactors)
	rt.handle("POST /api/v1/account/mfa/webauthn/register", enrolling, s.apiWebAuthnRegister)
	rt.handle("POST /api/v1/account/mfa/webauthn/register/finish", enrolling, s.apiWebAuthnRegisterFinish)
	rt.handle("DELETE /api/v1/account/mfa/webauthn/{id}", signedIn, s.apiWebAuthnRemove)
	rt.handle("POST /api/v1/login/webauthn", partial, s.apiLoginWebAuthn)
	rt.handle("POST /api/v1/login/webauthn/finish", partial, s.apiLoginWebAuthnFinish)
	rt.handle("POST /api/v1/login/passkey", public, s.apiLoginPasskey)
	rt.handle("POST /api/v1/login/passkey/finish", public, s.apiLoginPasskeyFinish)
	rt.handle("POST /api/v1/account/password", signedIn, s.apiChangePassword)
	rt.handle("POST /api/v1/password/forgot", public, s.apiForgotPassword)
	rt.handle("POST /api/v1/password/reset", public, s.apiResetPassword)
	rt.handle("POST /api/v1/password/reset/webauthn", public, s.apiResetKey)
	rt.handle("GET /api/v1/account/sessions", signedIn, s.apiSessions)
	rt.handle("POST /api/v1/account/sessions/sign-out-others", signedIn, s.apiSignOutOthers)
	rt.handle("POST /api/v1/account/sessions/{id}/sign-out", signedIn, s.apiSignOutSession)
	rt.handle("GET /api/v1/account/applications", signedIn, s.apiApplications)
	rt.handle("POST /api/v1/account/profile", signedIn, s.apiProfile)
	rt.handle("POST /api/v1/account/applications/{client_id}/revoke", signedIn, s.apiRemoveApplication)
	rt.fallback("/api/")

	// HTML pages.
	rt.handle("GET /{$}", public, s.home)
	rt.fallback("/")
	rt.handle("GET /login", public, s.loginPage)
	rt.handle("POST /login", public, s.loginSubmit)
	rt.handle("GET /password/forgot", public, s.forgotPage)
	rt.handle("POST /password/forgot", public, s.forgotSubmit)
	rt.handle("GET /password/forgot/sent", public, s.forgotSentPage)
	rt.handle("GET /password/reset", public, s.resetPage)
	rt.handle("POST /password/reset/code", public, s.resetCodeSubmit)
	rt.handle("POST /password/reset/key", public, s.jsonAnswers(s.resetKeySubmit))
	rt.handle("POST /password/reset", public, s.resetSubmit)
	rt.handle("GET /password/reset/done", public, s.resetDonePage)
	rt.handle("GET /login/code", codeDue, s.codePage)
	rt.handle("POST /login/code", codeDue, s.codeSubmit)
	rt.handle("GET /login/recovery", codeDue, s.recoveryPage)
	rt.handle("GET /login/key", signedIn, s.keyConfirmPage)
	rt.handle("POST /login/recovery", codeDue, s.recoverySubmit)
	rt.handle("GET /mfa/setup", enrolling, s.setupPage)
	rt.handle("POST /mfa/setup/start", enrolling, s.setupStart)
	rt.handle("POST /mfa/setup/confirm", enrolling, s.setupConfirm)
	rt.handle("GET /recovery-code", signedIn, s.savedCodePage)
	rt.handle("GET /recovery-code/download", signedIn, s.savedCodeDownload)
	rt.handle("POST /recovery-code/ack", signedIn, s.savedCodeAck)
	rt.handle("GET /account/security", signedIn, s.securityPage)
	rt.handle("POST /account/recovery-code", signedIn, s.newRecoveryCodeSubmit)
	rt.handle("POST /account/password", signedIn, s.passwordSubmit)
	rt.handle("POST /account/sessions/sign-out-others", signedIn, s.signOutOthersSubmit)
	rt.handle("POST /account/sessions/{id}/sign-out", signedIn, s.signOutSessionSubmit)
	rt.handle("POST /account/applications/{client_id}/revoke", signedIn, s.removeApplicationSubmit)
	rt.handle("POST /account/profile", signedIn, s.profileSubmit)
	rt.handle("GET /logout", partial, s.logoutPage)
	rt.handle("POST /logout", public, s.logoutSubmit)
	rt.handle("GET /setup", public, s.setupAdminPage)
	rt.handle("POST /setup", public, s.setupAdminSubmit)
	rt.handle("POST /language", public, s.languageSubmit)
	s.supportRoutes(rt)
	s.registerRoutes(rt)
	s.brandRoutes(rt)
	s.inviteRoutes(rt)
	s.addressRoutes(rt)
	s.oidcRoutes(rt)
	s.keyRoutes(rt)
	s.adminRoutes(rt)
	s.adminClientRoutes(rt)
}

// Health answers /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			if !errors.Is(err, store.ErrUnavailable) {
				err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
			}
			return err // Error logs it and answers 503
		}
	}
	writeJSON(w, http.StatusOK, Health{Status: "ready"})
	return nil
}

// errNoPage is the 404 page.
var errNoPage = apperr.Msg(apperr.CodeNotFound, "err.no_page")

// probeMethods are the methods noRoute asks the mux about, in the order Allow lists them.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions}

// allowed returns the methods some route serves r's path with (GET serves HEAD as well),
// the fallbacks not counted; none when no route serves the path.
func (s *Server) allowed(r *http.Request) []string {
	var allow []string
	// One shallow copy for every probe: the mux reads the method, host and path, and
	// changes nothing.
	probe := r.WithContext(r.Context())
	for _, m := range probeMethods {
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && !s.fallbacks[pattern] {
			allow = append(allow, m)
		}
	}
	return allow
}

// maxShownMethod caps the request method a 405 message repeats. A method is any token, as
// long as the request line; every registered one (UPDATEREDIRECTREF, 17 bytes) fits.
const maxShownMethod = 20

// shownMethod is r's method as a message repeats it: whole up to maxShownMethod bytes,
// else its first maxShownMethod bytes and "…".
func shownMethod(r *http.Request) string {
	if len(r.Method) <= maxShownMethod {
		return r.Method
	}
	// The server takes only token characters (ASCII) as a method; valid text whatever came.
	return strings.ToValidUTF8(r.Method[:maxShownMethod], "") + "…"
}

// noRoute answers a request no route serves. When its path is served for other methods
// it answers 405 Method Not Allowed with Allow listing them (RFC 9110, section 15.5.6),
// each surface in its format and naming the method (shownMethod): the JSON API a problem
// document, an OAuth endpoint an OAuth error (oidcMethodNotAllowed), a page the error
// page. Otherwise it answers 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) error {
	allow := s.allowed(r)
	if len(allow) == 0 {
		if isAPI(r) {
			return apperr.New(apperr.CodeNotFound, "No such API endpoint.")
		}
		return errNoPage
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	if s.isOAuth(r) {
		s.oidcMethodNotAllowed(w, r, allow)
		return nil
	}
	return apperr.Msg(codeMethodNotAllowed, "err.method_not_allowed", "Method", shownMethod(r), "Allow", strings.Join(allow, ", "))
}

func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.Error(w, r, apperr.Msg(apperr.CodeForbidden, "err.cross_origin")) // a page for a page's form
}

// recoverPanics turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "value", v, "stack", string(debug.Stack()))
				s.Error(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every answer carries.
func securityHeaders(https bool, next http.Handler) http.Handler {
	headers := []fixedHeader{
		fixed("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; script-src 'self'; "+
			"style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"),
		fixed("X-Content-Type-Options", "nosniff"),
		fixed("Referrer-Policy", "no-referrer"),
		fixed("X-Frame-Options", "DENY"),
	}
	if https {
		headers = append(headers, fixed("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, f := range headers {
			f.set(h)
		}
		next.ServeHTTP(w, r)
	})
}

// staticFiles serves the files of static under /static/, cacheable for an hour. A
// directory, or a name that is no file, is the 404 page: no listing of what is there.
func staticFiles(static fs.FS) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if fi, err := fs.Stat(static, name); err != nil || fi.IsDir() {
			return errNoPage
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, static, name)
		return nil
	}
}

// meta describes the request for the audit log. A User-Agent that is not UTF-8 (HTTP allows
// such bytes) is made valid text: PostgreSQL refuses anything else, which would fail the
// sign-in and drop its audit rows.
func meta(r *http.Request) auth.Meta {
	return auth.Meta{IP: clientIP(r), UserAgent: strings.ToValidUTF8(r.UserAgent(), "\uFFFD")}
}

// userMeta is meta for what the signed-in user does to their own account: the audit log
// names them as the actor.
func userMeta(r *http.Request, cur *auth.Current) auth.Meta {
	m := meta(r)
	m.ActorID = cur.User.ID
	return m
}

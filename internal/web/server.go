package web

import (
	"context"
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

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/oidc"
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
	// OIDC is the OpenID Connect provider (issue 6); nil leaves it out.
	OIDC *oidc.Provider
	// PublicURL is server.public_url. When set, the browser returns after the sign-in to
	// an absolute URL on its origin; empty, to a path.
	PublicURL string
}

// Server is twofold's HTTP handler.
type Server struct {
	auth    *auth.Service
	log     *slog.Logger
	secure  bool
	ready   func(context.Context) error
	pages   *pages
	mux     *http.ServeMux
	guard   *guard
	support *support.Service
	oidc    *oidc.Provider
	origin  string // scheme://host of Options.PublicURL, or ""
	handler http.Handler
}

// New builds the server and its routes.
func New(o Options) (*Server, error) {
	s := &Server{auth: o.Auth, log: o.Log, secure: o.SecureCookies, ready: o.Ready}
	s.guard = newGuard(o.RateLimits, o.TrustedProxies)
	s.support = o.Support
	s.oidc = o.OIDC
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
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s.pages = p
	mux := http.NewServeMux()
	s.mux = mux
	s.routes(mux)
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	s.oidcBypass(csrf)
	s.handler = s.recoverPanics(securityHeaders(s.secure, s.guarded(csrf.Handler(mux))))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	s.handle(mux, "GET /healthz", func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	})
	s.handle(mux, "GET /readyz", s.readyz)

	// JSON API.
	s.handle(mux, "POST /api/v1/login", s.apiLogin)
	s.handle(mux, "POST /api/v1/login/totp", s.apiLoginTOTP)
	s.handle(mux, "POST /api/v1/login/recovery-code", s.apiLoginRecovery)
	s.handle(mux, "GET /api/v1/session", s.apiSession)
	s.handle(mux, "POST /api/v1/logout", s.apiLogout)
	s.handle(mux, "POST /api/v1/account/mfa/totp", s.apiBeginTOTP)
	s.handle(mux, "POST /api/v1/account/mfa/totp/confirm", s.apiConfirmTOTP)
	s.handle(mux, "POST /api/v1/account/mfa/recovery-code", s.apiNewRecoveryCode)
	s.handle(mux, "POST /api/v1/account/password", s.apiChangePassword)
	s.handle(mux, "GET /api/v1/account/sessions", s.apiSessions)
	s.handle(mux, "POST /api/v1/account/sessions/sign-out-others", s.apiSignOutOthers)
	s.handle(mux, "/api/", s.apiNotFound)

	// HTML pages.
	s.handle(mux, "GET /{$}", s.home)
	s.handle(mux, "/", s.notFoundPage)
	s.handle(mux, "GET /login", s.loginPage)
	s.handle(mux, "POST /login", s.loginSubmit)
	s.handle(mux, "GET /login/code", s.codePage)
	s.handle(mux, "POST /login/code", s.codeSubmit)
	s.handle(mux, "GET /login/recovery", s.recoveryPage)
	s.handle(mux, "POST /login/recovery", s.recoverySubmit)
	s.handle(mux, "GET /mfa/setup", s.setupPage)
	s.handle(mux, "POST /mfa/setup/start", s.setupStart)
	s.handle(mux, "POST /mfa/setup/confirm", s.setupConfirm)
	s.handle(mux, "GET /recovery-code", s.savedCodePage)
	s.handle(mux, "GET /recovery-code/download", s.savedCodeDownload)
	s.handle(mux, "POST /recovery-code/ack", s.savedCodeAck)
	s.handle(mux, "GET /account/security", s.securityPage)
	s.handle(mux, "POST /account/recovery-code", s.newRecoveryCodeSubmit)
	s.handle(mux, "POST /account/password", s.passwordSubmit)
	s.handle(mux, "POST /account/sessions/sign-out-others", s.signOutOthersSubmit)
	s.handle(mux, "GET /logout", s.logoutPage)
	s.handle(mux, "POST /logout", s.logoutSubmit)
	s.handle(mux, "GET /setup", s.setupAdminPage)
	s.handle(mux, "POST /setup", s.setupAdminSubmit)
	s.supportRoutes(mux)
	s.oidcRoutes(mux)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready", "err", err)
			return apperr.ErrUnavailable
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// apiNotFound answers API paths no route serves: 405 with Allow when the path exists for
// other methods, else 404.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return apperr.New(codeMethodNotAllowed, "This endpoint does not accept "+r.Method+"; use "+strings.Join(allow, " or ")+".")
	}
	return apperr.New(apperr.CodeNotFound, "No such API endpoint.")
}

// notFoundPage answers paths no page serves with a styled 404.
func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) error {
	return apperr.New(apperr.CodeNotFound, "There is no page at this address.")
}

func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.writeProblem(w, r, apperr.New(apperr.CodeForbidden, "Cross-origin requests are not allowed."))
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

// handle registers h for pattern; its error is answered by Error.
func (s *Server) handle(mux *http.ServeMux, pattern string, h handlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.Error(w, r, err)
		}
	})
}

// securityHeaders sets the headers every answer carries.
func securityHeaders(https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; script-src 'self'; "+
			"style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if https {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// meta describes the request for the audit log. A User-Agent that is not UTF-8 (HTTP allows
// such bytes) is made valid text: PostgreSQL refuses anything else, which would fail the
// sign-in and drop its audit rows.
func meta(r *http.Request) auth.Meta {
	return auth.Meta{IP: clientIP(r), UserAgent: strings.ToValidUTF8(r.UserAgent(), "\uFFFD")}
}

package web

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/ratelimit"
	"github.com/twofold-id/twofold/internal/throttle"
)

// RateLimits are the per-client-address token buckets of one instance. A rate that is not
// On turns that limit off.
type RateLimits struct {
	SignIn throttle.Rate    // POST /login..., /password/..., /api/v1/login..., /api/v1/password/...
	API    throttle.Rate    // every other request under /api/, and the public forms (POST /support, /register, /register/confirm)
	Now    func() time.Time // the buckets' clock; nil means time.Now
}

// guard resolves the client address of every request and applies the rate limits.
type guard struct {
	proxies proxies
	signIn  *ratelimit.Limiter // nil: off
	api     *ratelimit.Limiter // nil: off
}

func newGuard(l RateLimits, trusted []netip.Prefix) *guard {
	g := &guard{proxies: proxies(trusted)}
	if l.SignIn.On() {
		g.signIn = ratelimit.New(l.SignIn, l.Now)
	}
	if l.API.On() {
		g.api = ratelimit.New(l.API, l.Now)
	}
	return g
}

// isSignInStep reports the requests that check a password or a code before anyone is
// signed in: the sign-in steps of the pages and of the API, and the forgotten-password
// requests and resets, which take the same per-address limit.
func isSignInStep(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	p := r.URL.Path
	for _, prefix := range []string{"/login", "/api/v1/login", "/password", "/api/v1/password"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// isPublicForm reports the submissions of the public forms that do what an API call does
// (the support form opens a case as POST /api/v1/support/cases does, the registration
// forms register and confirm as POST /api/v1/register and .../confirm do, the invitation
// form accepts as POST /api/v1/invitations/accept does), so they count against the same
// bucket.
func isPublicForm(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	switch r.URL.Path {
	case "/support", "/register", "/register/confirm", "/invite":
		return true
	}
	return false
}

// limiter is the bucket set r counts against, or nil.
func (g *guard) limiter(r *http.Request) *ratelimit.Limiter {
	switch {
	case isSignInStep(r):
		return g.signIn
	case strings.HasPrefix(r.URL.Path, "/api/"), isPublicForm(r):
		return g.api
	}
	return nil
}

// guarded resolves the client address once (so the audit log and the limits agree on it)
// and refuses a request over its rate limit with 429 rate_limited and Retry-After.
func (s *Server) guarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, ok := s.guard.proxies.clientAddr(r)
		ip := r.RemoteAddr
		if ok {
			ip = addr.String()
		}
		r, st := s.withState(r)
		st.ip = ip
		if lim := s.guard.limiter(r); lim != nil {
			if allowed, retry := lim.Allow(ratelimit.AddressKey(ip)); !allowed {
				s.log.DebugContext(r.Context(), "rate limited", "ip", ip, "path", r.URL.Path)
				e := apperr.Msg(apperr.CodeRateLimited, "err.rate_limited")
				e.RetryAfter = max(retry, time.Second)
				s.Error(w, r, e)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

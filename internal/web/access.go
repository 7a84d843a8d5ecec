package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

// access is what a route demands of the request's session. Every route declares its level
// where it is registered, and the route's wrapper applies it before the handler runs, so a
// handler cannot forget it. docs/api.md lists every route with its level.
type access int

const (
	// undeclared is the zero value: a route registered without a level is never served.
	undeclared access = iota
	// public lets anyone in; the handler may look at a session itself.
	public
	// partial needs a session in any state: the password is checked, and the code or the
	// authenticator setup may still be due.
	partial
	// codeDue needs a session whose password is checked and whose code is due.
	codeDue
	// enrolling needs a session that may set up an authenticator: one whose setup is due
	// before the sign-in ends, or a finished sign-in.
	enrolling
	// signedIn needs a finished sign-in (with the second factor whenever the MFA policy
	// requires one).
	signedIn
	// agent needs a finished sign-in with the second factor, by a support agent or an
	// administrator.
	agent
	// administrator ("admin") needs an administrator: a finished sign-in with the second factor by a user of
	// role admin (adminAllowed), or, on the admin API only, an API token that holds the
	// route's scope. Routes of this level are registered with router.admin.
	administrator
)

var accessNames = map[access]string{
	public: "public", partial: "partial", codeDue: "code_due", enrolling: "enrolling",
	signedIn: "signed_in", agent: "agent", administrator: "admin",
}

// String is the level's name in docs/api.md.
func (a access) String() string {
	if n, ok := accessNames[a]; ok {
		return n
	}
	return "undeclared"
}

// states are the session states a level lets in.
func (a access) states() []string {
	switch a {
	case partial:
		return []string{store.StateMFARequired, store.StateEnrollmentRequired, store.StateAuthenticated}
	case codeDue:
		return []string{store.StateMFARequired}
	case enrolling:
		return []string{store.StateAuthenticated, store.StateEnrollmentRequired}
	case signedIn, agent, administrator:
		return []string{store.StateAuthenticated}
	}
	return nil
}

// route is one registered pattern and its level; an admin route also names the scope an
// API token needs for it.
type route struct {
	pattern string
	access  access
	scope   admin.Scope
}

// level is the route's level as docs/api.md's route table shows it: the level, and for
// an admin route the scope after it ("admin users:read").
func (rt route) level() string {
	if rt.scope != "" {
		return rt.access.String() + " " + string(rt.scope)
	}
	return rt.access.String()
}

// router registers routes on the server's mux, each behind the wrapper of its access
// level, and keeps the list of what it registered.
type router struct {
	s      *Server
	mux    *http.ServeMux
	routes []route
}

// handle registers h for pattern behind level a; h's error is answered by Error.
func (rt *router) handle(pattern string, a access, h handlerFunc) {
	if a == administrator {
		panic("admin route " + pattern + " registered without a scope: use router.admin")
	}
	rt.add(pattern, a, "", h)
}

// admin registers h for pattern behind level admin: an administrator's console session,
// or on the API a token holding scope sc. A console page names the scope of the API
// calls it stands for, so the route table says what each page can do.
func (rt *router) admin(pattern string, sc admin.Scope, h handlerFunc) {
	if sc == "" {
		panic("admin route " + pattern + " registered without a scope")
	}
	rt.add(pattern, administrator, sc, h)
}

// agentAPI registers h for pattern behind level agent, which on the API an API token
// holding scope sc passes too: the support desk's reading calls, for automation. The
// handler finds no session then (sessionOf is nil); agentOf gives who reads.
func (rt *router) agentAPI(pattern string, sc admin.Scope, h handlerFunc) {
	if sc == "" || !strings.HasPrefix(pattern, "GET /api/") {
		panic("agent API route " + pattern + " needs a scope and must be a GET of the API")
	}
	rt.add(pattern, agent, sc, h)
}

// fallback registers the answer for the paths below prefix that no route serves: noRoute,
// which answers 405 with Allow when the path is served for other methods. It is the one
// route registered without a method; probing for Allow passes over it.
func (rt *router) fallback(prefix string) {
	rt.s.fallbacks[prefix] = true
	rt.add(prefix, public, "", rt.s.noRoute)
}

func (rt *router) add(pattern string, a access, sc admin.Scope, h handlerFunc) {
	if !strings.Contains(pattern, " ") && !rt.s.fallbacks[pattern] {
		// It would take every method, and no other method could get its 405.
		panic("route " + pattern + " registered without a method")
	}
	rt.routes = append(rt.routes, route{pattern: pattern, access: a, scope: sc})
	rec := rt.s.metrics.Route(pattern) // resolved once: a request pays no lookup
	rt.s.routeMetrics[pattern] = rec
	rt.mux.Handle(pattern, &routeHandler{s: rt.s, access: a, scope: sc, h: h, metrics: rec})
}

// routeHandler is what the mux holds for every route: the access check, then the handler.
type routeHandler struct {
	s       *Server
	access  access
	scope   admin.Scope // of an admin route
	h       handlerFunc
	metrics metrics.RouteRecorder
}

func (rh *routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r, st := rh.s.withState(r)
	st.route, st.metrics = r.Pattern, rh.metrics
	var cur *auth.Current
	var ok bool
	if rh.access == administrator {
		var act adminActor
		act, ok = rh.s.admitAdmin(w, r, rh.scope)
		if !ok {
			return
		}
		cur = act.cur
		r = r.WithContext(context.WithValue(r.Context(), actorKey{}, act.Actor))
	} else if tok, bearer := bearerToken(r); bearer && rh.scope != "" && isAPI(r) {
		// An agent API that a token with the route's scope may read (agentAPI).
		act, err := rh.s.admitToken(r, tok, rh.scope)
		if err != nil {
			rh.s.Error(w, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), actorKey{}, act.Actor))
	} else if cur, ok = rh.s.admit(w, r, rh.access); !ok {
		return
	}
	st.cur = cur
	if isAPI(r) && r.URL.RawQuery != "" {
		if err := repeatedParam(r.URL.Query()); err != nil {
			rh.s.Error(w, r, err)
			return
		}
	}
	if err := rh.h(w, r); err != nil {
		rh.s.Error(w, r, err)
	}
}

// repeatedParam refuses a query that gives a parameter twice: the JSON API reads one value
// of each (q.Get), and "limit=1&limit=500" must not quietly mean one of them.
func repeatedParam(q url.Values) error {
	for k, vs := range q {
		if len(vs) > 1 {
			return apperr.New(apperr.CodeBadRequest, fmt.Sprintf("Parameter %s is given %d times: give it once.", apperr.Quote(k), len(vs)))
		}
	}
	return nil
}

// sessionOf returns the session the route's access level admitted; nil on public routes.
func sessionOf(r *http.Request) *auth.Current {
	if st := stateOf(r); st != nil {
		return st.cur
	}
	return nil
}

// admit applies level a to r. It returns the session the level needs, or answers the
// request itself and returns false: the JSON API with 401 unauthenticated (403 forbidden
// for a role or sign-in the support console does not take), a page by sending the browser
// where its sign-in continues (a 403 page for the wrong role).
func (s *Server) admit(w http.ResponseWriter, r *http.Request, a access) (*auth.Current, bool) {
	switch a {
	case public:
		return nil, true
	case undeclared, administrator:
		s.Error(w, r, errors.New("route without an access level: "+r.Method+" "+r.URL.Path))
		return nil, false
	}
	cur, err := s.current(r)
	if isAPI(r) {
		if err == nil {
			err = a.allows(s.auth, cur)
		}
		if err != nil {
			s.Error(w, r, err)
			return nil, false
		}
		return cur, true
	}
	if err != nil && a == agent {
		// The console comes back to the page after the sign-in.
		redirect(w, r, "/login?next="+url.QueryEscape(s.pageOf(r)))
		return nil, false
	}
	if a == partial {
		if err != nil {
			redirect(w, r, "/login")
			return nil, false
		}
		return cur, true
	}
	cur, ok := s.pageStep(w, r, cur, err, a.states())
	if ok && a == agent {
		if err := agentAllowed(s.auth, cur); err != nil {
			if !s.keyPolicyStep(w, r, err) {
				s.Error(w, r, err)
			}
			return nil, false
		}
	}
	return cur, ok
}

// allows reports whether an API call with session cur passes level a: nil, or the error
// to answer with.
func (a access) allows(svc *auth.Service, cur *auth.Current) error {
	for _, st := range a.states() {
		if cur.Session.State == st {
			if a == agent {
				return agentAllowed(svc, cur)
			}
			return nil
		}
	}
	return apperr.ErrUnauthenticated
}

// pageOf is the page a browser sent to sign in comes back to: the page itself for a GET,
// the nearest page above a form's path for a form post (a case action returns to the case).
func (s *Server) pageOf(r *http.Request) string {
	if r.Method == http.MethodGet {
		return r.URL.RequestURI()
	}
	p := r.URL.EscapedPath()
	for p != "/" && p != "." {
		p = path.Dir(p)
		u, err := url.Parse(p)
		if err != nil {
			break
		}
		if _, pattern := s.mux.Handler(&http.Request{Method: http.MethodGet, URL: u, Host: r.Host}); pattern != "" && pattern != "/" {
			return p
		}
	}
	return "/"
}

// pageSession returns the request's session when it is in one of states; otherwise it
// sends the browser where it belongs and returns false.
func (s *Server) pageSession(w http.ResponseWriter, r *http.Request, states ...string) (*auth.Current, bool) {
	cur, err := s.current(r)
	return s.pageStep(w, r, cur, err, states)
}

// pageStep returns cur when it is in one of states; otherwise it sends the browser where
// it belongs (the sign-in without a session) and returns false. A finished sign-in whose
// new recovery code is not acknowledged yet is held on the recovery code page.
func (s *Server) pageStep(w http.ResponseWriter, r *http.Request, cur *auth.Current, err error, states []string) (*auth.Current, bool) {
	if err != nil {
		redirect(w, r, "/login")
		return nil, false
	}
	for _, st := range states {
		if cur.Session.State == st {
			if st == store.StateAuthenticated && s.auth.HeldRecoveryCode(cur) != "" && r.URL.Path != "/recovery-code" &&
				r.URL.Path != "/recovery-code/download" && r.URL.Path != "/recovery-code/ack" {
				redirect(w, r, "/recovery-code")
				return nil, false
			}
			return cur, true
		}
	}
	redirect(w, r, s.nextStep(cur))
	return nil, false
}

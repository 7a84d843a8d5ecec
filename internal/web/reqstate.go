package web

import (
	"context"
	"net/http"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/logging"
	"github.com/twofold-id/twofold/internal/metrics"
)

// requestState is what the middleware learns about one request while it is served: its
// id, the client address the guard resolved, the route that served it and that route's
// metrics, and the session its access level admitted. accessLog makes one per request and
// it is the request's context from there on: the chain then costs one allocation and one
// copy of the request, where a context value and a request copy per middleware cost
// several of each. It answers its own keys (the state, the request id, the language) and
// passes every other key, the cancellation and the deadline on to the context the server
// gave the request. It lives only as long as its request; nothing in it is kept across
// requests.
type requestState struct {
	context.Context
	// w is the request's writer as the chain below accessLog sees it.
	w statusWriter
	s *Server
	// req is the request as accessLog received it, for the language of its mails.
	req *http.Request
	// id is the request id, as the one-element slice X-Request-Id's header value is.
	id [1]string
	// ip is the client address the guard resolved; "" before it ran.
	ip string
	// route and metrics are the pattern of the route that served the request and its
	// recorder; zero before a route ran.
	route   string
	metrics metrics.RouteRecorder
	// cur is the session the route's access level admitted; nil on public routes.
	cur *auth.Current
}

type stateKey struct{}

// Value implements context.Context.
func (st *requestState) Value(key any) any {
	switch key.(type) {
	case stateKey:
		return st
	case logging.RequestIDKey:
		return st.id[0]
	case i18n.LangKey:
		// Chosen when asked for: only the requests that send a mail to an address without
		// an account want it, and matching Accept-Language is not free.
		return st.s.browserLang(st.req)
	}
	return st.Context.Value(key)
}

// stateOf is r's requestState, or nil outside accessLog.
func stateOf(r *http.Request) *requestState {
	st, _ := r.Context().Value(stateKey{}).(*requestState)
	return st
}

// withState returns r and its requestState, giving r one when it has none (a handler
// served outside the chain New builds, which starts with accessLog).
func (s *Server) withState(r *http.Request) (*http.Request, *requestState) {
	if st := stateOf(r); st != nil {
		return r, st
	}
	st := &requestState{Context: r.Context(), s: s, req: r}
	return r.WithContext(st), st
}

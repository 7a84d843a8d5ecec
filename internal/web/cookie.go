package web

import (
	"net/http"

	"github.com/twofold-id/twofold/internal/auth"
)

func (s *Server) cookieName() string {
	if s.secure {
		return "__Host-twofold_session"
	}
	return "twofold_session"
}

// setSession hands the browser a session token.
func (s *Server) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: token, Path: "/",
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// current resolves the request's session in any state, or returns ErrUnauthenticated.
func (s *Server) current(r *http.Request) (*auth.Current, error) {
	return s.auth.Authenticate(r.Context(), s.heldToken(r))
}

// heldToken is the token of the session the browser holds, "" when none.
func (s *Server) heldToken(r *http.Request) string {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		return c.Value
	}
	return ""
}

// endOldSession ends the session the browser held when a new sign-in succeeded, so one
// browser never keeps two. A failed sign-in leaves the old session alone.
func (s *Server) endOldSession(r *http.Request, newID string) {
	if cur, err := s.current(r); err == nil && cur.Session.ID != newID {
		if _, err := s.auth.End(r.Context(), auth.SessionReplaced, cur.User.ID, cur.Session.ID, meta(r)); err != nil {
			// The new sign-in stands; the old session ends with its timeouts.
			s.log.ErrorContext(r.Context(), "ending the replaced session failed", "session", cur.Session.ID, "err", err)
		}
	}
}

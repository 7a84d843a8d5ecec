package web

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// returnCookie remembers, across the sign-in steps, where the browser goes once signed in
// (for example an OpenID Connect authorization waiting for the login).
const returnCookie = "twofold_return"

// safeReturn accepts only a path on this server: no scheme, no host, no protocol-relative
// "//" or "/\" that a browser would take to another site, no control characters.
func safeReturn(p string) bool {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return false
		}
	}
	return true
}

// rememberReturn keeps ?next= (when safe) for after the sign-in.
func (s *Server) rememberReturn(w http.ResponseWriter, r *http.Request) {
	if next := r.URL.Query().Get("next"); safeReturn(next) {
		s.returnTo(w, next)
	}
}

// returnTo remembers a local path for after the sign-in steps; landing reads it.
func (s *Server) returnTo(w http.ResponseWriter, path string) {
	http.SetCookie(w, &http.Cookie{
		Name: returnCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(path)), Path: "/",
		MaxAge: 600, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// landing returns where a browser that just finished signing in goes: the remembered
// return path (forgotten now), else fallback.
func (s *Server) landing(w http.ResponseWriter, r *http.Request, fallback string) string {
	c, err := r.Cookie(returnCookie)
	if err != nil {
		return fallback
	}
	http.SetCookie(w, &http.Cookie{Name: returnCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || !safeReturn(string(b)) {
		return fallback
	}
	return string(b)
}

package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// returnCookie remembers, across the sign-in steps, where the browser goes once signed in
// (for example an OpenID Connect authorization waiting for the login).
const returnCookie = "twofold_return"

// Bounds of a return path: its length, and how many layers of percent-encoding are
// examined (a value encoded more deeply than that is refused).
const (
	maxReturnLen    = 2048
	maxReturnDecode = 4
)

// returnPath checks a return path a browser brought (?next= or the return-path cookie)
// and returns it clean: an absolute path on this server, dot segments resolved, with its
// query and without a fragment. It refuses (ok false) anything but a path that starts
// with a single "/"; a backslash, a control character or a non-ASCII character (a
// look-alike of "/" or "\") in the value or in any layer of its percent-decoding; and a
// path that begins with "//" in any such layer. Browsers read "\" as "/" and skip tabs
// and line breaks, so "/\evil.example" or "/\t/evil.example" would lead to another
// site; the check looks at the value that is sent, not at one a later step cleans.
func returnPath(raw string) (clean string, ok bool) {
	if raw == "" || len(raw) > maxReturnLen || raw[0] != '/' {
		return "", false
	}
	for s, layer := raw, 0; ; layer++ {
		if strings.HasPrefix(s, "//") || !printableASCII(s) || strings.ContainsRune(s, '\\') {
			return "", false
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			break
		}
		if layer == maxReturnDecode {
			return "", false
		}
		s = d
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Opaque != "" || u.User != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	p := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && p != "/" {
		p += "/"
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "", false
	}
	clean = (&url.URL{Path: p, RawQuery: u.RawQuery}).String()
	if len(clean) > maxReturnLen { // re-encoding can lengthen it
		return "", false
	}
	return clean, true
}

// printableASCII reports whether s holds only printable ASCII characters (space to "~").
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// returnURL is the Location for a path returnPath accepted: an absolute URL on the origin
// of server.public_url when it is set, else the path itself.
func (s *Server) returnURL(clean string) string {
	return s.origin + clean
}

// rememberReturn keeps ?next= (when returnPath accepts it) for after the sign-in.
func (s *Server) rememberReturn(w http.ResponseWriter, r *http.Request) {
	if next, ok := returnPath(r.URL.Query().Get("next")); ok {
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
// return path (forgotten now, and checked again: a cookie can be planted), else fallback.
func (s *Server) landing(w http.ResponseWriter, r *http.Request, fallback string) string {
	c, err := r.Cookie(returnCookie)
	if err != nil {
		return fallback
	}
	http.SetCookie(w, &http.Cookie{Name: returnCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return fallback
	}
	p, ok := returnPath(string(b))
	if !ok {
		return fallback
	}
	return s.returnURL(p)
}

// remembered returns the return path returnTo kept, without forgetting it; "" when none.
func (s *Server) remembered(r *http.Request) string {
	c, err := r.Cookie(returnCookie)
	if err != nil {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	return string(b)
}

package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/i18n"
)

// langCookieMaxAge is how long a browser remembers the language chosen with the
// switcher: a year.
const langCookieMaxAge = 365 * 24 * 60 * 60

// langCookieName names the cookie that remembers the language a browser chose.
func (s *Server) langCookieName() string {
	if s.secure {
		return "__Host-twofold_lang"
	}
	return "twofold_lang"
}

// lang returns the language of the page answering r: the one the browser chose with the
// switcher, else the signed-in user's preference, else the best match for its
// Accept-Language.
func (s *Server) lang(r *http.Request) string {
	var cookie, pref string
	if c, err := r.Cookie(s.langCookieName()); err == nil {
		cookie = c.Value
	}
	if cur := sessionOf(r); cur != nil {
		pref = cur.User.Language
	}
	return i18n.Choose(cookie, pref, r.Header.Get("Accept-Language"))
}

// browserLang is the language of the browser that sent r (its choice, else its
// Accept-Language): the language i18n.FromContext finds in a request's context, for the
// mails a request sends to an address without an account (requestState.Value).
func (s *Server) browserLang(r *http.Request) string {
	var cookie string
	if c, err := r.Cookie(s.langCookieName()); err == nil {
		cookie = c.Value
	}
	return i18n.Choose(cookie, "", r.Header.Get("Accept-Language"))
}

// tr returns the message key in the language of r's page.
func (s *Server) tr(r *http.Request, key string, args ...any) string {
	return i18n.T(s.lang(r), key, args...)
}

// statusText is the title of the error page for status, in r's language.
func (s *Server) statusText(r *http.Request, status int) string {
	key := "status." + strconv.Itoa(status)
	if !i18n.Has(i18n.Default, key) {
		return http.StatusText(status)
	}
	return s.tr(r, key)
}

// backTo returns the page the switcher returns to after a change of language: the page
// itself when it was shown for a GET, else the page that sent the form (a form drawn
// again with its error lives at a POST address), else the home page.
func backTo(r *http.Request) string {
	if r.Method == http.MethodGet {
		return r.URL.RequestURI()
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && localPath(ref.RequestURI()) {
		return ref.RequestURI()
	}
	return "/"
}

// localPath reports whether p is a path on this server (not "//host" nor "/\host",
// which browsers read as another origin).
func localPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\") &&
		!strings.ContainsAny(p, "\r\n")
}

// languageSubmit answers the switcher's form: it remembers the language chosen in a
// cookie and, for a signed-in user, as their preference (the language of their mails),
// then returns to the page the form was on.
func (s *Server) languageSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	lang := r.PostForm.Get("lang")
	if !i18n.Supported(lang) {
		return errUnknownLanguage
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.langCookieName(), Value: lang, Path: "/", MaxAge: langCookieMaxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	if err := s.saveLanguage(r, lang); err != nil {
		return err
	}
	back := r.PostForm.Get("back")
	if !localPath(back) {
		back = "/"
	}
	redirect(w, r, back)
	return nil
}

// saveLanguage stores lang as the preference of the user the browser is signed in as, in
// any state of the sign-in; nothing without a session.
func (s *Server) saveLanguage(r *http.Request, lang string) error {
	if s.auth == nil {
		return nil
	}
	if _, err := r.Cookie(s.cookieName()); err != nil {
		return nil
	}
	cur, err := s.current(r)
	if err != nil || cur.User.Language == lang {
		return nil //nolint:nilerr // no session: the cookie alone remembers the choice
	}
	return s.auth.SetLanguage(r.Context(), cur, lang)
}

// errUnknownLanguage answers a switcher form naming no supported language.
var errUnknownLanguage = apperr.Msg(apperr.CodeBadRequest, "err.unknown_language")

package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

// pages holds one parsed template set per language: the layout, the pieces it defines for
// the pages (password-rule, key-button, key-register) and every page's content, named after
// the page. Render executes a page's content, then the layout around it; so the layout is
// parsed once per language, not once per page (it was three quarters of every page's set,
// 2.2 of the default language's 3 MB). The default language's set is parsed when the
// server starts (which also proves every page parses: the languages differ only in what
// their functions return); another language's when a page is first shown in it. A set is
// about 0.8 MB of the heap that every collection walks, so a server that speaks only
// English keeps a third of what all three languages would cost.
type pages struct {
	names  map[string]bool // page names, without .html
	mu     sync.Mutex
	byLang map[string]*template.Template
}

// page returns the template set of lang (a supported language), parsing it on first use,
// to execute the page name in; ok is false for an unknown page.
func (p *pages) page(lang, name string) (t *template.Template, ok bool, err error) {
	if !p.names[name] {
		return nil, false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.byLang[lang]; t != nil {
		return t, true, nil
	}
	t, err = parseLanguage(lang, p.names)
	if err != nil {
		return nil, true, err
	}
	p.byLang[lang] = t
	return t, true, nil
}

// parseLanguage parses the layout and the pages names with the functions of lang into one
// set. Each page file defines its "content"; it is parsed on its own and its tree added to
// the set under the page's name. The set must be complete before it first executes:
// html/template adds nothing to a set after that.
func parseLanguage(lang string, names map[string]bool) (*template.Template, error) {
	f := pageFuncs(lang)
	set, err := template.New("layout.html").Funcs(f).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("template layout.html: %w", err)
	}
	for name := range names {
		page, err := template.New(name+".html").Funcs(f).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("template %s.html: %w", name, err)
		}
		content := page.Lookup("content")
		if content == nil || len(page.Templates()) > 2 {
			return nil, fmt.Errorf("template %s.html: want one {{define \"content\"}} and nothing else", name)
		}
		if set.Lookup(name) != nil {
			return nil, fmt.Errorf("template %s.html: the layout already defines %q", name, name)
		}
		if _, err := set.AddParseTree(name, content.Tree); err != nil {
			return nil, fmt.Errorf("template %s.html: %w", name, err)
		}
	}
	return set, nil
}

// pageFuncs returns the template functions of the pages in lang: those of the catalog
// (t, thtml, lang) and the page helpers.
func pageFuncs(lang string) template.FuncMap {
	f := template.FuncMap(i18n.FuncMap(lang))
	for k, v := range funcs {
		f[k] = v
	}
	f["device"] = func(ua string) string { return deviceIn(lang, ua) }
	// who is a username the consoles show, or the page's words for an account that is gone.
	f["who"] = func(name string) string {
		if name == store.DeletedUsername {
			return i18n.T(lang, "user.deleted")
		}
		return name
	}
	// date shows an instant in UTC with the zone named, inside a <time> element that
	// static/app.js rewrites to the viewer's own time zone.
	f["date"] = func(t time.Time) template.HTML {
		if t.IsZero() {
			return template.HTML(template.HTMLEscapeString(i18n.T(lang, "date.never")))
		}
		u := t.UTC()
		return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `">` +
			template.HTMLEscapeString(u.Format(i18n.T(lang, "date.layout"))) + `</time>`)
	}
	return f
}

var funcs = template.FuncMap{
	// group splits a key into blocks of four for typing by hand: "ABCD EFGH ...".
	"group": func(key string) string {
		var b strings.Builder
		for i, r := range key {
			if i > 0 && i%4 == 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
		return b.String()
	},
	// field gives the input with id its error attributes when the page's error is about
	// it: aria-invalid, aria-describedby naming the error (after the hints named), and
	// autofocus, so the first field in error has the focus without JavaScript.
	"field": func(v view, id string, hints ...string) template.HTMLAttr {
		if v.Field == id && v.Error != "" {
			hints = append(hints, id+"-error")
		}
		var b strings.Builder
		if len(hints) > 0 {
			b.WriteString(`aria-describedby="` + template.HTMLEscapeString(strings.Join(hints, " ")) + `"`)
		}
		if v.Field == id && v.Error != "" {
			b.WriteString(` aria-invalid="true" autofocus`)
		}
		return template.HTMLAttr(b.String())
	},
	// fieldError is the error beside the input with id, when the page's error is about it.
	"fieldError": func(v view, id string) template.HTML {
		if v.Field != id || v.Error == "" {
			return ""
		}
		return template.HTML(`<p class="error field-error" id="` + template.HTMLEscapeString(id) + `-error">` +
			template.HTMLEscapeString(v.Error) + `</p>`)
	},
	// autofocus focuses the input that has it when no field is in error.
	"autofocus": func(v view) template.HTMLAttr {
		if v.Field != "" && v.Error != "" {
			return ""
		}
		return "autofocus"
	},
	"scopes":  scopeTexts,
	"scopeID": scopeID,
	"deref":   deref,
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{names: map[string]bool{}, byLang: map[string]*template.Template{}}
	for _, n := range names {
		if base := path.Base(n); base != "layout.html" {
			p.names[strings.TrimSuffix(base, ".html")] = true
		}
	}
	set, err := parseLanguage(i18n.Default, p.names)
	if err != nil {
		return nil, err
	}
	p.byLang[i18n.Default] = set
	return p, nil
}

// view is what every page template gets.
type view struct {
	Title string
	Error string
	// Field is the input (by id) that Error is about; empty puts Error above the form.
	Field string
	Flash string
	Data  any
	// MinPassword is the policy's minimum password length, for the hint beside every
	// new-password field; render fills it in.
	MinPassword int
	// Nav is the header's navigation for a signed-in user; render fills it in, nil when
	// the browser is not signed in (with both factors where they are due).
	Nav *navView
	// Brand is the product's name, and whether it has a logo and an accent colour.
	Brand brandView
	// Lang is the page's language; render fills it in, with the switcher's Languages and
	// Back, the page to return to after switching.
	Lang      string
	Languages []i18n.Language
	Back      string
	// Content is the page's own part, executed before the layout; render fills it in.
	Content template.HTML
}

// navView is what the header offers a signed-in user.
type navView struct {
	Username string
	// Agent shows the support cases; Admin the admin console.
	Agent, Admin bool
	// Here is the path of the page, to mark its link as the current one.
	Here string
	// Console is the admin console's navigation, on its pages only.
	Console []consoleLink
}

// nav returns the header's navigation for the browser's session, nil unless it is fully
// signed in.
func (s *Server) nav(r *http.Request) *navView {
	cur := sessionOf(r)
	if cur == nil && s.auth != nil {
		if _, err := r.Cookie(s.cookieName()); err == nil {
			cur, _ = s.current(r)
		}
	}
	if cur == nil || cur.Session.State != store.StateAuthenticated {
		return nil
	}
	nv := &navView{Username: cur.User.Username, Agent: support.IsAgent(cur.User),
		Admin: cur.User.Role == store.RoleAdmin, Here: r.URL.Path}
	if nv.Admin && (r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/admin/")) {
		nv.Console = s.consoleNav(r.URL.Path)
	}
	return nv
}

// render writes a page with status. Pages are never cached: they may show secrets.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.Lang = s.lang(r)
	t, ok, err := s.pages.page(v.Lang, name)
	if !ok || err != nil {
		s.log.ErrorContext(r.Context(), "unknown page", "page", name, "lang", v.Lang, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if s.auth != nil {
		v.MinPassword = s.auth.MinPasswordLength()
	}
	v.Nav = s.nav(r)
	v.Brand = brandView{Name: s.brand.Name, Logo: s.brand.Logo != nil, Accent: s.brand.Accent != ""}
	v.Languages, v.Back = i18n.Languages, backTo(r)
	var buf bytes.Buffer
	err = t.ExecuteTemplate(&buf, name, v)
	if err == nil && v.Field != "" && !bytes.Contains(buf.Bytes(), []byte(`id="`+v.Field+`-error"`)) {
		// The page does not show the field the error is about (a form drawn in another
		// state): the error goes above the form rather than nowhere.
		v.Field = ""
		buf.Reset()
		err = t.ExecuteTemplate(&buf, name, v)
	}
	if err == nil {
		// The content was escaped for where the layout puts it (HTML text, inside <main>).
		v.Content = template.HTML(buf.String()) //nolint:gosec // the output of an html/template
		buf.Reset()
		err = t.ExecuteTemplate(&buf, "layout", v)
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	contentHTML.set(w.Header())
	noStore.set(w.Header())
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// renderError shows the error page for an application or internal error (Error decides
// when; the OpenID Connect pages call it directly).
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.classify(r, err)
	status := statusOf[e.Code]
	setRetryAfter(w, e.RetryAfter)
	s.render(w, r, status, "error", view{Title: s.statusText(r, status), Error: e.Text(s.lang(r))})
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

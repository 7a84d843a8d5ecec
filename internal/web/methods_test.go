package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/oidc"
)

// triedMethods are the methods tried on every route: the ones routes use, TRACE, and one
// no server knows.
var triedMethods = append(slices.Clone(probeMethods), http.MethodTrace, "BREW")

// servedPaths maps the path of every route's probe to the methods the route table serves
// it with, GET adding HEAD. A pattern counts for every probe path it matches, so a path
// that a wildcard route also serves ("/x/new" beside "/x/{id}") lists both routes'
// methods. The fallbacks ("/", "/api/") are left out: they serve no path of their own.
func servedPaths(s *Server) map[string][]string {
	out := map[string][]string{}
	for _, rt := range s.routeTable {
		if !strings.Contains(rt.pattern, " ") {
			continue
		}
		out[probe(rt.pattern).URL.Path] = nil
	}
	for p := range out {
		for _, rt := range s.routeTable {
			method, pattern, ok := strings.Cut(rt.pattern, " ")
			if !ok || !patternMatches(pattern, p) {
				continue
			}
			out[p] = append(out[p], method)
			if method == http.MethodGet {
				out[p] = append(out[p], http.MethodHead)
			}
		}
	}
	return out
}

// patternMatches reports whether the path of a mux pattern matches path: literal segments
// equal, a wildcard any segment, "{x...}" or a trailing slash the rest.
func patternMatches(pattern, path string) bool {
	if pattern == "/{$}" {
		return path == "/"
	}
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, seg := range ps {
		if seg == "" && i == len(ps)-1 && i > 0 {
			return len(qs) > i // "/a/" matches everything below /a/
		}
		if strings.HasSuffix(seg, "...}") {
			return len(qs) > i
		}
		if i >= len(qs) {
			return false
		}
		if !(strings.HasPrefix(seg, "{") && qs[i] != "") && seg != qs[i] {
			return false
		}
	}
	return len(ps) == len(qs)
}

// allowOf is Allow as noRoute lists methods: in the order of probeMethods.
func allowOf(served []string) string {
	var out []string
	for _, m := range probeMethods {
		if slices.Contains(served, m) {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

// TestWrongMethodIsRefusedWith405 walks every registered route with every method its path
// is not served with, and wants 405 with Allow naming the methods it is served with, in
// the format of the route's surface: the JSON API a problem document, an OAuth endpoint an
// OAuth error, a page the error page in the reader's language.
func TestWrongMethodIsRefusedWith405(t *testing.T) {
	s := allRoutes(t)
	paths := servedPaths(s)
	if len(paths) < 50 {
		t.Fatalf("only %d paths found in the route table", len(paths))
	}
	wantText := html.EscapeString(i18n.T("de", "err.method_not_allowed", "Method", "PUT", "Allow", ""))
	wantText = wantText[:strings.Index(wantText, "PUT")+len("PUT")] // the part before the list
	for p, served := range paths {
		allow := allowOf(served)
		for _, m := range triedMethods {
			if slices.Contains(served, m) {
				continue
			}
			t.Run(m+" "+p, func(t *testing.T) {
				r := httptest.NewRequest(m, p, nil)
				r.Header.Set("Accept-Language", "de")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				if w.Code != http.StatusMethodNotAllowed {
					t.Fatalf("status %d, want 405; body %.200s", w.Code, w.Body)
				}
				if got := w.Header().Get("Allow"); got != allow {
					t.Errorf("Allow %q, want %q", got, allow)
				}
				ct := w.Header().Get("Content-Type")
				switch {
				case isAPI(r):
					var pr problem
					if ct != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &pr) != nil || pr.Code != codeMethodNotAllowed || pr.Status != 405 {
						t.Errorf("want a method_not_allowed problem, got %s: %s", ct, w.Body)
					}
				case s.isOAuth(r):
					var e oidc.OAuthError
					if !strings.HasPrefix(ct, "application/json") || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error != "invalid_request" || e.Description == "" {
						t.Errorf("want an OAuth invalid_request error, got %s: %s", ct, w.Body)
					}
					if got := w.Header().Get("Cache-Control"); got != "no-store" {
						t.Errorf("Cache-Control %q, want no-store", got)
					}
				default:
					if m != "PUT" {
						return // the page's text is checked once per path
					}
					if !strings.HasPrefix(ct, "text/html") || !strings.Contains(w.Body.String(), wantText) {
						t.Errorf("want the error page in German (%q), got %s: %.300s", wantText, ct, w.Body)
					}
				}
			})
		}
	}
}

func TestMethodsOfTheProtocolEndpoints(t *testing.T) {
	s := allRoutes(t)
	paths := servedPaths(s)
	for _, tc := range []struct{ path, allow string }{
		// The methods each endpoint's specification gives it; OPTIONS where browsers'
		// CORS preflights are answered.
		{oidc.DiscoveryPath, "GET, HEAD"},
		{oidc.KeysPath, "GET, HEAD, OPTIONS"},
		{oidc.AuthorizePath, "GET, HEAD, POST, OPTIONS"},
		{oidc.TokenPath, "POST, OPTIONS"},
		{oidc.IntrospectionPath, "POST, OPTIONS"},
		{oidc.RevocationPath, "POST, OPTIONS"},
		{oidc.UserinfoPath, "GET, HEAD, POST, OPTIONS"},
		{oidc.EndSessionPath, "GET, HEAD, POST, OPTIONS"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := allowOf(paths[tc.path]); got != tc.allow {
				t.Errorf("served with %s, want %s", got, tc.allow)
			}
			if !strings.Contains(tc.allow, "OPTIONS") {
				return
			}
			// An OPTIONS that is no CORS preflight asks what the endpoint serves.
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodOptions, tc.path, nil))
			if w.Code != http.StatusNoContent || w.Header().Get("Allow") != tc.allow {
				t.Errorf("bare OPTIONS: %d with Allow %q, want 204 with %q", w.Code, w.Header().Get("Allow"), tc.allow)
			}
		})
	}
}

func TestUnknownPathIsStill404(t *testing.T) {
	s := allRoutes(t)
	for _, tc := range []struct{ method, path, ct string }{
		{http.MethodGet, "/no/such/page", "text/html"},
		{http.MethodPut, "/no/such/page", "text/html"},
		{http.MethodGet, "/api/v1/no-such-call", "application/problem+json"},
		{http.MethodDelete, "/api/v1/no-such-call", "application/problem+json"},
		// The static files' directory is not listed, and a file not there is the 404 page.
		{http.MethodGet, "/static/", "text/html"},
		{http.MethodGet, "/static/no-such-file.css", "text/html"},
	} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != http.StatusNotFound || w.Header().Get("Allow") != "" || !strings.HasPrefix(w.Header().Get("Content-Type"), tc.ct) {
			t.Errorf("%s %s: %d %s with Allow %q, want 404 %s without Allow", tc.method, tc.path, w.Code,
				w.Header().Get("Content-Type"), w.Header().Get("Allow"), tc.ct)
		}
	}
}

// TestStaticFilesAreServed: a file under /static/ is served, cacheable.
func TestStaticFilesAreServed(t *testing.T) {
	s := allRoutes(t)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/static/style.css", nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") ||
		w.Header().Get("Cache-Control") != "public, max-age=3600" {
		t.Errorf("style.css: %d %s, Cache-Control %q", w.Code, w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"))
	}
}

func TestRouteWithoutAMethodIsRefused(t *testing.T) {
	s := allRoutes(t)
	defer func() {
		if recover() == nil {
			t.Error("a route without a method was registered")
		}
	}()
	(&router{s: s, mux: s.mux}).handle("/everything", public, func(http.ResponseWriter, *http.Request) error { return nil })
}

// TestLongMethodIsNotRepeatedWhole: a 405 names the refused method, but only its first
// maxShownMethod bytes: a request method may be as long as the request line, and a
// message repeats no kilobytes of it.
func TestLongMethodIsNotRepeatedWhole(t *testing.T) {
	s := allRoutes(t)
	method := strings.Repeat("X", 10<<10)
	shown := method[:maxShownMethod] + "…"
	for _, path := range []string{"/login", "/api/v1/session", oidc.TokenPath} {
		t.Run(path, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(method, path, nil))
			body := w.Body.String()
			if w.Code != http.StatusMethodNotAllowed || !strings.Contains(body, shown) {
				t.Fatalf("got %d %.300s, want 405 naming %q", w.Code, body, shown)
			}
			if strings.Contains(body, method[:maxShownMethod+1]) {
				t.Errorf("the answer repeats more than %d bytes of the method: %.300s", maxShownMethod, body)
			}
		})
	}
}

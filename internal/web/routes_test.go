package web

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/support"
)

// allRoutes builds a server with every optional part (support desk, OpenID Connect), so
// that it registers every route. Registering calls none of them.
func allRoutes(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Support: new(support.Service), OIDC: new(oidc.Provider),
		Invite: new(invite.Service), Address: new(address.Service), OIDCAdmin: new(oidc.Admin),
		Tokens: new(apitoken.Service), Admin: new(admin.Service)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// probe is a request that pattern matches: its method (GET when it names none) and its
// path with each wildcard filled in (a subtree pattern "/a/" gets "/a/x").
func probe(pattern string) *http.Request {
	method, p, ok := strings.Cut(pattern, " ")
	if !ok {
		method, p = http.MethodGet, pattern
	}
	p = strings.ReplaceAll(p, "{$}", "")
	p = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(p, "x")
	if strings.HasSuffix(pattern, "/") {
		p += "x"
	}
	return &http.Request{Method: method, URL: &url.URL{Path: p}, Host: "example.test"}
}

// routeProblems lists every way s's routes break the rule: a route without a declared
// access level, or one the mux serves other than as registered.
func routeProblems(s *Server) []string {
	var out []string
	for _, rt := range s.routeTable {
		if _, ok := accessNames[rt.access]; !ok {
			out = append(out, rt.pattern+": no access level declared")
		}
		h, pattern := s.mux.Handler(probe(rt.pattern))
		if pattern != rt.pattern {
			out = append(out, rt.pattern+": the mux serves its probe with "+pattern)
			continue
		}
		if rh, ok := h.(*routeHandler); !ok || rh.access != rt.access {
			out = append(out, rt.pattern+": the mux holds it without its access wrapper")
		}
	}
	return out
}

// documentedRoutes reads the route table of docs/api.md's "Access levels" section.
func documentedRoutes(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)`[^|]*\\| (\\w+(?: [\\w:]+)?) \\|$")
	out := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "| route | level |":
			in = true
		case in && line == "":
			return out
		case in:
			if m := row.FindStringSubmatch(line); m != nil {
				out[m[1]] = m[2]
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("docs/api.md has no route table under Access levels")
	}
	return out
}

func TestEveryRouteDeclaresItsAccess(t *testing.T) {
	s := allRoutes(t)
	t.Run("registry_matches_the_mux", func(t *testing.T) {
		if len(s.routeTable) < 50 {
			t.Fatalf("only %d routes registered", len(s.routeTable))
		}
		for _, p := range routeProblems(s) {
			t.Error(p)
		}
	})
	t.Run("docs_name_every_route_with_its_level", func(t *testing.T) {
		docs := documentedRoutes(t)
		for _, rt := range s.routeTable {
			if got, ok := docs[rt.pattern]; !ok {
				t.Errorf("%s (%s) is missing from the table in docs/api.md", rt.pattern, rt.level())
			} else if got != rt.level() {
				t.Errorf("%s: docs/api.md says %s, the route declares %s", rt.pattern, got, rt.level())
			}
		}
		for pattern := range docs {
			if !slices.ContainsFunc(s.routeTable, func(rt route) bool { return rt.pattern == pattern }) {
				t.Errorf("docs/api.md lists %s, which is not registered", pattern)
			}
		}
	})
	t.Run("a_route_without_a_level_is_caught_and_refused", func(t *testing.T) {
		s := allRoutes(t)
		rt := &router{s: s, mux: s.mux}
		rt.handle("GET /forgotten", undeclared, func(w http.ResponseWriter, r *http.Request) error {
			t.Error("the handler of a route without a level ran")
			return nil
		})
		s.routeTable = append(s.routeTable, rt.routes...)
		if p := routeProblems(s); len(p) != 1 || !strings.Contains(p[0], "/forgotten") {
			t.Fatalf("problems %q, want one for /forgotten", p)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/forgotten", nil))
		if w.Code != http.StatusInternalServerError {
			t.Fatalf("served with %d", w.Code)
		}
	})
	t.Run("a_route_the_mux_holds_unwrapped_is_caught", func(t *testing.T) {
		s := allRoutes(t)
		s.mux.HandleFunc("GET /bare", func(http.ResponseWriter, *http.Request) {})
		s.routeTable = append(s.routeTable, route{pattern: "GET /bare", access: public})
		if p := routeProblems(s); len(p) != 1 || !strings.Contains(p[0], "/bare") {
			t.Fatalf("problems %q, want one for /bare", p)
		}
	})
}

// TestPageOf checks where the support console sends a browser back after the sign-in: the
// page itself, or for a form the case page that shows it.
func TestPageOf(t *testing.T) {
	s := allRoutes(t)
	for _, tc := range []struct{ method, target, want string }{
		{http.MethodGet, "/support/cases?status=open", "/support/cases?status=open"},
		{http.MethodGet, "/support/cases/TF-ABCD", "/support/cases/TF-ABCD"},
		{http.MethodPost, "/support/cases/TF-ABCD/notes", "/support/cases/TF-ABCD"},
		{http.MethodPost, "/support/cases/TF-ABCD/reset-mfa/approve", "/support/cases/TF-ABCD"},
		{http.MethodPost, "/support/cases/TF%2FX/notes", "/support/cases/TF%2FX"},
	} {
		if got := s.pageOf(httptest.NewRequest(tc.method, tc.target, nil)); got != tc.want {
			t.Errorf("%s %s: back to %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
}

package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/web"
)

// TestAccessLevelsRefuseWithoutSession sends every route that is not public a request
// without a session: the API answers 401 unauthenticated, a page sends the browser to
// the sign-in, and no handler runs.
func TestAccessLevelsRefuseWithoutSession(t *testing.T) {
	srv := newServer(t)
	wildcard := regexp.MustCompile(`\{[^}]*\}`)
	n := 0
	for pattern, level := range web.DocumentedRoutes(t) {
		if level == "public" {
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		path = wildcard.ReplaceAllString(path, "TF-AAAA-BBBB")
		t.Run(pattern, func(t *testing.T) {
			r := srv.Client(t).Do(method, path, "application/x-www-form-urlencoded", nil)
			if strings.HasPrefix(path, "/api/") {
				wantProblem(t, r, http.StatusUnauthorized, "unauthenticated")
				return
			}
			if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Fatalf("%d to %q, want 303 to the sign-in", r.Status, loc)
			}
		})
		n++
	}
	if n < 30 {
		t.Fatalf("only %d routes checked", n)
	}
}

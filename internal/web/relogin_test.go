package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

func TestFailedLoginKeepsTheSession(t *testing.T) {
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	before := sessionState(t, c)
	r := c.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": "not the password at all"})
	wantProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
	if after := sessionState(t, c); after != before {
		t.Fatalf("session state after a failed sign-in: %q, was %q", after, before)
	}
}

func TestSuccessfulLoginEndsTheOldSession(t *testing.T) {
	srv := newServer(t)
	c, _, _ := enrolled(t, srv, "alice")
	old := sessionToken(t, srv, c)
	c.Login("alice", "mfa_required")
	if r := clientWithToken(t, srv, old).Get("/api/v1/session"); r.Status != http.StatusUnauthorized {
		t.Fatalf("old session still answers %d after a new sign-in", r.Status)
	}
}

// A second password sign-in (another tab) must not replace the key the user is scanning.
func TestSecondLoginKeepsThePendingSetup(t *testing.T) {
	srv := newServer(t)
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	form := url.Values{"username": {"bob"}, "password": {testserver.Password}}
	first := srv.Client(t)
	wantStatus(t, postForm(first, "/login", form), http.StatusSeeOther)
	key1 := setupKey(t, first.Get("/mfa/setup"))
	second := srv.Client(t)
	wantStatus(t, postForm(second, "/login", form), http.StatusSeeOther)
	if key2 := setupKey(t, second.Get("/mfa/setup")); key2 != key1 {
		t.Fatalf("a second sign-in replaced the pending key %s with %s", key1, key2)
	}
}

func setupKey(t *testing.T, r *testserver.Response) string {
	t.Helper()
	body := string(r.Body)
	i := strings.Index(body, `id="secret">`)
	if r.Status != http.StatusOK || i < 0 {
		t.Fatalf("setup page %d without a key: %.300s", r.Status, body)
	}
	rest := body[i+len(`id="secret">`):]
	return rest[:strings.Index(rest, "<")]
}

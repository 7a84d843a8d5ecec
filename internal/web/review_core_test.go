package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestSetupLinkDiesOnceAnAdministratorExists: every start (and every instance) prints a new
// setup link while no administrator exists. Once one link created the administrator, the
// others must not create a second one.
func TestSetupLinkDiesOnceAnAdministratorExists(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ctx := context.Background()
	first, err := srv.Auth.IssueSetupToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := srv.Auth.IssueSetupToken(ctx) // a restart, or a second instance
	if err != nil {
		t.Fatal(err)
	}
	form := func(token, username string) url.Values {
		return url.Values{"token": {token}, "username": {username}, "email": {username + "@example.com"},
			"password": {testserver.Password}, "confirm_password": {testserver.Password}}
	}
	wantRedirect(t, postForm(srv.Client(t), "/setup", form(first, "root")), "/login")

	wantPage(t, srv.Client(t).Get("/setup?token="+url.QueryEscape(second)), http.StatusBadRequest, "An administrator exists already")
	wantPage(t, postForm(srv.Client(t), "/setup", form(second, "mallory")), http.StatusBadRequest, "An administrator exists already")
	if u, err := srv.Auth.FindUser(ctx, "mallory"); err == nil {
		t.Fatalf("a second setup link created administrator %s (role %s) after one existed", u.Username, u.Role)
	}
}

// TestInvalidUTF8NeverFails: a User-Agent or a typed username with bytes that are not UTF-8
// (PostgreSQL refuses such text) gets the ordinary answer, never a 500, and the attempt is
// audited.
func TestInvalidUTF8NeverFails(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			o := testserver.Options{MFARequiredForRole: noMFA}
			if name == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			u := srv.CreateUser(t, "utf8-"+name, "utf8-"+name+"@example.com", "user")
			badUA := http.Header{"User-Agent": {"agent\xff\xfe"}}
			login := func(username, pw string) rawResult {
				body := `{"username":"` + username + `","password":"` + pw + `"}`
				return rawDo(srv, srv.Client(t), http.MethodPost, "/api/v1/login", "application/json", []byte(body), badUA)
			}

			if r := login(u.Username, "wrong password entirely 1"); r.status != http.StatusUnauthorized {
				t.Fatalf("wrong password with a non-UTF-8 User-Agent: %d %s", r.status, r.body)
			}
			if r := login(u.Username, testserver.Password); r.status != http.StatusOK {
				t.Fatalf("right password with a non-UTF-8 User-Agent: %d %s", r.status, r.body)
			}
			events, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: u.ID, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, ev := range events {
				seen[ev.Event] = true
			}
			if !seen["login.failed"] || !seen["login.succeeded"] {
				t.Fatalf("audit events %v: want login.failed and login.succeeded", seen)
			}

			r := postForm(srv.Client(t), "/login", url.Values{"username": {"utf8\xff"}, "password": {"whatever it is 12"}})
			if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "incorrect") {
				t.Fatalf("non-UTF-8 username on the sign-in page: %d", r.Status)
			}
		})
	}
}

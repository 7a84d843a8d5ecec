package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// addressUser creates username (username@example.com) on a server without an MFA policy
// and returns a client signed in with the password.
func addressUser(t *testing.T, srv *testserver.Server, username string) *testserver.Client {
	t.Helper()
	srv.CreateUser(t, username, username+"@example.com", "user")
	c := srv.Client(t)
	c.Login(username, "authenticated")
	return c
}

// me is the signed-in user as GET /api/v1/session shows it.
func me(t *testing.T, c *testserver.Client) web.User {
	t.Helper()
	r := c.Get("/api/v1/session")
	wantStatus(t, r, http.StatusOK)
	return decode[web.SessionAnswer](t, r).User
}

// confirmToken returns the token of the newest confirmation link mailed to addr.
func confirmToken(t *testing.T, srv *testserver.Server, addr string) (string, string) {
	t.Helper()
	m := srv.LastMailTo(t, addr)
	link := m.Link(address.ConfirmPath + "?token=")
	if !strings.HasPrefix(link, srv.URL+address.ConfirmPath+"?token=") {
		t.Fatalf("mail %q to %s holds no confirmation link under the server's URL:\n%s", m.Subject, addr, m.Text)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token"), u.RequestURI()
}

func confirmEmail(c *testserver.Client, token string) *testserver.Response {
	return c.PostJSON("/api/v1/account/email/confirm", map[string]string{"token": token})
}

func wantEmptyObject(t *testing.T, r *testserver.Response, status int) {
	t.Helper()
	wantStatus(t, r, status)
	if got := string(bytes.TrimSpace(r.Body)); got != "{}" {
		t.Errorf("body %q, want {}", got)
	}
}

// TestVerifyMyAddress walks "verify my address": a link to the current address, a page
// that changes nothing when opened, a confirmation that verifies the address once.
func TestVerifyMyAddress(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	ada := addressUser(t, srv, "ada")
	if me(t, ada).EmailVerified {
		t.Fatal("a new address is verified")
	}
	wantEmptyObject(t, ada.PostJSON("/api/v1/account/email/verify", nil), http.StatusAccepted)
	m := srv.LastMailTo(t, "ada@example.com")
	if m.Subject != "Verify your e-mail address" {
		t.Errorf("subject %q", m.Subject)
	}
	tok, page := confirmToken(t, srv, "ada@example.com")

	// Opening the link (as a mail scanner would, twice) changes nothing.
	for range 2 {
		p := srv.Client(t).Get(page)
		wantStatus(t, p, http.StatusOK)
		contains(t, p, `<button type="submit">Confirm</button>`, "ada@example.com", `name="token" value="`+tok+`"`)
	}
	if me(t, ada).EmailVerified {
		t.Fatal("opening the link verified the address")
	}

	// Confirming needs no session: the link may open in another browser.
	wantStatus(t, confirmEmail(srv.Client(t), tok), http.StatusNoContent)
	if !me(t, ada).EmailVerified {
		t.Fatal("the address is not verified after the confirmation")
	}
	wantProblem(t, confirmEmail(srv.Client(t), tok), http.StatusBadRequest, "invalid_token")
	p := srv.Client(t).Get(page)
	wantStatus(t, p, http.StatusBadRequest)
	contains(t, p, "invalid, has expired or was used already")
	events := auditEvents(t, srv, "ada")
	for _, e := range []string{"email.verification_sent", "email.verified"} {
		if !strings.Contains(events, e) {
			t.Errorf("audit log lacks %s: %s", e, events)
		}
	}
}

func auditEvents(t *testing.T, srv *testserver.Server, username string) string {
	t.Helper()
	u, err := srv.Store.GetUserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	list, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Event)
	}
	return strings.Join(names, " ")
}

func TestVerifyMyAddressRefusals(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	ada := addressUser(t, srv, "ada")
	t.Run("without_a_session_is_401", func(t *testing.T) {
		wantProblem(t, srv.Client(t).PostJSON("/api/v1/account/email/verify", nil), http.StatusUnauthorized, "unauthenticated")
	})
	t.Run("a_few_links_an_hour_then_429", func(t *testing.T) {
		for range address.LinksPerHour {
			srv.Clock.Advance(time.Second) // the outbox orders mail by time
			wantStatus(t, ada.PostJSON("/api/v1/account/email/verify", nil), http.StatusAccepted)
		}
		r := ada.PostJSON("/api/v1/account/email/verify", nil)
		wantProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		// Only the newest link works.
		tok, _ := confirmToken(t, srv, "ada@example.com")
		wantStatus(t, confirmEmail(srv.Client(t), tok), http.StatusNoContent)
	})
	t.Run("an_unknown_or_empty_token_is_invalid", func(t *testing.T) {
		for _, tok := range []string{"", "nope", strings.Repeat("x", 5000)} {
			wantProblem(t, confirmEmail(srv.Client(t), tok), http.StatusBadRequest, "invalid_token")
		}
	})
	t.Run("a_link_to_an_address_changed_since_is_invalid", func(t *testing.T) {
		bob := addressUser(t, srv, "bob")
		wantStatus(t, bob.PostJSON("/api/v1/account/email/verify", nil), http.StatusAccepted)
		tok, _ := confirmToken(t, srv, "bob@example.com")
		u, _ := srv.Store.GetUserByUsername(t.Context(), "bob")
		if err := srv.Store.SetUserEmail(t.Context(), u.ID, "robert@example.com", "robert@example.com", false, srv.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, confirmEmail(srv.Client(t), tok), http.StatusBadRequest, "invalid_token")
		if me(t, bob).EmailVerified {
			t.Fatal("a link to the old address verified the new one")
		}
	})
}

// TestChangeOfAddress walks a change of address over the API: the new address gets a
// link, nothing changes until it is confirmed, then the new address is the account's,
// verified, signs in, and the old one got a notice.
func TestChangeOfAddress(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	ada := addressUser(t, srv, "ada")
	r := ada.PostJSON("/api/v1/account/email", map[string]string{"email": "Ada.L@Example.org", "password": testserver.Password})
	wantEmptyObject(t, r, http.StatusAccepted)
	m := srv.LastMailTo(t, "Ada.L@Example.org")
	if m.Subject != "Confirm your new e-mail address" {
		t.Errorf("subject %q", m.Subject)
	}
	tok, page := confirmToken(t, srv, "Ada.L@Example.org")
	if u := me(t, ada); u.Email != "ada@example.com" {
		t.Fatalf("the address changed before the confirmation: %+v", u)
	}
	p := srv.Client(t).Get(page)
	wantStatus(t, p, http.StatusOK)
	contains(t, p, "Ada.L@Example.org", "ada", `<button type="submit">Confirm</button>`)
	if u := me(t, ada); u.Email != "ada@example.com" {
		t.Fatalf("opening the link changed the address: %+v", u)
	}

	wantStatus(t, confirmEmail(srv.Client(t), tok), http.StatusNoContent)
	if u := me(t, ada); u.Email != "Ada.L@Example.org" || !u.EmailVerified {
		t.Fatalf("after the confirmation: %+v, want the new address, verified", u)
	}
	notice := srv.LastMailTo(t, "ada@example.com")
	if notice.Subject != "Your e-mail address was changed" || !strings.Contains(notice.Text, "Ada.L@Example.org") {
		t.Errorf("notice to the old address: %q\n%s", notice.Subject, notice.Text)
	}
	wantProblem(t, confirmEmail(srv.Client(t), tok), http.StatusBadRequest, "invalid_token")

	// The new address signs in; the old one no longer does.
	c := srv.Client(t)
	wantStatus(t, c.PostJSON("/api/v1/login", map[string]string{"username": "ada.l@example.org", "password": testserver.Password}), http.StatusOK)
	wantProblem(t, srv.Client(t).PostJSON("/api/v1/login", map[string]string{"username": "ada@example.com", "password": testserver.Password}),
		http.StatusUnauthorized, "invalid_credentials")
	events := auditEvents(t, srv, "ada")
	for _, e := range []string{"email.change_requested", "email.changed"} {
		if !strings.Contains(events, e) {
			t.Errorf("audit log lacks %s: %s", e, events)
		}
	}
}

func TestChangeOfAddressRefusals(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA, Throttle: throttle.Policy{FreeAttempts: 2}})
	ada := addressUser(t, srv, "ada")
	change := func(c *testserver.Client, email, pw string) *testserver.Response {
		return c.PostJSON("/api/v1/account/email", map[string]string{"email": email, "password": pw})
	}
	for _, tc := range []struct {
		name, email, password string
		status                int
		code                  string
	}{
		{"not_an_address", "ada-at-example", testserver.Password, http.StatusBadRequest, "invalid_email"},
		{"an_ip_literal", "ada@[192.0.2.1]", testserver.Password, http.StatusBadRequest, "invalid_email"},
		{"the_current_address", "ada@example.com", testserver.Password, http.StatusBadRequest, "invalid_email"},
		{"no_password", "new@example.com", "", http.StatusBadRequest, "bad_request"},
		{"no_address", "", testserver.Password, http.StatusBadRequest, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, change(ada, tc.email, tc.password), tc.status, tc.code)
		})
	}
	t.Run("without_a_session_is_401", func(t *testing.T) {
		wantProblem(t, change(srv.Client(t), "new@example.com", testserver.Password), http.StatusUnauthorized, "unauthenticated")
	})
	t.Run("no_mail_went_out", func(t *testing.T) {
		for _, m := range srv.Mail(t) {
			t.Errorf("a refused change mailed %s: %s", m.To, m.Subject)
		}
	})
	t.Run("a_wrong_password_is_401_and_spends_the_sign-in_budget", func(t *testing.T) {
		for range 2 {
			wantProblem(t, change(ada, "new@example.com", "not the password at all"), http.StatusUnauthorized, "invalid_credentials")
		}
		// The free attempts are spent: the next attempt waits, here and at the sign-in.
		wantProblem(t, change(ada, "new@example.com", testserver.Password), http.StatusTooManyRequests, "throttled")
		wantProblem(t, srv.Client(t).PostJSON("/api/v1/login", map[string]string{"username": "ada", "password": testserver.Password}),
			http.StatusTooManyRequests, "throttled")
		if n := len(srv.Mail(t)); n != 0 {
			t.Errorf("%d mails after wrong passwords", n)
		}
	})
}

// TestChangeOfAddressTellsNothingAboutOtherAccounts: asking for an address another account
// uses gets the same answer as a free one; that address is told nothing changed and gets
// no link. An address taken between the request and the confirmation is refused clearly
// and the account keeps its address.
func TestChangeOfAddressTellsNothingAboutOtherAccounts(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	ada := addressUser(t, srv, "ada")
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	// A new link replaces the earlier one: the free address is asked for last.
	taken := ada.PostJSON("/api/v1/account/email", map[string]string{"email": "BOB@example.com", "password": testserver.Password})
	free := ada.PostJSON("/api/v1/account/email", map[string]string{"email": "free@example.com", "password": testserver.Password})
	if free.Status != taken.Status || !bytes.Equal(free.Body, taken.Body) || free.Status != http.StatusAccepted {
		t.Fatalf("free address: %d %s; taken address: %d %s", free.Status, free.Body, taken.Status, taken.Body)
	}
	m := srv.LastMailTo(t, "bob@example.com")
	if m.Subject != "Your e-mail address was entered for another account" || m.Link("token=") != "" || strings.Contains(m.Text, "ada") {
		t.Errorf("mail to the owner of the taken address: %q\n%s", m.Subject, m.Text)
	}
	if u := me(t, ada); u.Email != "ada@example.com" {
		t.Fatalf("ada's address: %s", u.Email)
	}

	// free@example.com is taken by a new account before ada confirms.
	tok, _ := confirmToken(t, srv, "free@example.com")
	srv.CreateUser(t, "carol", "free@example.com", "user")
	r := confirmEmail(srv.Client(t), tok)
	wantProblem(t, r, http.StatusConflict, "conflict")
	if d := problemOf(t, r)["detail"]; !strings.Contains(d.(string), "belongs to another account") {
		t.Errorf("refusal says %q", d)
	}
	if u := me(t, ada); u.Email != "ada@example.com" || u.EmailVerified {
		t.Fatalf("ada after the refusal: %+v", u)
	}
}

// TestEmailConfirmIsSingleUse: of many parallel confirmations of one link, exactly one
// succeeds, on SQLite and on PostgreSQL.
func TestEmailConfirmIsSingleUse(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			o := testserver.Options{MFARequiredForRole: noMFA}
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			ada := addressUser(t, srv, "ada")
			wantStatus(t, ada.PostJSON("/api/v1/account/email", map[string]string{"email": "new@example.com", "password": testserver.Password}),
				http.StatusAccepted)
			tok, _ := confirmToken(t, srv, "new@example.com")
			const n = 20
			results := make([]rawResult, n)
			var wg sync.WaitGroup
			for i := range n {
				c := srv.Client(t)
				wg.Go(func() {
					results[i] = rawPostJSON(srv, c, "/api/v1/account/email/confirm", map[string]string{"token": tok})
				})
			}
			wg.Wait()
			won := 0
			var statuses []int
			for _, r := range results {
				if r.err != nil {
					t.Fatal(r.err)
				}
				statuses = append(statuses, r.status)
				switch r.status {
				case http.StatusNoContent:
					won++
				case http.StatusBadRequest:
				default:
					t.Errorf("a confirmation answered %d: %s", r.status, r.body)
				}
			}
			if won != 1 {
				t.Fatalf("%d confirmations succeeded, want exactly 1: %v", won, statuses)
			}
			if notices := len(srv.Mail(t)); notices != 2 { // the link, and one notice to the old address
				t.Errorf("%d mails, want the link and one notice", notices)
			}
		})
	}
}

// TestAddressPages: the security page's buttons work without JavaScript and say what
// happens next.
func TestAddressPages(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	ada := addressUser(t, srv, "ada")
	p := ada.Get("/account/security")
	wantStatus(t, p, http.StatusOK)
	contains(t, p, "not verified", `action="/account/email/verify"`, `action="/account/email"`, `<label for="new_email">`)

	r := postForm(ada, "/account/email/verify", url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	contains(t, ada.Get(r.Header.Get("Location")), "We sent a link to your e-mail address")

	r = postForm(ada, "/account/email", url.Values{"email": {"new@example.com"}, "password": {"wrong password here"}})
	wantStatus(t, r, http.StatusUnauthorized)
	contains(t, r, "The current password is incorrect.", `<label for="new_email">`)
	r = postForm(ada, "/account/email", url.Values{"email": {"new@example.com"}, "password": {testserver.Password}})
	wantStatus(t, r, http.StatusSeeOther)
	contains(t, ada.Get(r.Header.Get("Location")), "We sent a link to the new address")

	_, page := confirmToken(t, srv, "new@example.com")
	tok, _ := confirmToken(t, srv, "new@example.com")
	wantStatus(t, srv.Client(t).Get(page), http.StatusOK)
	confirming := srv.Client(t)
	done := postForm(confirming, address.ConfirmPath, url.Values{"token": {tok}})
	wantRedirect(t, done, "/account/email/confirmed")
	contains(t, confirming.Get("/account/email/confirmed"), "is now new@example.com", "verified")
	wantRedirect(t, srv.Client(t).Get("/account/email/confirmed"), "/account/security") // no result: nothing to say
	again := postForm(srv.Client(t), address.ConfirmPath, url.Values{"token": {tok}})
	wantStatus(t, again, http.StatusBadRequest)
	contains(t, again, "invalid, has expired or was used already")
	p = ada.Get("/account/security")
	contains(t, p, "new@example.com")
	if bytes.Contains(p.Body, []byte(`action="/account/email/verify"`)) {
		t.Error("the page offers to verify an address that is verified")
	}
}

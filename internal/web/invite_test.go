package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// invited invites name (address name@example.com) and returns the token of the link the
// mail holds.
func invited(t *testing.T, srv *testserver.Server, name string) string {
	t.Helper()
	_, err := srv.Invite.Invite(context.Background(), auth.NewUser{Username: name, Email: name + "@example.com"}, auth.Meta{})
	if err != nil {
		t.Fatalf("invite %s: %v", name, err)
	}
	return mailedToken(t, srv, name)
}

// mailedToken returns the token of the newest invitation link mailed to name@example.com.
func mailedToken(t *testing.T, srv *testserver.Server, name string) string {
	t.Helper()
	link := srv.LastMailTo(t, name+"@example.com").Link("/invite?token=")
	if !strings.HasPrefix(link, srv.URL+"/invite?token=") {
		t.Fatalf("invitation mail link %q, want %s/invite?token=T", link, srv.URL)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func accept(c *testserver.Client, token, pw string) *testserver.Response {
	return c.PostJSON("/api/v1/invitations/accept", map[string]string{"token": token, "password": pw})
}

// TestInvitationToEnrolledUser: invited, the user opens the link (the page changes
// nothing), sets a password over the API, sets up the authenticator, and is signed in with
// a verified address; the password then signs in like any other.
func TestInvitationToEnrolledUser(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	token := invited(t, srv, "ivy")
	c := srv.Client(t)

	for range 2 { // mail scanners fetch links: the page is shown, the link stays live
		r := c.Get("/invite?token=" + url.QueryEscape(token))
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "ivy") || !strings.Contains(string(r.Body), "At least 12 characters. It must not contain your username") {
			t.Fatalf("invitation page: %d %s", r.Status, r.Body)
		}
	}
	r := accept(c, token, testserver.Password)
	if r.Status != http.StatusOK {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	if got := decode[web.AcceptAnswer](t, r); got.State != store.StateEnrollmentRequired {
		t.Fatalf("accept answered state %q, want enrollment_required", got.State)
	}
	r = c.PostJSON("/api/v1/account/mfa/totp", nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin setup after accepting: %d %s", r.Status, r.Body)
	}
	secret := testserver.DecodeSecret(t, decode[web.TOTPSetup](t, r).Secret)
	r = c.PostJSON("/api/v1/account/mfa/totp/confirm", map[string]string{"code": srv.Code(secret, 0)})
	if r.Status != http.StatusOK {
		t.Fatalf("confirm setup: %d %s", r.Status, r.Body)
	}
	if step := decode[web.StepAnswer](t, r); step.State != store.StateAuthenticated || step.RecoveryCode == "" {
		t.Fatalf("confirm setup answered %+v, want authenticated with a recovery code", step)
	}
	sess := decode[web.SessionAnswer](t, c.Get("/api/v1/session"))
	if sess.State != store.StateAuthenticated || sess.User.Username != "ivy" || !sess.User.EmailVerified {
		t.Errorf("session after the invitation: %+v, want ivy authenticated with a verified address", sess)
	}

	srv.NextStep()
	c2 := srv.Client(t)
	c2.Login("ivy", store.StateMFARequired)
	if r := c2.PostJSON("/api/v1/login/totp", map[string]string{"code": srv.Code(secret, 0)}); r.Status != http.StatusOK {
		t.Fatalf("sign in with the chosen password and a code: %d %s", r.Status, r.Body)
	}
	if r := accept(srv.Client(t), token, testserver.Password); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"invalid_token"`) {
		t.Errorf("accepting the used link again: %d %s, want 400 invalid_token", r.Status, r.Body)
	}
}

// TestInvitationWithoutMFAPolicy: when the policy does not require MFA, accepting signs the
// user in at once.
func TestInvitationWithoutMFAPolicy(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: func(string) bool { return false }})
	c := srv.Client(t)
	r := accept(c, invited(t, srv, "ivy"), testserver.Password)
	if r.Status != http.StatusOK || decode[web.AcceptAnswer](t, r).State != store.StateAuthenticated {
		t.Fatalf("accept: %d %s, want 200 authenticated", r.Status, r.Body)
	}
	if sess := decode[web.SessionAnswer](t, c.Get("/api/v1/session")); sess.State != store.StateAuthenticated {
		t.Errorf("session: %+v", sess)
	}
}

// TestInvitationRefusals: every link that cannot be accepted gets 400 invalid_token and a
// weak password 400 weak_password; none of them opens a session or spends the link.
func TestInvitationRefusals(t *testing.T) {
	wantRefused := func(t *testing.T, r *testserver.Response, code string) {
		t.Helper()
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"code":"`+code+`"`) {
			t.Fatalf("got %d %s, want 400 %s", r.Status, r.Body, code)
		}
		if c := r.Header.Get("Set-Cookie"); c != "" {
			t.Errorf("a refusal set a cookie: %s", c)
		}
	}
	for _, tc := range []struct {
		name string
		// prepare returns the token to accept, after doing what makes it unusable.
		prepare func(t *testing.T, srv *testserver.Server) string
	}{
		{"unknown", func(t *testing.T, srv *testserver.Server) string {
			invited(t, srv, "ivy")
			return "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
		}},
		{"empty", func(t *testing.T, srv *testserver.Server) string { invited(t, srv, "ivy"); return "" }},
		{"used", func(t *testing.T, srv *testserver.Server) string {
			tok := invited(t, srv, "ivy")
			if r := accept(srv.Client(t), tok, testserver.Password); r.Status != http.StatusOK {
				t.Fatalf("first accept: %d %s", r.Status, r.Body)
			}
			return tok
		}},
		{"expired", func(t *testing.T, srv *testserver.Server) string {
			tok := invited(t, srv, "ivy")
			srv.Clock.Advance(invite.DefaultTTL)
			return tok
		}},
		{"replaced_by_a_resent_link", func(t *testing.T, srv *testserver.Server) string {
			tok := invited(t, srv, "ivy")
			resend(t, srv, "ivy")
			return tok
		}},
		{"account_disabled", func(t *testing.T, srv *testserver.Server) string {
			tok := invited(t, srv, "ivy")
			u, _ := srv.Auth.FindUser(context.Background(), "ivy")
			if err := srv.Auth.SetDisabled(context.Background(), u, true, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.New(t, testserver.Options{})
			tok := tc.prepare(t, srv)
			wantRefused(t, accept(srv.Client(t), tok, testserver.Password), "invalid_token")
			page := srv.Client(t).Get("/invite?token=" + url.QueryEscape(tok))
			if page.Status != http.StatusBadRequest || !strings.Contains(string(page.Body), "Ask your administrator to send you a new invitation") {
				t.Errorf("invitation page: %d %s, want 400 saying what to do", page.Status, page.Body)
			}
		})
	}

	t.Run("weak_password_keeps_the_link", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{})
		tok := invited(t, srv, "ivy")
		for _, pw := range []string{"short", "password12345", "ivy@example.com"} {
			wantRefused(t, accept(srv.Client(t), tok, pw), "weak_password")
		}
		if r := accept(srv.Client(t), tok, testserver.Password); r.Status != http.StatusOK {
			t.Fatalf("a strong password after weak ones: %d %s", r.Status, r.Body)
		}
	})

	t.Run("expired_then_resent_works", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{})
		invited(t, srv, "ivy")
		srv.Clock.Advance(invite.DefaultTTL + time.Hour)
		resend(t, srv, "ivy")
		if r := accept(srv.Client(t), mailedToken(t, srv, "ivy"), testserver.Password); r.Status != http.StatusOK {
			t.Fatalf("accept the link resent after expiry: %d %s", r.Status, r.Body)
		}
	})

	t.Run("accepted_then_resend_is_refused", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{})
		if r := accept(srv.Client(t), invited(t, srv, "ivy"), testserver.Password); r.Status != http.StatusOK {
			t.Fatalf("accept: %d %s", r.Status, r.Body)
		}
		u, _ := srv.Auth.FindUser(context.Background(), "ivy")
		_, err := srv.Invite.Resend(context.Background(), u, auth.Meta{})
		if err == nil || !strings.Contains(err.Error(), "accepted the invitation already") {
			t.Fatalf("resend after acceptance: %v, want a refusal", err)
		}
	})
}

func resend(t *testing.T, srv *testserver.Server, name string) {
	t.Helper()
	u, err := srv.Auth.FindUser(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Invite.Resend(context.Background(), u, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
}

// TestInvitationSingleUseUnderParallelAccepts: of 20 acceptances of one link sent at the
// same moment exactly one opens a session; the others get invalid_token. On both
// databases.
func TestInvitationSingleUseUnderParallelAccepts(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return testutil.PostgresURL(t) }},
	} {
		t.Run(db.name, func(t *testing.T) {
			srv := testserver.New(t, testserver.Options{DatabaseURL: db.url(t)})
			tok := invited(t, srv, "ivy")
			const n = 20
			results := make([]*testserver.Response, n)
			start := make(chan struct{})
			done := make(chan int)
			for i := range n {
				c := srv.Client(t)
				go func() {
					<-start
					results[i] = accept(c, tok, testserver.Password)
					done <- i
				}()
			}
			close(start)
			for range n {
				<-done
			}
			wins := 0
			for i, r := range results {
				switch {
				case r.Status == http.StatusOK:
					wins++
				case r.Status == http.StatusBadRequest && strings.Contains(string(r.Body), `"invalid_token"`):
				default:
					t.Errorf("accept %d: %d %s, want 200 or 400 invalid_token", i, r.Status, r.Body)
				}
			}
			if wins != 1 {
				t.Fatalf("%d of %d parallel acceptances succeeded, want exactly 1", wins, n)
			}
			u, err := srv.Auth.FindUser(context.Background(), "ivy")
			if err != nil {
				t.Fatal(err)
			}
			sessions, err := srv.Store.ListUserSessions(context.Background(), u.ID, srv.Clock.Now())
			if err != nil || len(sessions) != 1 {
				t.Errorf("sessions after the race: %d (%v), want 1", len(sessions), err)
			}
		})
	}
}

// TestInvitationFormIsUnderTheGuard: the invitation form does what the accept API does,
// so it counts against the same per-address bucket.
func TestInvitationFormIsUnderTheGuard(t *testing.T) {
	srv := testserver.New(t, testserver.Options{RateLimits: web.RateLimits{API: throttle.Rate{PerSecond: 0.001, Burst: 2}}})
	c := srv.Client(t)
	form := url.Values{"token": {"unknown"}, "password": {testserver.Password}, "confirm_password": {testserver.Password}}
	if r := c.Do(http.MethodPost, "/invite", "application/x-www-form-urlencoded", []byte(form.Encode())); r.Status != http.StatusBadRequest {
		t.Fatalf("form 1: %d, want 400 (unknown link)", r.Status)
	}
	if r := accept(c, "unknown", testserver.Password); r.Status != http.StatusBadRequest {
		t.Fatalf("API 1: %d, want 400 (unknown link)", r.Status)
	}
	r := c.Do(http.MethodPost, "/invite", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("form 2, over the rate: %d %q, want 429 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
}

// TestInvitationForm: the page's form sets the password and goes on where a sign-in with
// it would: the authenticator setup when MFA is required, else signed in with a word that
// says what happened.
func TestInvitationForm(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mfa       bool
		wantPlace string
		wantText  string
	}{
		{"mfa_required", true, "/mfa/setup", "Set up your authenticator app"},
		{"mfa_not_required", false, "/account/security?done=welcome", "Your password is set and you are signed in."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.New(t, testserver.Options{MFARequiredForRole: func(string) bool { return tc.mfa }})
			c := srv.Client(t)
			tok := invited(t, srv, "ivy")
			r := postForm(c, "/invite", url.Values{"token": {tok}, "password": {testserver.Password}, "confirm_password": {testserver.Password}})
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != tc.wantPlace {
				t.Fatalf("form: %d to %q, want 303 to %s", r.Status, r.Header.Get("Location"), tc.wantPlace)
			}
			if page := c.Get(tc.wantPlace); page.Status != http.StatusOK || !strings.Contains(string(page.Body), tc.wantText) {
				t.Errorf("%s: %d, want it to say %q\n%s", tc.wantPlace, page.Status, tc.wantText, page.Body)
			}
			r = postForm(srv.Client(t), "/invite", url.Values{"token": {tok}, "password": {testserver.Password}, "confirm_password": {testserver.Password}})
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "Ask your administrator to send you a new invitation") {
				t.Errorf("the form with the used link: %d, want 400 saying what to do", r.Status)
			}
		})
	}
}

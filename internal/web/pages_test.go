package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

var (
	secretOnPage       = regexp.MustCompile(`id="secret">([A-Z2-7 ]+)<`)
	recoveryCodeOnPage = regexp.MustCompile(`id="recovery-code">([0-9A-Z-]+)<`)
)

// wantRedirect fails unless r is a 303 to the path want (any query is ignored).
func wantRedirect(t *testing.T, r *testserver.Response, want string) {
	t.Helper()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("status %d, want 303 to %s: %s", r.Status, want, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Path != want {
		t.Fatalf("redirect to %q, want %s", r.Header.Get("Location"), want)
	}
}

// wantPage fails unless r is an HTML page with status holding every one of texts.
func wantPage(t *testing.T, r *testserver.Response, status int, texts ...string) {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want an HTML page", ct)
	}
	page := html.UnescapeString(string(r.Body))
	for _, s := range texts {
		if !strings.Contains(page, s) {
			t.Fatalf("page does not show %q:\n%s", s, r.Body)
		}
	}
}

// find returns the first group of re in the page, failing when it is absent.
func find(t *testing.T, r *testserver.Response, re *regexp.Regexp) string {
	t.Helper()
	m := re.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("page has no %s:\n%s", re, r.Body)
	}
	return string(m[1])
}

// steps runs dependent steps of one journey as subtests and stops at the first failure.
func steps(t *testing.T, list []journeyStep) {
	t.Helper()
	for _, s := range list {
		if !t.Run(s.name, s.run) {
			t.FailNow()
		}
	}
}

// journeyStep is one named step of a journey.
type journeyStep struct {
	name string
	run  func(t *testing.T)
}

// formLogin posts the sign-in form.
func formLogin(c *testserver.Client, username, password string) *testserver.Response {
	return postForm(c, "/login", url.Values{"username": {username}, "password": {password}})
}

func TestHTMLJourney(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.CreateUser(t, "alice", "alice@example.com", "user")
	c := srv.Client(t)
	var secret []byte
	var recoveryCode string

	steps(t, []journeyStep{
		{"login_page_has_the_form", func(t *testing.T) {
			wantPage(t, c.Get("/login"), http.StatusOK, `action="/login"`, `name="username"`, `name="password"`)
		}},
		{"wrong_password_shows_the_error_and_keeps_the_username", func(t *testing.T) {
			r := formLogin(c, "alice", "not the password at all")
			wantPage(t, r, http.StatusUnauthorized, "The username or password is incorrect.", `value="alice"`)
		}},
		{"password_leads_a_new_user_to_authenticator_setup", func(t *testing.T) {
			wantRedirect(t, formLogin(c, "alice", testserver.Password), "/mfa/setup")
		}},
		{"other_pages_send_the_half_signed-in_user_back_to_setup", func(t *testing.T) {
			wantRedirect(t, c.Get("/account/security"), "/mfa/setup")
			wantRedirect(t, c.Get("/"), "/mfa/setup")
		}},
		{"setup_page_shows_the_QR_code_and_the_key", func(t *testing.T) {
			r := c.Get("/mfa/setup")
			wantPage(t, r, http.StatusOK, `src="data:image/png;base64,`, `action="/mfa/setup/confirm"`)
			secret = testserver.DecodeSecret(t, find(t, r, secretOnPage))
		}},
		{"wrong_confirming_code_shows_the_error_and_the_same_key", func(t *testing.T) {
			r := postForm(c, "/mfa/setup/confirm", url.Values{"code": {wrongCode(srv, secret)}})
			wantPage(t, r, http.StatusUnauthorized, "That code didn't work")
			if got := testserver.DecodeSecret(t, find(t, r, secretOnPage)); string(got) != string(secret) {
				t.Fatal("a wrong code changed the key")
			}
		}},
		{"correct_code_leads_to_the_recovery_code", func(t *testing.T) {
			wantRedirect(t, postForm(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(secret, 0)}}), "/recovery-code")
		}},
		{"Successful!_page_shows_the_recovery_code", func(t *testing.T) {
			r := c.Get("/recovery-code")
			wantPage(t, r, http.StatusOK, "Successful!", "I have saved my recovery code", `href="/recovery-code/download"`)
			recoveryCode = find(t, r, recoveryCodeOnPage)
			if !recoveryCodeShape.MatchString(recoveryCode) {
				t.Fatalf("recovery code %q is not in groups", recoveryCode)
			}
		}},
		{"security_page_waits_for_the_acknowledgement", func(t *testing.T) {
			wantRedirect(t, c.Get("/account/security"), "/recovery-code")
			wantRedirect(t, c.Get("/"), "/recovery-code")
		}},
		{"download_gives_the_code_as_a_file", func(t *testing.T) {
			r := c.Get("/recovery-code/download")
			wantStatus(t, r, http.StatusOK)
			if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
				t.Errorf("Content-Disposition %q", cd)
			}
			contains(t, r, recoveryCode)
		}},
		{"continue_without_the_tick_box_is_refused_and_the_code_still_shown", func(t *testing.T) {
			r := postForm(c, "/recovery-code/ack", url.Values{})
			wantPage(t, r, http.StatusBadRequest, "Tick the box", recoveryCode)
		}},
		{"continue_with_the_tick_box_goes_to_the_security_page", func(t *testing.T) {
			wantRedirect(t, postForm(c, "/recovery-code/ack", url.Values{"saved": {"yes"}}), "/account/security")
		}},
		{"recovery_code_is_not_shown_again", func(t *testing.T) {
			wantRedirect(t, c.Get("/recovery-code"), "/account/security")
			wantRedirect(t, c.Get("/recovery-code/download"), "/account/security")
			r := c.Get("/account/security")
			wantPage(t, r, http.StatusOK, "Active since", "alice@example.com")
			if strings.Contains(string(r.Body), recoveryCode) {
				t.Fatal("the security page shows the recovery code")
			}
		}},
		{"GET_/logout_asks_and_does_not_sign_out", func(t *testing.T) {
			wantPage(t, c.Get("/logout"), http.StatusOK, `<form method="post" action="/logout"`)
			wantPage(t, c.Get("/account/security"), http.StatusOK, "Active since")
		}},
		{"POST_/logout_signs_out", func(t *testing.T) {
			token := sessionToken(t, srv, c)
			wantRedirect(t, postForm(c, "/logout", nil), "/login")
			wantRedirect(t, c.Get("/account/security"), "/login")
			if got := sessionState(t, clientWithToken(t, srv, token)); got != "" {
				t.Fatalf("the token still works after logout: %q", got)
			}
		}},
		{"password_then_code_page", func(t *testing.T) {
			srv.NextStep()
			wantRedirect(t, formLogin(c, "alice", testserver.Password), "/login/code")
			wantPage(t, c.Get("/login/code"), http.StatusOK, `action="/login/code"`, `href="/login/recovery"`)
			wantRedirect(t, c.Get("/account/security"), "/login/code")
		}},
		{"wrong_code_shows_the_error", func(t *testing.T) {
			r := postForm(c, "/login/code", url.Values{"code": {wrongCode(srv, secret)}})
			wantPage(t, r, http.StatusUnauthorized, "That code didn't work")
		}},
		{"replayed_code_shows_the_same_error", func(t *testing.T) {
			r := postForm(c, "/login/code", url.Values{"code": {srv.Code(secret, -1)}}) // the confirming code
			wantPage(t, r, http.StatusUnauthorized, "That code didn't work")
		}},
		{"correct_code_signs_in", func(t *testing.T) {
			wantRedirect(t, postForm(c, "/login/code", url.Values{"code": {srv.Code(secret, 0)}}), "/account/security")
			wantPage(t, c.Get("/account/security"), http.StatusOK, "Active since")
			wantRedirect(t, c.Get("/login"), "/account/security")
		}},
		{"sign_in_with_the_recovery_code_shows_a_fresh_one", func(t *testing.T) {
			wantRedirect(t, postForm(c, "/logout", nil), "/login")
			wantRedirect(t, formLogin(c, "alice", testserver.Password), "/login/code")
			wantPage(t, c.Get("/login/recovery"), http.StatusOK, `action="/login/recovery"`)
			wantRedirect(t, postForm(c, "/login/recovery", url.Values{"code": {strings.ToLower(recoveryCode)}}), "/recovery-code")
			r := c.Get("/recovery-code")
			wantPage(t, r, http.StatusOK, "Successful!", "I have saved my recovery code")
			fresh := find(t, r, recoveryCodeOnPage)
			if fresh == recoveryCode || !recoveryCodeShape.MatchString(fresh) {
				t.Fatalf("fresh code %q (old %q)", fresh, recoveryCode)
			}
			wantRedirect(t, c.Get("/account/security"), "/recovery-code")
			wantRedirect(t, postForm(c, "/recovery-code/ack", url.Values{"saved": {"yes"}}), "/account/security")
			wantPage(t, c.Get("/account/security"), http.StatusOK, "Active since")
		}},
		{"used_recovery_code_shows_the_error", func(t *testing.T) {
			wantRedirect(t, postForm(c, "/logout", nil), "/login")
			wantRedirect(t, formLogin(c, "alice", testserver.Password), "/login/code")
			r := postForm(c, "/login/recovery", url.Values{"code": {recoveryCode}})
			wantPage(t, r, http.StatusUnauthorized, "That recovery code is not valid")
			wantRedirect(t, c.Get("/account/security"), "/login/code")
		}},
	})
}

func TestSecurityPage(t *testing.T) {
	t.Parallel()

	t.Run("redirects_to_login_without_a_session", func(t *testing.T) {
		srv := newServer(t)
		for _, path := range []string{"/account/security", "/recovery-code", "/mfa/setup", "/login/code", "/login/recovery", "/logout"} {
			wantRedirect(t, srv.Client(t).Get(path), "/login")
		}
		for _, path := range []string{"/account/recovery-code", "/account/password", "/mfa/setup/confirm", "/login/code"} {
			wantRedirect(t, postForm(srv.Client(t), path, url.Values{"code": {"123456"}}), "/login")
		}
	})

	t.Run("new_recovery_code_needs_a_current_code", func(t *testing.T) {
		srv := newServer(t)
		c, secret, old := enrolled(t, srv, "alice")
		r := postForm(c, "/account/recovery-code", url.Values{"code": {wrongCode(srv, secret)}})
		wantPage(t, r, http.StatusUnauthorized, "That code didn't work", "Active since")
		wantRedirect(t, postForm(c, "/account/recovery-code", url.Values{"code": {srv.Code(secret, 0)}}), "/recovery-code")
		fresh := find(t, c.Get("/recovery-code"), recoveryCodeOnPage)
		if fresh == old {
			t.Fatal("the new recovery code is the old one")
		}
		recoveryCodeRefused(t, srv, "alice", old)
		useRecoveryCode(t, srv, "alice", fresh)
	})

	t.Run("replacing_the_authenticator_needs_a_current_code", func(t *testing.T) {
		srv := newServer(t)
		c, secret, _ := enrolled(t, srv, "alice")
		r := postForm(c, "/mfa/setup/start", url.Values{"from": {"security"}, "code": {wrongCode(srv, secret)}})
		wantPage(t, r, http.StatusForbidden, "Confirm that it is you", "Active since")
		wantRedirect(t, postForm(c, "/mfa/setup/start", url.Values{"from": {"security"}, "code": {srv.Code(secret, 0)}}), "/mfa/setup")
		newSecret := testserver.DecodeSecret(t, find(t, c.Get("/mfa/setup"), secretOnPage))
		srv.NextStep()
		wantRedirect(t, postForm(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(newSecret, 0)}}), "/recovery-code")
	})

	t.Run("password_change_form", func(t *testing.T) {
		srv := newServer(t)
		c, secret, _ := enrolled(t, srv, "alice")
		other := srv.Client(t)
		signIn(t, srv, other, "alice", secret)
		const next = "violet submarine orchestra 58"
		for _, tc := range []struct {
			name    string
			form    url.Values
			status  int
			message string
		}{
			{"mismatched_new_passwords", url.Values{"current_password": {testserver.Password}, "new_password": {next}, "confirm_password": {next + "x"}},
				http.StatusBadRequest, "do not match"},
			{"wrong_current_password", url.Values{"current_password": {"nope nope nope nope"}, "new_password": {next}, "confirm_password": {next}},
				http.StatusUnauthorized, "The current password is incorrect."},
			{"weak_new_password", url.Values{"current_password": {testserver.Password}, "new_password": {"password1234"}, "confirm_password": {"password1234"}},
				http.StatusBadRequest, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantPage(t, postForm(c, "/account/password", tc.form), tc.status, tc.message)
			})
		}
		if got := sessionState(t, other); got != "authenticated" {
			t.Fatalf("refused changes ended the other session: %q", got)
		}
		r := postForm(c, "/account/password", url.Values{"current_password": {testserver.Password}, "new_password": {next}, "confirm_password": {next}})
		wantRedirect(t, r, "/account/security")
		wantPage(t, c.Get("/account/security?done=password"), http.StatusOK, "Your password is changed")
		if got := sessionState(t, other); got != "" {
			t.Fatalf("the other session survived the change: %q", got)
		}
	})
}

func TestAdminSetupPage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	token, err := srv.Auth.IssueSetupToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	form := func(token, username string) url.Values {
		return url.Values{"token": {token}, "username": {username}, "email": {username + "@example.com"},
			"password": {testserver.Password}, "confirm_password": {testserver.Password}}
	}
	noUser := func(t *testing.T, username string) {
		t.Helper()
		if _, err := srv.Auth.FindUser(context.Background(), username); err == nil {
			t.Fatalf("user %s exists", username)
		}
	}

	steps(t, []journeyStep{
		{"bad_token_is_refused", func(t *testing.T) {
			c := srv.Client(t)
			for _, path := range []string{"/setup?token=nope", "/setup", "/setup?token=" + token + "x"} {
				wantPage(t, c.Get(path), http.StatusBadRequest, "This setup link is invalid")
			}
			wantPage(t, postForm(c, "/setup", form("nope", "mallory")), http.StatusBadRequest, "This setup link is invalid")
			noUser(t, "mallory")
		}},
		{"setup_page_opens_with_the_token", func(t *testing.T) {
			wantPage(t, srv.Client(t).Get("/setup?token="+url.QueryEscape(token)), http.StatusOK, `name="token" value="`+token+`"`)
		}},
		{"mismatched_passwords_keep_the_token_usable", func(t *testing.T) {
			f := form(token, "root")
			f.Set("confirm_password", "something else entirely 7")
			wantPage(t, postForm(srv.Client(t), "/setup", f), http.StatusBadRequest, "do not match")
			noUser(t, "root")
		}},
		{"form_creates_the_administrator", func(t *testing.T) {
			wantRedirect(t, postForm(srv.Client(t), "/setup", form(token, "root")), "/login")
			u, err := srv.Auth.FindUser(context.Background(), "root")
			if err != nil {
				t.Fatal(err)
			}
			if u.Role != "admin" {
				t.Fatalf("role %q, want admin", u.Role)
			}
			c := srv.Client(t)
			c.Login("root", "enrollment_required")
			if role := decode[web.SessionAnswer](t, c.Get("/api/v1/session")).User.Role; role != "admin" {
				t.Fatalf("session role %v, want admin", role)
			}
		}},
		{"used_token_is_refused", func(t *testing.T) {
			r := postForm(srv.Client(t), "/setup", form(token, "root2"))
			wantPage(t, r, http.StatusBadRequest, "An administrator exists already")
			noUser(t, "root2")
			wantPage(t, srv.Client(t).Get("/setup?token="+url.QueryEscape(token)), http.StatusBadRequest, "An administrator exists already")
		}},
	})
}

func TestFormInput(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, secret, _ := enrolled(t, srv, "alice")
	half := srv.Client(t)
	half.Login("alice", "mfa_required")

	for _, tc := range []struct {
		name, path, contentType string
		body                    string
		client                  *testserver.Client
		status                  int
	}{
		{"oversized_login_form", "/login", "application/x-www-form-urlencoded",
			"username=alice&password=" + strings.Repeat("x", 1<<20), srv.Client(t), http.StatusRequestEntityTooLarge},
		{"JSON_posted_to_the_login_form", "/login", "application/json",
			`{"username":"alice","password":"` + testserver.Password + `"}`, srv.Client(t), http.StatusUnsupportedMediaType},
		{"multipart_login_form", "/login", "multipart/form-data; boundary=b",
			"--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--b--\r\n", srv.Client(t), http.StatusUnsupportedMediaType},
		{"text_plain_login_form", "/login", "text/plain", "username=alice&password=x", srv.Client(t), http.StatusUnsupportedMediaType},
		{"login_form_without_a_content_type", "/login", "", "username=alice&password=x", srv.Client(t), http.StatusUnsupportedMediaType},
		{"JSON_posted_to_the_code_form", "/login/code", "application/json", `{"code":"123456"}`, half, http.StatusUnsupportedMediaType},
		{"username_given_twice", "/login", "application/x-www-form-urlencoded",
			"username=alice&password=" + url.QueryEscape(testserver.Password) + "&username=mallory", srv.Client(t), http.StatusBadRequest},
		{"code_given_twice", "/login/code", "application/x-www-form-urlencoded", "code=123456&code=654321", half, http.StatusBadRequest},
		{"form_type_with_a_charset", "/login", "application/x-www-form-urlencoded; charset=utf-8", "username=alice", srv.Client(t), http.StatusBadRequest},
		{"broken_form_encoding", "/login", "application/x-www-form-urlencoded", "username=%zz&password=%", srv.Client(t), http.StatusBadRequest},
		{"empty_login_form", "/login", "application/x-www-form-urlencoded", "", srv.Client(t), http.StatusBadRequest},
		{"oversized_code_form", "/login/code", "application/x-www-form-urlencoded", "code=" + strings.Repeat("1", 1<<20), half, http.StatusRequestEntityTooLarge},
		{"empty_code", "/login/code", "application/x-www-form-urlencoded", "code=", half, http.StatusUnauthorized},
		{"fullwidth_digits", "/login/code", "application/x-www-form-urlencoded", url.Values{"code": {"１２３４５６"}}.Encode(), half, http.StatusUnauthorized},
		{"huge_code", "/login/code", "application/x-www-form-urlencoded", "code=" + strings.Repeat("9", 60_000), half, http.StatusUnauthorized},
		{"huge_recovery_code", "/login/recovery", "application/x-www-form-urlencoded", "code=" + strings.Repeat("A", 60_000), half, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.client.Do(http.MethodPost, tc.path, tc.contentType, []byte(tc.body))
			wantPage(t, r, tc.status)
			if !strings.Contains(string(r.Body), `<p class="error`) {
				t.Fatalf("the page shows no error:\n%s", r.Body)
			}
		})
	}
	t.Run("the_page_names_the_field_given_twice", func(t *testing.T) {
		c := srv.Client(t)
		r := postForm(c, "/login", url.Values{"username": {"alice", "mallory"}, "password": {testserver.Password}})
		wantPage(t, r, http.StatusBadRequest, `Field "username" is given twice.`)
		wantStatus(t, c.Get("/api/v1/session"), http.StatusUnauthorized)
	})
	if got := sessionState(t, half); got != "mfa_required" {
		t.Fatalf("bad forms moved the session to %q", got)
	}
	srv.NextStep()
	wantRedirect(t, postForm(half, "/login/code", url.Values{"code": {srv.Code(secret, 0)[:3] + " " + srv.Code(secret, 0)[3:]}}), "/account/security")
}

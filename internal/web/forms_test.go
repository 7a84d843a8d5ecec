package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
)

// wantFieldError fails unless r is the form drawn again with a 4xx status and its error
// beside the field with id: the field is aria-invalid, described by the error text, and
// the only field with autofocus.
func wantFieldError(t *testing.T, r *testserver.Response, id string) {
	t.Helper()
	if r.Status < 400 || r.Status > 499 {
		t.Fatalf("status %d, want a 4xx form: %s", r.Status, r.Body)
	}
	page := string(r.Body)
	tag := regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(page)
	if tag == "" {
		t.Fatalf("no field %q on the page:\n%s", id, page)
	}
	if !strings.Contains(tag, `aria-invalid="true"`) {
		t.Errorf("field %q is not aria-invalid: %s", id, tag)
	}
	desc := regexp.MustCompile(`aria-describedby="([^"]*)"`).FindStringSubmatch(tag)
	if desc == nil || !strings.Contains(" "+desc[1]+" ", " "+id+"-error ") {
		t.Errorf("field %q is not described by %s-error: %s", id, id, tag)
	}
	if !regexp.MustCompile(`<p class="error[^"]*" id="` + regexp.QuoteMeta(id) + `-error">[^<]+</p>`).MatchString(page) {
		t.Errorf("no error text with id %s-error on the page:\n%s", id, page)
	}
	if !regexp.MustCompile(`\sautofocus[\s>]`).MatchString(tag) {
		t.Errorf("field %q in error has no autofocus: %s", id, tag)
	}
	if n := strings.Count(page, "autofocus"); n != 1 {
		t.Errorf("%d fields have autofocus, want only %q", n, id)
	}
	if strings.Contains(page, `id="form-error"`) {
		t.Errorf("the error is also in the banner above the form:\n%s", page)
	}
}

// TestFormErrorsAreBesideTheirField: every form shows its error beside the field it is
// about, marked for assistive technology and focused, without JavaScript.
func TestFormErrorsAreBesideTheirField(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) {
		c.Registration.Enabled = true
		c.Registration.RequestsPerIPHour, c.Registration.RequestsPerEmailHour = 1000, 1000
		c.Registration.MailsPerHour = 1000
	}})
	ctx := context.Background()
	setupToken, err := srv.Auth.IssueSetupToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pw := testserver.Password

	// Sessions the forms need: half signed in (code step), enrolling, and signed in.
	srv.CreateUser(t, "hal", "hal@example.com", "user")
	half := srv.Client(t)
	srv.Enroll(t, half, "hal")
	half = srv.Client(t)
	half.Login("hal", "mfa_required")

	srv.CreateUser(t, "ena", "ena@example.com", "user")
	enrolling := srv.Client(t)
	if r := postForm(enrolling, "/login", url.Values{"username": {"ena"}, "password": {pw}}); r.Status != http.StatusSeeOther {
		t.Fatalf("sign in ena: %d %s", r.Status, r.Body)
	}

	signedIn, secret, _ := enrolled(t, srv, "sid")

	agent, _ := supEnrolled(t, srv, "agnes", "support")
	ref := supOpen(t, srv, "sid@example.com")

	inviteToken := invited(t, srv, "ivo")
	srv.CreateUser(t, "rita", "rita@example.com", "user")
	resetToken := forgot(t, srv, "rita", "rita@example.com", true)

	wrong := wrongCode(srv, secret)
	for _, tc := range []struct {
		name  string
		c     *testserver.Client
		path  string
		form  url.Values
		field string
	}{
		{"sign-in without username", srv.Client(t), "/login", url.Values{"password": {pw}}, "username"},
		{"sign-in with a wrong password", srv.Client(t), "/login", url.Values{"username": {"hal"}, "password": {"not-" + pw}}, "password"},
		{"code that is wrong", half, "/login/code", url.Values{"code": {wrong}}, "code"},
		{"recovery code that is wrong", half, "/login/recovery", url.Values{"code": {"AAAAA-BBBBB-CCCCC-DDDDD"}}, "code"},
		{"setup confirmed with a wrong code", enrolling, "/mfa/setup/confirm", url.Values{"code": {"000000"}}, "code"},
		{"new recovery code with a wrong code", signedIn, "/account/recovery-code", url.Values{"code": {wrong}}, "rc-code"},
		{"password change with a wrong current password", signedIn, "/account/password",
			url.Values{"current_password": {"not-" + pw}, "new_password": {"orbit lantern cactus violin"}, "confirm_password": {"orbit lantern cactus violin"}}, "current_password"},
		{"password change with a weak new password", signedIn, "/account/password",
			url.Values{"current_password": {pw}, "new_password": {"password1234"}, "confirm_password": {"password1234"}}, "new_password"},
		{"password change with differing passwords", signedIn, "/account/password",
			url.Values{"current_password": {pw}, "new_password": {"orbit lantern cactus violin"}, "confirm_password": {"orbit lantern"}}, "confirm_password"},
		{"e-mail change to a bad address", signedIn, "/account/email", url.Values{"email": {"not an address"}, "password": {pw}}, "new_email"},
		{"e-mail change with a wrong password", signedIn, "/account/email", url.Values{"email": {"sid2@example.com"}, "password": {"not-" + pw}}, "email_password"},
		{"forgot password without a name", srv.Client(t), "/password/forgot", url.Values{"login": {""}}, "login"},
		{"reset to a weak password", srv.Client(t), "/password/reset",
			url.Values{"token": {resetToken}, "new_password": {"password1234"}, "confirm_password": {"password1234"}}, "new_password"},
		{"reset with differing passwords", srv.Client(t), "/password/reset",
			url.Values{"token": {resetToken}, "new_password": {"orbit lantern cactus violin"}, "confirm_password": {"x"}}, "confirm_password"},
		{"invitation with a weak password", srv.Client(t), "/invite",
			url.Values{"token": {inviteToken}, "password": {"password1234"}, "confirm_password": {"password1234"}}, "password"},
		{"invitation with differing passwords", srv.Client(t), "/invite",
			url.Values{"token": {inviteToken}, "password": {"orbit lantern cactus violin"}, "confirm_password": {"x"}}, "confirm_password"},
		{"registration with a bad username", srv.Client(t), "/register",
			url.Values{"username": {"no spaces"}, "email": {"reg@example.com"}, "password": {"orbit lantern cactus violin"}}, "username"},
		{"registration with a look-alike username", srv.Client(t), "/register",
			url.Values{"username": {"r\u03bfot"}, "email": {"reg@example.com"}, "password": {"orbit lantern cactus violin"}}, "username"},
		{"registration with a weak password", srv.Client(t), "/register",
			url.Values{"username": {"reggie"}, "email": {"reg@example.com"}, "password": {"password1234"}}, "password"},
		{"first administrator with a bad username", srv.Client(t), "/setup",
			url.Values{"token": {setupToken}, "username": {"no spaces"}, "email": {"adm@example.com"}, "password": {pw}, "confirm_password": {pw}}, "username"},
		{"first administrator with a username of dots", srv.Client(t), "/setup",
			url.Values{"token": {setupToken}, "username": {".."}, "email": {"adm@example.com"}, "password": {pw}, "confirm_password": {pw}}, "username"},
		{"first administrator with a taken e-mail", srv.Client(t), "/setup",
			url.Values{"token": {setupToken}, "username": {"adm"}, "email": {"hal@example.com"}, "password": {pw}, "confirm_password": {pw}}, "email"},
		{"first administrator with a weak password", srv.Client(t), "/setup",
			url.Values{"token": {setupToken}, "username": {"adm"}, "email": {"adm@example.com"}, "password": {"password1234"}, "confirm_password": {"password1234"}}, "password"},
		{"first administrator with differing passwords", srv.Client(t), "/setup",
			url.Values{"token": {setupToken}, "username": {"adm"}, "email": {"adm@example.com"}, "password": {pw}, "confirm_password": {"x"}}, "confirm_password"},
		{"support request without a name", srv.Client(t), "/support",
			url.Values{"email": {"x@example.com"}, "organisation": {"Acme"}, "category": {"lost_device"}, "description": {"Lost it."}}, "full_name"},
		{"support request with a bad address", srv.Client(t), "/support",
			url.Values{"full_name": {"X"}, "email": {"nope"}, "organisation": {"Acme"}, "category": {"lost_device"}, "description": {"Lost it."}}, "email"},
		{"support note left empty", agent, "/support/cases/" + ref + "/notes", url.Values{"text": {" "}}, "text"},
		{"support case closed without a reason", agent, "/support/cases/" + ref + "/resolve", url.Values{"outcome": {"resolved"}, "reason": {""}}, "reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFieldError(t, postForm(tc.c, tc.path, tc.form), tc.field)
		})
	}

	t.Run("recovery code not confirmed as saved", func(t *testing.T) {
		srv.NextStep()
		r := postForm(signedIn, "/account/recovery-code", url.Values{"code": {srv.Code(secret, 0)}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("new recovery code: %d %s", r.Status, r.Body)
		}
		wantFieldError(t, postForm(signedIn, "/recovery-code/ack", url.Values{}), "saved")
	})
}

// TestNewPasswordFieldsShowTheWholeHint: wherever a new password is chosen, the hint says
// the configured minimum and what else the policy refuses, so no refusal comes as a surprise.
func TestNewPasswordFieldsShowTheWholeHint(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) {
		c.Registration.Enabled = true
		c.Password.MinLength = 14
	}})
	setupToken, err := srv.Auth.IssueSetupToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signedIn, _, _ := enrolled(t, srv, "sid")
	srv.CreateUser(t, "rita", "rita@example.com", "user")
	resetToken := forgot(t, srv, "rita", "rita@example.com", true)
	inviteToken := invited(t, srv, "ivo")
	const hint = "At least 14 characters. It must not contain your username, nor be a common password"
	for _, tc := range []struct {
		name string
		c    *testserver.Client
		path string
	}{
		{"registration", srv.Client(t), "/register"},
		{"invitation", srv.Client(t), "/invite?token=" + url.QueryEscape(inviteToken)},
		{"password reset", srv.Client(t), "/password/reset?token=" + url.QueryEscape(resetToken)},
		{"first administrator", srv.Client(t), "/setup?token=" + url.QueryEscape(setupToken)},
		{"password change", signedIn, "/account/security"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantPage(t, tc.c.Get(tc.path), http.StatusOK, hint, `minlength="14"`)
		})
	}
}

// TestFirstAdministratorSetupEnds: after the setup link created the first administrator,
// the sign-in page has the new username filled in, and the used link's page says what is
// true now (an administrator exists: sign in, or add one at the console), under a title
// that says so, not "Bad Request".
func TestFirstAdministratorSetupEnds(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	token, err := srv.Auth.IssueSetupToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	r := postForm(c, "/setup", url.Values{"token": {token}, "username": {"root"}, "email": {"root@example.com"},
		"password": {testserver.Password}, "confirm_password": {testserver.Password}})
	wantRedirect(t, r, "/login")
	if strings.Contains(r.Header.Get("Location"), "root") {
		t.Errorf("the username travels in the URL: %s", r.Header.Get("Location"))
	}
	login := c.Get(r.Header.Get("Location"))
	wantPage(t, login, http.StatusOK, "Your administrator account is ready")
	if !regexp.MustCompile(`<input id="username"[^>]*value="root"`).Match(login.Body) {
		t.Errorf("the sign-in page does not have the new username filled in:\n%s", login.Body)
	}
	if !regexp.MustCompile(`<input id="password"[^>]*autofocus`).Match(login.Body) {
		t.Errorf("the focus is not on the password:\n%s", login.Body)
	}

	for _, used := range []*testserver.Response{
		srv.Client(t).Get("/setup?token=" + url.QueryEscape(token)),
		postForm(srv.Client(t), "/setup", url.Values{"token": {token}, "username": {"root2"}, "email": {"root2@example.com"},
			"password": {testserver.Password}, "confirm_password": {testserver.Password}}),
	} {
		wantPage(t, used, http.StatusBadRequest, "An administrator exists already", `href="/login"`, "twofold user add", "--role admin")
		page := string(used.Body)
		if strings.Contains(page, "Bad Request") || strings.Contains(page, "Restart the server") || strings.Contains(page, `action="/setup"`) {
			t.Errorf("the used link's page is titled Bad Request, advises a restart or shows the form:\n%s", page)
		}
	}
}

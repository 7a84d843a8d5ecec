package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/web"
)

// regPublicURL is server.public_url of the registration tests: the links in mail lead there.
const regPublicURL = "https://id.example.com"

// regServer starts a server with registration on; change adjusts the section (limits are
// raised unless it sets them: every test client comes from 127.0.0.1).
func regServer(t *testing.T, o testserver.Options, change func(*config.Registration)) *testserver.Server {
	t.Helper()
	o.PublicURL = regPublicURL
	o.Config = func(c *config.Config) {
		c.Registration.Enabled = true
		c.Registration.RequestsPerIPHour, c.Registration.RequestsPerEmailHour = 1000, 1000
		c.Registration.MailsPerHour = 1000
		if change != nil {
			change(&c.Registration)
		}
	}
	return testserver.New(t, o)
}

func registerBody(username, email string) map[string]string {
	return map[string]string{"username": username, "email": email, "password": testserver.Password}
}

// regLinkToken returns the token of the newest registration link mailed to email.
func regLinkToken(t *testing.T, srv *testserver.Server, email string) string {
	t.Helper()
	link := srv.LastMailTo(t, email).Link("/register/confirm?token=")
	prefix := regPublicURL + "/register/confirm?token="
	if !strings.HasPrefix(link, prefix) {
		t.Fatalf("mail to %s holds no link under %s: %q", email, prefix, link)
	}
	tok, err := url.QueryUnescape(strings.TrimPrefix(link, prefix))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func userByLogin(t *testing.T, srv *testserver.Server, login string) (*store.User, error) {
	t.Helper()
	return srv.Store.GetUserByLogin(context.Background(), auth.NormalizeLogin(login))
}

// TestRegistrationOffByDefault: without registration.enabled every registration route
// answers 404 and the sign-in page does not offer it.
func TestRegistrationOffByDefault(t *testing.T) {
	srv := newServer(t)
	c := srv.Client(t)
	wantProblem(t, c.PostJSON("/api/v1/register", registerBody("ada", "ada@example.com")), http.StatusNotFound, "not_found")
	wantProblem(t, c.PostJSON("/api/v1/register/confirm", map[string]string{"token": "x"}), http.StatusNotFound, "not_found")
	for _, path := range []string{"/register", "/register/sent", "/register/confirm?token=x"} {
		wantPage(t, c.Get(path), http.StatusNotFound, "does not offer registration")
	}
	wantPage(t, postForm(c, "/register", url.Values{"username": {"ada"}, "email": {"ada@example.com"}, "password": {testserver.Password}}),
		http.StatusNotFound, "does not offer registration")
	if page := c.Get("/login"); bytes.Contains(page.Body, []byte(`href="/register"`)) {
		t.Errorf("the sign-in page links to the registration while it is off:\n%s", page.Body)
	}
	if mails := srv.Mail(t); len(mails) != 0 {
		t.Errorf("mail sent while registration is off: %d", len(mails))
	}
	on := regServer(t, testserver.Options{}, nil)
	wantPage(t, on.Client(t).Get("/login"), http.StatusOK, `href="/register"`, "Create an account")
}

// TestRegistrationJourney: register, confirm the mailed link, and the account exists,
// signed in, with its address verified; before the confirmation there is no account.
func TestRegistrationJourney(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mfaFor    func(string) bool
		wantState string
	}{
		{"mfa_required_goes_on_to_enrollment", nil, store.StateEnrollmentRequired},
		{"no_mfa_required_is_signed_in", noMFA, store.StateAuthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := regServer(t, testserver.Options{MFARequiredForRole: tc.mfaFor}, nil)
			c := srv.Client(t)
			r := c.PostJSON("/api/v1/register", registerBody("ada", "Ada@Example.com"))
			wantStatus(t, r, http.StatusAccepted)
			if string(bytes.TrimSpace(r.Body)) != "{}" {
				t.Fatalf("body %s, want {}", r.Body)
			}
			if _, err := userByLogin(t, srv, "ada"); err == nil {
				t.Fatal("the account exists before the link is confirmed")
			}
			tok := regLinkToken(t, srv, "Ada@Example.com")
			m := srv.LastMailTo(t, "Ada@Example.com")
			if strings.Contains(m.Text, testserver.Password) || strings.Contains(m.Text, "ada ") {
				t.Errorf("the link mail repeats what the requester typed:\n%s", m.Text)
			}

			// The GET shows a button and changes nothing, however often it is fetched.
			for range 2 {
				wantPage(t, c.Get("/register/confirm?token="+url.QueryEscape(tok)), http.StatusOK,
					"Create the account <strong>ada</strong> for <strong>Ada@Example.com</strong>?", `name="token" value="`+tok+`"`, "Create my account")
			}
			if _, err := userByLogin(t, srv, "ada"); err == nil {
				t.Fatal("the confirmation page created the account")
			}

			r = c.PostJSON("/api/v1/register/confirm", map[string]string{"token": tok})
			wantStatus(t, r, http.StatusOK)
			var got web.RegistrationConfirmed
			regDecode(t, r, &got)
			if got.State != tc.wantState {
				t.Fatalf("state %q, want %q", got.State, tc.wantState)
			}
			if sessionToken(t, srv, c) == "" {
				t.Fatal("no session cookie after the confirmation")
			}
			var sess web.SessionAnswer
			regDecode(t, c.Get("/api/v1/session"), &sess)
			if sess.State != tc.wantState || sess.User.Username != "ada" {
				t.Fatalf("session %+v", sess)
			}
			u, err := userByLogin(t, srv, "ada@example.com")
			if err != nil {
				t.Fatalf("no account after the confirmation: %v", err)
			}
			if u.Role != store.RoleUser || !u.EmailVerified || !sess.User.EmailVerified || u.Email != "Ada@Example.com" {
				t.Errorf("account %+v: want role user, address verified", u)
			}
			if auditCount(t, srv, u.ID, "registration.confirmed") != 1 {
				t.Error("no registration.confirmed audit row")
			}
			if tc.wantState == store.StateEnrollmentRequired {
				secretAnswer := c.PostJSON("/api/v1/account/mfa/totp", nil)
				wantStatus(t, secretAnswer, http.StatusCreated)
			}
			// The password of the registration signs in.
			wantStatus(t, login(srv.Client(t), "ada", testserver.Password), http.StatusOK)

			// Used once: a second confirmation, or the page, says the link is dead.
			wantProblem(t, srv.Client(t).PostJSON("/api/v1/register/confirm", map[string]string{"token": tok}), http.StatusBadRequest, "invalid_token")
			wantPage(t, srv.Client(t).Get("/register/confirm?token="+url.QueryEscape(tok)), http.StatusBadRequest, "Register again")
		})
	}
}

// TestRegistrationLinkExpires: the link works for an hour.
func TestRegistrationLinkExpires(t *testing.T) {
	srv := regServer(t, testserver.Options{}, nil)
	wantStatus(t, srv.Client(t).PostJSON("/api/v1/register", registerBody("ada", "ada@example.com")), http.StatusAccepted)
	tok := regLinkToken(t, srv, "ada@example.com")
	srv.Clock.Advance(time.Hour + time.Second)
	wantProblem(t, srv.Client(t).PostJSON("/api/v1/register/confirm", map[string]string{"token": tok}), http.StatusBadRequest, "invalid_token")
	if _, err := userByLogin(t, srv, "ada"); err == nil {
		t.Fatal("an expired link created the account")
	}
}

// TestRegistrationNoEnumeration: the answer is the same for a free address, one an account
// uses (that account gets a notice, no link), a disabled account's, a taken username, and a
// domain that may not register (no mail at all).
func TestRegistrationNoEnumeration(t *testing.T) {
	srv := regServer(t, testserver.Options{}, func(r *config.Registration) { r.AllowedDomains = []string{"example.com"} })
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	srv.CreateUser(t, "carol", "carol@example.com", "user")
	disable(t, srv, "carol")
	cases := []struct{ name, username, email string }{
		{"free", "ada", "ada@example.com"},
		{"address_of_an_account", "newbob", "bob@example.com"},
		{"address_of_a_disabled_account", "newcarol", "carol@example.com"},
		{"username_taken", "bob", "bobby@example.com"},
		{"domain_not_allowed", "dan", "dan@other.test"},
	}
	var first *testserver.Response
	for _, tc := range cases {
		r := srv.Client(t).PostJSON("/api/v1/register", registerBody(tc.username, tc.email))
		wantStatus(t, r, http.StatusAccepted)
		if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
			t.Errorf("%s set a cookie: %v", tc.name, sc)
		}
		if first == nil {
			first = r
		} else if !bytes.Equal(r.Body, first.Body) {
			t.Errorf("%s answered %s, %s answered %s", tc.name, r.Body, cases[0].name, first.Body)
		}
		page := postForm(srv.Client(t), "/register", url.Values{"username": {tc.username}, "email": {tc.email}, "password": {testserver.Password}})
		if page.Status != http.StatusSeeOther || page.Header.Get("Location") != "/register/sent" {
			t.Errorf("%s: the form answered %d %s", tc.name, page.Status, page.Header.Get("Location"))
		}
	}
	wantPage(t, srv.Client(t).Get("/register/sent"), http.StatusOK, "If this address can register, we sent a link to it.")

	byTo := map[string][]*mailtest.Parsed{}
	for _, m := range srv.Mail(t) {
		to := strings.Trim(strings.ToLower(m.To), "<>")
		byTo[to] = append(byTo[to], m)
	}
	if n := len(byTo["ada@example.com"]); n != 2 || byTo["ada@example.com"][0].Link("/register/confirm?token=") == "" {
		t.Errorf("free address: %d mails, want 2 links", n)
	}
	for _, m := range byTo["bob@example.com"] {
		if m.Link("/register/confirm") != "" || !strings.Contains(m.Subject, "Someone tried to register") || !strings.Contains(m.Text, "Hello bob") {
			t.Errorf("the account using the address got %q:\n%s", m.Subject, m.Text)
		}
	}
	if len(byTo["bob@example.com"]) != 2 {
		t.Errorf("the account using the address got %d notices, want 2", len(byTo["bob@example.com"]))
	}
	for _, to := range []string{"carol@example.com", "dan@other.test"} {
		if len(byTo[to]) != 0 {
			t.Errorf("%s got mail: %q", to, byTo[to][0].Subject)
		}
	}
	// The taken username is refused when its link is confirmed, clearly, to whoever holds
	// the address; the link stays as it was.
	tok := regLinkToken(t, srv, "bobby@example.com")
	r := srv.Client(t).PostJSON("/api/v1/register/confirm", map[string]string{"token": tok})
	wantProblem(t, r, http.StatusConflict, "conflict")
	if !strings.Contains(string(r.Body), "Register again with another username") {
		t.Errorf("refusal does not say what to do: %s", r.Body)
	}
	wantPage(t, srv.Client(t).Get("/register/confirm?token="+url.QueryEscape(tok)), http.StatusOK, "Create my account")
}

// TestRegistrationNameTakenMeanwhile: a username an account took (in any case) after the
// request is a clear refusal on the confirmation page, and nothing is created.
func TestRegistrationNameTakenMeanwhile(t *testing.T) {
	srv := regServer(t, testserver.Options{}, nil)
	wantStatus(t, srv.Client(t).PostJSON("/api/v1/register", registerBody("ada", "ada@example.com")), http.StatusAccepted)
	tok := regLinkToken(t, srv, "ada@example.com")
	srv.CreateUser(t, "Ada", "someone@example.com", "user")
	c := srv.Client(t)
	page := postForm(c, "/register/confirm", url.Values{"token": {tok}})
	wantPage(t, page, http.StatusConflict, "Someone took this username after you asked to register")
	if sessionToken(t, srv, c) != "" {
		t.Error("a refused confirmation signed in")
	}
	u, err := userByLogin(t, srv, "ada@example.com")
	if err == nil {
		t.Fatalf("an account was created: %+v", u)
	}
}

// TestRegistrationBadInput: malformed fields and weak passwords are 400 with the reason;
// they say nothing about accounts and send nothing.
func TestRegistrationBadInput(t *testing.T) {
	srv := regServer(t, testserver.Options{}, nil)
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	c := srv.Client(t)
	for _, tc := range []struct {
		name string
		body any
		code string
		says string
	}{
		{"no_username", map[string]string{"email": "a@example.com", "password": testserver.Password}, "bad_request", "username"},
		{"bad_username", registerBody("a b", "a@example.com"), "bad_request", "only letters"},
		{"bad_email", registerBody("ada", "not an address"), "bad_request", "valid e-mail"},
		{"domain_literal", registerBody("ada", "ada@[192.0.2.1]"), "bad_request", "IP address in brackets"},
		{"short_password", map[string]string{"username": "ada", "email": "ada@example.com", "password": "short"}, "weak_password", "at least 12"},
		{"password_with_the_name", map[string]string{"username": "ada", "email": "ada@example.com", "password": "ada ada ada ada ada"}, "weak_password", ""},
		{"weak_password_for_a_taken_address", map[string]string{"username": "x", "email": "bob@example.com", "password": "short"}, "weak_password", "at least 12"},
		{"not_json", "{", "bad_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.PostJSON("/api/v1/register", tc.body)
			wantProblem(t, r, http.StatusBadRequest, tc.code)
			if !strings.Contains(string(r.Body), tc.says) {
				t.Errorf("problem does not say %q: %s", tc.says, r.Body)
			}
		})
	}
	if n := len(srv.Mail(t)); n != 0 {
		t.Errorf("%d mails sent for refused requests", n)
	}
	wantPage(t, postForm(c, "/register", url.Values{"username": {"ada"}, "email": {"ada@example.com"}, "password": {"short"}}),
		http.StatusBadRequest, "at least 12", `value="ada@example.com"`)
	for _, tok := range []string{"", "nope", strings.Repeat("x", 200), "bad\x00token"} {
		wantProblem(t, c.PostJSON("/api/v1/register/confirm", map[string]string{"token": tok}), http.StatusBadRequest, "invalid_token")
	}
}

// TestRegistrationLimits: per client address, per e-mail address (case and +tag folded),
// and the hourly mail cap that answers the same but sends nothing past it.
func TestRegistrationLimits(t *testing.T) {
	t.Run("per_email_address", func(t *testing.T) {
		srv := regServer(t, testserver.Options{}, func(r *config.Registration) { r.RequestsPerEmailHour = 2 })
		c := srv.Client(t)
		wantStatus(t, c.PostJSON("/api/v1/register", registerBody("ada", "ada@example.com")), http.StatusAccepted)
		wantStatus(t, c.PostJSON("/api/v1/register", registerBody("ada", "Ada+x@example.com")), http.StatusAccepted)
		r := c.PostJSON("/api/v1/register", registerBody("ada", "ada+y@EXAMPLE.com"))
		wantProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		wantStatus(t, c.PostJSON("/api/v1/register", registerBody("ada", "other@example.com")), http.StatusAccepted)
		wantPage(t, postForm(c, "/register", url.Values{"username": {"ada"}, "email": {"ada@example.com"}, "password": {testserver.Password}}),
			http.StatusTooManyRequests, "Too many registrations for this e-mail address")
		srv.Clock.Advance(time.Hour)
		wantStatus(t, c.PostJSON("/api/v1/register", registerBody("ada", "ada@example.com")), http.StatusAccepted)
	})
	t.Run("per_client_address", func(t *testing.T) {
		srv := regServer(t, testserver.Options{}, func(r *config.Registration) { r.RequestsPerIPHour = 2 })
		c := srv.Client(t)
		for i, email := range []string{"a@example.com", "b@example.com"} {
			if r := c.PostJSON("/api/v1/register", registerBody("u"+email[:1], email)); r.Status != http.StatusAccepted {
				t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
			}
		}
		wantProblem(t, c.PostJSON("/api/v1/register", registerBody("uc", "c@example.com")), http.StatusTooManyRequests, "rate_limited")
	})
	t.Run("hourly_mail_cap", func(t *testing.T) {
		srv := regServer(t, testserver.Options{}, func(r *config.Registration) { r.MailsPerHour = 2 })
		srv.CreateUser(t, "bob", "bob@example.com", "user")
		c := srv.Client(t)
		for _, email := range []string{"a@example.com", "bob@example.com", "c@example.com", "d@example.com"} {
			r := c.PostJSON("/api/v1/register", registerBody("u"+email[:1], email))
			if r.Status != http.StatusAccepted || string(bytes.TrimSpace(r.Body)) != "{}" {
				t.Fatalf("%s: %d %s", email, r.Status, r.Body)
			}
		}
		var to []string
		for _, m := range srv.Mail(t) {
			to = append(to, strings.Trim(m.To, "<>"))
		}
		slices.Sort(to)
		if !slices.Equal(to, []string{"a@example.com", "bob@example.com"}) {
			t.Errorf("mailed %v, want a@ and bob@ only", to)
		}
		if n := auditCount(t, srv, "", "registration.mail_capped"); n != 1 {
			t.Errorf("%d registration.mail_capped rows, want 1", n)
		}
		srv.Clock.Advance(time.Hour)
		wantStatus(t, c.PostJSON("/api/v1/register", registerBody("ue", "e@example.com")), http.StatusAccepted)
		srv.LastMailTo(t, "e@example.com")
	})
}

// TestRegistrationConfirmOnce: of 20 parallel confirmations of one link exactly one
// creates the account and signs in; the others get invalid_token. On both databases.
func TestRegistrationConfirmOnce(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			o := testserver.Options{MFARequiredForRole: noMFA}
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := regServer(t, o, nil)
			wantStatus(t, srv.Client(t).PostJSON("/api/v1/register", registerBody("ada", "ada@example.com")), http.StatusAccepted)
			tok := regLinkToken(t, srv, "ada@example.com")
			const n = 20
			statuses := make([]int, n)
			bodies := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				c := srv.Client(t)
				wg.Go(func() {
					r := c.PostJSON("/api/v1/register/confirm", map[string]string{"token": tok})
					statuses[i], bodies[i] = r.Status, string(r.Body)
				})
			}
			wg.Wait()
			ok := 0
			for i, st := range statuses {
				switch {
				case st == http.StatusOK:
					ok++
				case st == http.StatusBadRequest && strings.Contains(bodies[i], "invalid_token"):
				default:
					t.Errorf("confirmation %d: %d %s", i, st, bodies[i])
				}
			}
			if ok != 1 {
				t.Fatalf("%d confirmations succeeded, want exactly 1", ok)
			}
			u, err := userByLogin(t, srv, "ada")
			if err != nil {
				t.Fatal(err)
			}
			if n := auditCount(t, srv, u.ID, "user.created"); n != 1 {
				t.Errorf("%d user.created rows, want 1", n)
			}
		})
	}
}

func regDecode(t *testing.T, r *testserver.Response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%d %s: %v", r.Status, r.Body, err)
	}
}

// TestRegistrationPagesWithoutMFA: through the HTML forms, an account the policy asks no
// authenticator of lands signed in on the security page, which says what happened.
func TestRegistrationPagesWithoutMFA(t *testing.T) {
	srv := regServer(t, testserver.Options{MFARequiredForRole: noMFA}, nil)
	c := srv.Client(t)
	r := postForm(c, "/register", url.Values{"username": {"ada"}, "email": {"ada@example.com"}, "password": {testserver.Password}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/register/sent" {
		t.Fatalf("form: %d %s", r.Status, r.Header.Get("Location"))
	}
	tok := regLinkToken(t, srv, "ada@example.com")
	r = postForm(c, "/register/confirm", url.Values{"token": {tok}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account/security?done=registered" {
		t.Fatalf("confirm: %d %s", r.Status, r.Header.Get("Location"))
	}
	wantPage(t, c.Get("/account/security?done=registered"), http.StatusOK, "Your account is created and you are signed in.")
}

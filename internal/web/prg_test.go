package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// follow GETs where r redirects (a path on the server).
func follow(t *testing.T, c *testserver.Client, r *testserver.Response) *testserver.Response {
	t.Helper()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("status %d, want 303: %s", r.Status, r.Body)
	}
	return c.Get(r.Header.Get("Location"))
}

// mailedPath returns the path and query of the newest link under prefix mailed to addr.
func mailedPath(t *testing.T, srv *testserver.Server, addr, prefix string) string {
	t.Helper()
	u, err := url.Parse(srv.LastMailTo(t, addr).Link(prefix))
	if err != nil || u.Path == "" {
		t.Fatalf("no %s link mailed to %s", prefix, addr)
	}
	return u.RequestURI()
}

// TestEveryFormPostRedirects walks every form POST route the router has and posts what
// succeeds: each answers 303 to a GET page (post, redirect, get), so no result lives at a
// POST URL and a reload never posts again. The OpenID Connect forms are probed with a
// request they refuse: their success answers are the application's redirects (and the
// continue page, drawn only after a same-origin form because of the Content-Security-
// Policy's form-action, see oidcRedirect).
func TestEveryFormPostRedirects(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) {
		c.Registration.Enabled = true
		c.Registration.RequestsPerIPHour, c.Registration.RequestsPerEmailHour = 1000, 1000
		c.Registration.MailsPerHour = 1000
	}})
	pw, next := testserver.Password, "orbit lantern cactus violin"
	setupToken, err := srv.Auth.IssueSetupToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	form := func(c *testserver.Client, path string, v url.Values) *testserver.Response {
		t.Helper()
		return postForm(c, path, v)
	}
	secretOf := regexp.MustCompile(`id="secret">([A-Z2-7 ]+)<`)
	agent, _ := supEnrolled(t, srv, "agnes", "support")
	// The administrator comes after POST /setup, which an existing administrator refuses.
	var rootClient *testserver.Client
	admin := func(t *testing.T) *testserver.Client {
		if rootClient == nil {
			rootClient = mfaClient(t, srv, "prgadmin", "admin")
		}
		return rootClient
	}
	// The console's forms on a server of their own: an administrator here would make the
	// setup link of this one void.
	admSrv := newServer(t)
	adm, _ := supEnrolled(t, admSrv, "adele", "admin")

	cases := map[string]func(t *testing.T) *testserver.Response{
		"POST /language": func(t *testing.T) *testserver.Response {
			return form(srv.Client(t), "/language", url.Values{"lang": {"de"}, "back": {"/login"}})
		},
		"POST /login": func(t *testing.T) *testserver.Response {
			srv.CreateUser(t, "lou", "lou@example.com", "user")
			return form(srv.Client(t), "/login", url.Values{"username": {"lou"}, "password": {pw}})
		},
		"POST /password/forgot": func(t *testing.T) *testserver.Response {
			srv.CreateUser(t, "fay", "fay@example.com", "user")
			return form(srv.Client(t), "/password/forgot", url.Values{"login": {"fay"}})
		},
		"POST /password/reset/code": func(t *testing.T) *testserver.Response {
			_, secret, _ := enrolled(t, srv, "cody")
			tok := forgot(t, srv, "cody", "cody@example.com", true)
			srv.NextStep()
			return form(srv.Client(t), "/password/reset/code", url.Values{"token": {tok}, "code": {srv.Code(secret, 0)}})
		},
		"POST /password/reset": func(t *testing.T) *testserver.Response {
			_, _, rc := enrolled(t, srv, "rex")
			tok := forgot(t, srv, "rex", "rex@example.com", true)
			c := srv.Client(t)
			step := follow(t, c, form(c, "/password/reset/code", url.Values{"token": {tok}, "code": {rc}}))
			proof := hiddenValue(step, "proof")
			r := form(c, "/password/reset", url.Values{"token": {tok}, "proof": {proof}, "new_password": {next}, "confirm_password": {next}})
			done := follow(t, c, r)
			if done.Status != http.StatusOK || !strings.Contains(string(done.Body), `id="recovery-code"`) {
				t.Errorf("the page after the reset shows no new recovery code: %d %s", done.Status, done.Body)
			}
			if strings.Contains(r.Header.Get("Location"), "-") {
				t.Errorf("the redirect after the reset carries something: %s", r.Header.Get("Location"))
			}
			return r
		},
		"POST /account/confirm": func(t *testing.T) *testserver.Response {
			c, secret, _ := enrolled(t, srv, "proofy")
			srv.NextStep()
			return form(c, "/account/confirm", url.Values{"code": {srv.Code(secret, 0)}})
		},
		"POST /account/security-keys/{id}/remove": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "rmk")
			k := srv.AddKeyRecord(t, "rmk", "Old key")
			return form(c, "/account/security-keys/"+k.ID+"/remove", url.Values{})
		},
		// The key's own route takes JSON from webauthn.js; a form posted without
		// JavaScript is refused with the error page.
		"POST /account/security-keys": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "addk")
			return form(c, "/account/security-keys", url.Values{"name": {"Key"}})
		},
		// So does the reset's key route.
		"POST /password/reset/key": func(t *testing.T) *testserver.Response {
			_, _, _ = enrolled(t, srv, "rkey")
			tok := forgot(t, srv, "rkey", "rkey@example.com", true)
			return form(srv.Client(t), "/password/reset/key", url.Values{"token": {tok}})
		},
		"POST /login/code": func(t *testing.T) *testserver.Response {
			_, secret, _ := enrolled(t, srv, "kim")
			c := srv.Client(t)
			c.Login("kim", "mfa_required")
			srv.NextStep()
			return form(c, "/login/code", url.Values{"code": {srv.Code(secret, 0)}})
		},
		"POST /login/recovery": func(t *testing.T) *testserver.Response {
			_, _, rc := enrolled(t, srv, "rae")
			c := srv.Client(t)
			c.Login("rae", "mfa_required")
			return form(c, "/login/recovery", url.Values{"code": {rc}})
		},
		"POST /mfa/setup/start": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "sue")
			return form(c, "/mfa/setup/start", url.Values{})
		},
		"POST /mfa/setup/confirm": func(t *testing.T) *testserver.Response {
			srv.CreateUser(t, "con", "con@example.com", "user")
			c := srv.Client(t)
			follow(t, c, form(c, "/login", url.Values{"username": {"con"}, "password": {pw}}))
			secret := testserver.DecodeSecret(t, strings.ReplaceAll(find(t, c.Get("/mfa/setup"), secretOf), " ", ""))
			return form(c, "/mfa/setup/confirm", url.Values{"code": {srv.Code(secret, 0)}})
		},
		"POST /recovery-code/ack": func(t *testing.T) *testserver.Response {
			c, secret, _ := enrolled(t, srv, "ack")
			srv.NextStep()
			follow(t, c, form(c, "/account/recovery-code", url.Values{"code": {srv.Code(secret, 0)}}))
			return form(c, "/recovery-code/ack", url.Values{"saved": {"yes"}})
		},
		"POST /account/recovery-code": func(t *testing.T) *testserver.Response {
			c, secret, _ := enrolled(t, srv, "nrc")
			srv.NextStep()
			return form(c, "/account/recovery-code", url.Values{"code": {srv.Code(secret, 0)}})
		},
		"POST /account/password": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "pat")
			return form(c, "/account/password", url.Values{"current_password": {pw}, "new_password": {next}, "confirm_password": {next}})
		},
		"POST /account/profile": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "pro")
			return form(c, "/account/profile", url.Values{"display_name": {"Pro Filer"}})
		},
		"POST /account/sessions/sign-out-others": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "oth")
			return form(c, "/account/sessions/sign-out-others", url.Values{})
		},
		"POST /account/sessions/{id}/sign-out": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "ses")
			return form(c, "/account/sessions/none/sign-out", url.Values{})
		},
		"POST /account/applications/{client_id}/revoke": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "app")
			return form(c, "/account/applications/none/revoke", url.Values{})
		},
		"POST /logout": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "bye")
			return form(c, "/logout", url.Values{})
		},
		"POST /setup": func(t *testing.T) *testserver.Response {
			return form(srv.Client(t), "/setup", url.Values{"token": {setupToken}, "username": {"root"}, "email": {"root@example.com"},
				"password": {pw}, "confirm_password": {pw}})
		},
		"POST /support": func(t *testing.T) *testserver.Response {
			return form(srv.Client(t), "/support", url.Values{"full_name": {"Sid"}, "email": {"sid@example.com"}, "organisation": {"Acme"},
				"category": {"lost_device"}, "description": {"Lost my phone."}})
		},
		"POST /support/verify": func(t *testing.T) *testserver.Response {
			srv.CreateUser(t, "ver", "ver@example.com", "user")
			ref := supOpen(t, srv, "ver@example.com")
			supWant(t, agent.PostJSON("/api/v1/support/cases/"+ref+"/verify-email", map[string]string{}), http.StatusAccepted)
			u, _ := url.Parse(mailedPath(t, srv, "ver@example.com", "/support/verify?token="))
			return form(srv.Client(t), "/support/verify", url.Values{"token": {u.Query().Get("token")}})
		},
		"POST /support/cases/{ref}/{action}": func(t *testing.T) *testserver.Response {
			ref := supOpen(t, srv, "sid@example.com")
			return form(agent, "/support/cases/"+ref+"/notes", url.Values{"text": {"Called back."}})
		},
		"POST /support/cases/{ref}/reset-mfa/approve": func(t *testing.T) *testserver.Response {
			ref := supOpen(t, srv, "sid@example.com")
			return form(agent, "/support/cases/"+ref+"/reset-mfa/approve", url.Values{})
		},
		"POST /admin/tokens": func(t *testing.T) *testserver.Response {
			return form(admin(t), "/admin/tokens", url.Values{"name": {"ci"}, "scopes": {"audit:read"}, "expires": {"30d"}})
		},
		"POST /admin/tokens/{id}/revoke": func(t *testing.T) *testserver.Response {
			tok, err := srv.Tokens.Create(t.Context(), apitoken.NewToken{Name: "old", Scopes: []string{"audit:read"}}, auth.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			return form(admin(t), "/admin/tokens/"+tok.Token.ID+"/revoke", nil)
		},
		"POST /register": func(t *testing.T) *testserver.Response {
			return form(srv.Client(t), "/register", url.Values{"username": {"reg"}, "email": {"reg@example.com"}, "password": {next}})
		},
		"POST /register/confirm": func(t *testing.T) *testserver.Response {
			form(srv.Client(t), "/register", url.Values{"username": {"neu"}, "email": {"neu@example.com"}, "password": {next}})
			u, _ := url.Parse(mailedPath(t, srv, "neu@example.com", "/register/confirm?token="))
			return form(srv.Client(t), "/register/confirm", url.Values{"token": {u.Query().Get("token")}})
		},
		"POST /invite": func(t *testing.T) *testserver.Response {
			tok := invited(t, srv, "ivo")
			return form(srv.Client(t), "/invite", url.Values{"token": {tok}, "password": {next}, "confirm_password": {next}})
		},
		"POST /account/email": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "mov")
			return form(c, "/account/email", url.Values{"email": {"moved@example.com"}, "password": {pw}})
		},
		"POST /account/email/verify": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "unv")
			return form(c, "/account/email/verify", url.Values{})
		},
		"POST /account/email/confirm": func(t *testing.T) *testserver.Response {
			c, _, _ := enrolled(t, srv, "cfm")
			follow(t, c, form(c, "/account/email", url.Values{"email": {"confirmed@example.com"}, "password": {pw}}))
			tok, _ := confirmToken(t, srv, "confirmed@example.com")
			r := form(srv.Client(t), address.ConfirmPath, url.Values{"token": {tok}})
			return r
		},
		"POST /admin/users/invite": func(t *testing.T) *testserver.Response {
			return form(adm, "/admin/users/invite", url.Values{"username": {"newbie"}, "email": {"newbie@example.com"}, "role": {"user"}})
		},
		"POST /admin/users/{id}/{action}": func(t *testing.T) *testserver.Response {
			u := admSrv.CreateUser(t, "lockd", "lockd@example.com", "user")
			return form(adm, "/admin/users/"+u.ID+"/unlock", url.Values{})
		},
		"POST /admin/users/{id}/sessions/{session}/end": func(t *testing.T) *testserver.Response {
			u := admSrv.CreateUser(t, "sess", "sess@example.com", "user")
			admSrv.Client(t).Login("sess", "enrollment_required")
			d := decodeAs[web.AdminUserDetails](t, adm.Get("/api/v1/admin/users/"+u.ID))
			if len(d.Sessions) != 1 {
				t.Fatalf("sessions: %+v", d.Sessions)
			}
			return form(adm, "/admin/users/"+u.ID+"/sessions/"+d.Sessions[0].ID+"/end", url.Values{})
		},
	}
	for pattern, post := range adminClientFormCases(t) {
		cases[pattern] = post
	}
	// These cases post what the route refuses (no such session, application or pending
	// reset): the refusal must not be a page at 200 either.
	refused := map[string]bool{"POST /account/sessions/{id}/sign-out": true, "POST /account/security-keys": true, "POST /password/reset/key": true,
		"POST /account/applications/{client_id}/revoke": true, "POST /support/cases/{ref}/reset-mfa/approve": true}
	oidcProbes := map[string]bool{"POST /authorize/consent": true, "POST /authorize/select": true,
		"POST /authorize/reauth": true, "POST /end_session/confirm": true, "POST /authorize/key/deny": true}

	for _, pattern := range web.PagePosts(t) {
		t.Run(pattern, func(t *testing.T) {
			if oidcProbes[pattern] {
				c, _, _ := enrolled(t, srv, "o"+strings.Map(func(r rune) rune {
					if r >= 'a' && r <= 'z' {
						return r
					}
					return -1
				}, pattern)[4:])
				r := form(c, strings.TrimPrefix(pattern, "POST "), url.Values{"id": {"none"}})
				if r.Status == http.StatusOK {
					t.Fatalf("a refused %s answers 200: %s", pattern, r.Body)
				}
				return
			}
			post, ok := cases[pattern]
			if !ok {
				t.Fatalf("no case for the form route %s: add what succeeds there", pattern)
			}
			r := post(t)
			if r.Status == http.StatusOK {
				t.Fatalf("%s answers 200 with a page at the POST URL, want 303 to a GET page:\n%s", pattern, r.Body)
			}
			if r.Status != http.StatusSeeOther && !(refused[pattern] && r.Status >= 400) {
				t.Fatalf("%s answers %d, want 303: %s", pattern, r.Status, r.Body)
			}
		})
	}
}

package web_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

const newPassword = "a brand new passphrase 42"

// resetMails returns the reset-link mails to the address, oldest first.
func resetMails(t testing.TB, srv *testserver.Server, to string) []*mailtest.Parsed {
	t.Helper()
	var out []*mailtest.Parsed
	for _, m := range srv.Mail(t) {
		if strings.Contains(strings.ToLower(m.To), to) && strings.HasPrefix(m.Subject, "Reset your") {
			out = append(out, m)
		}
	}
	return out
}

// resetTokens returns the tokens of the reset links mailed to the address.
func resetTokens(t testing.TB, srv *testserver.Server, to string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, m := range resetMails(t, srv, to) {
		link, err := url.Parse(m.Link("/password/reset?token="))
		if err != nil || link.Query().Get("token") == "" {
			t.Fatalf("no reset link in the mail: %v\n%s", err, m.Text)
		}
		if got := link.Scheme + "://" + link.Host; got != srv.URL {
			t.Fatalf("the link leads to %s, want the server %s", got, srv.URL)
		}
		out[link.Query().Get("token")] = true
	}
	return out
}

// waitResetMails flushes the mail queue, checks that n reset mails went to the address
// and returns their tokens.
func waitResetMails(t testing.TB, srv *testserver.Server, to string, n int) map[string]bool {
	t.Helper()
	toks := resetTokens(t, srv, to) // srv.Mail flushes the mail queue first
	if len(toks) < n {
		t.Fatalf("%d reset mails to %s, want %d", len(toks), to, n)
	}
	return toks
}

// forgot asks for a reset link for login over the API and checks the answer is 202 {}.
// When the account gets a link (want true) it waits for the mail and returns the token.
func forgot(t testing.TB, srv *testserver.Server, login, to string, want bool) string {
	t.Helper()
	before := resetTokens(t, srv, to)
	r := srv.Client(t).PostJSON("/api/v1/password/forgot", map[string]string{"login": login})
	if r.Status != http.StatusAccepted || strings.TrimSpace(string(r.Body)) != "{}" {
		t.Fatalf("forgot %s: %d %q, want 202 {}", login, r.Status, r.Body)
	}
	if !want {
		return ""
	}
	for tok := range waitResetMails(t, srv, to, len(before)+1) {
		if !before[tok] {
			return tok
		}
	}
	panic("unreachable")
}

// reset posts a reset over the API.
func reset(c *testserver.Client, token, pw, code string) *testserver.Response {
	return c.PostJSON("/api/v1/password/reset", map[string]string{"token": token, "new_password": pw, "code": code})
}

// loginWith signs username in with pw over the API and returns the status.
func loginWith(t *testing.T, srv *testserver.Server, username, pw string) int {
	t.Helper()
	return srv.Client(t).PostJSON("/api/v1/login", map[string]string{"username": username, "password": pw}).Status
}

// addGrant gives the user an offline OIDC grant, as an application's refresh token.
func addGrant(t *testing.T, srv *testserver.Server, u *store.User) string {
	t.Helper()
	ctx := t.Context()
	now := srv.Clock.Now()
	client := &store.OIDCClient{ID: "client-1", Name: "billing", RedirectURIs: []string{"https://billing.example.com/cb"}, IDTokenAlg: "ES256", CreatedAt: now}
	if err := srv.Store.CreateOIDCClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	g := &store.OIDCGrant{ID: "grant-1", ClientID: client.ID, UserID: u.ID, Scopes: []string{"openid", "offline_access"},
		AuthTime: now, AMR: []string{"pwd", "otp", "mfa"}, Offline: true, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := srv.Store.CreateOIDCGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func userOf(t *testing.T, srv *testserver.Server, name string) *store.User {
	t.Helper()
	u, err := srv.Auth.FindUser(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPasswordResetWithCode walks the reset of an account with an authenticator: the link
// alone changes nothing, a wrong code is refused without burning the link, and the right
// code sets the password, ends every session and application grant, signs nobody in and
// mails a notice.
func TestPasswordResetWithCode(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	c, secret, _ := enrolled(t, srv, "alice")
	grant := addGrant(t, srv, userOf(t, srv, "alice"))
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	anon := srv.Client(t)

	wantProblem(t, reset(anon, tok, newPassword, ""), http.StatusUnauthorized, "invalid_code")
	wantProblem(t, reset(anon, tok, newPassword, wrongCode(srv, secret)), http.StatusUnauthorized, "invalid_code")
	wantProblem(t, reset(anon, tok, "short", srv.Code(secret, 0)), http.StatusBadRequest, "weak_password")
	wantProblem(t, reset(anon, tok, testserver.Password, srv.Code(secret, 0)), http.StatusBadRequest, "weak_password")
	if st := loginWith(t, srv, "alice", testserver.Password); st != http.StatusOK {
		t.Fatalf("the refused resets changed the password: sign-in %d", st)
	}
	if sessionState(t, c) != store.StateAuthenticated {
		t.Fatal("a refused reset ended the session")
	}

	r := reset(anon, tok, newPassword, srv.Code(secret, 0))
	wantStatus(t, r, http.StatusOK)
	if got := decode[web.PasswordResetAnswer](t, r); got.RecoveryCode != "" || strings.TrimSpace(string(r.Body)) != "{}" {
		t.Errorf("answer %s, want {}", r.Body)
	}
	if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("the reset signed someone in: %v", sc)
	}
	if sessionState(t, c) != "" {
		t.Error("the session signed in before the reset is still alive")
	}
	if _, err := srv.Store.GetOIDCGrant(t.Context(), grant); err == nil {
		t.Error("the application grant (refresh token) survived the reset")
	}
	if st := loginWith(t, srv, "alice", testserver.Password); st != http.StatusUnauthorized {
		t.Errorf("the old password still signs in: %d", st)
	}
	if st := loginWith(t, srv, "alice", newPassword); st != http.StatusOK {
		t.Errorf("the new password does not sign in: %d", st)
	}
	srv.NextStep()
	wantProblem(t, reset(anon, tok, "yet another passphrase 7", srv.Code(secret, 0)), http.StatusBadRequest, "invalid_token")
	notices := 0
	for _, m := range srv.Mail(t) {
		if strings.Contains(m.To, "alice@example.com") && m.Subject == "Your password was reset" {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("%d reset notices to alice, want 1", notices)
	}
}

// TestPasswordResetWithRecoveryCode: the recovery code stands in for the authenticator;
// it is used up and a fresh one is returned, which signs in.
func TestPasswordResetWithRecoveryCode(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, _, rc := enrolled(t, srv, "alice")
	tok := forgot(t, srv, "alice@example.com", "alice@example.com", true)
	anon := srv.Client(t)
	wantProblem(t, reset(anon, tok, newPassword, "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"), http.StatusUnauthorized, "invalid_code")
	r := reset(anon, tok, newPassword, strings.ToLower(rc))
	wantStatus(t, r, http.StatusOK)
	fresh := decode[web.PasswordResetAnswer](t, r).RecoveryCode
	if fresh == "" || fresh == rc {
		t.Fatalf("answer %s, want a fresh recovery code", r.Body)
	}
	c := srv.Client(t)
	wantStatus(t, c.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": newPassword}), http.StatusOK)
	wantProblem(t, c.PostJSON("/api/v1/login/recovery-code", codeJSON(rc)), http.StatusUnauthorized, "invalid_code")
	wantStatus(t, c.PostJSON("/api/v1/login/recovery-code", codeJSON(fresh)), http.StatusOK)
}

// TestPasswordResetWithoutMFA: an account without a second factor resets with the link and
// a new password; a code sent along is ignored.
func TestPasswordResetWithoutMFA(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	c := srv.Client(t)
	c.Login("bob", store.StateAuthenticated)
	tok := forgot(t, srv, "BOB", "bob@example.com", true)
	r := reset(srv.Client(t), tok, newPassword, "")
	wantStatus(t, r, http.StatusOK)
	if strings.TrimSpace(string(r.Body)) != "{}" {
		t.Errorf("answer %s, want {}", r.Body)
	}
	if sessionState(t, c) != "" {
		t.Error("bob's session survived the reset")
	}
	if st := loginWith(t, srv, "bob", newPassword); st != http.StatusOK {
		t.Errorf("the new password does not sign in: %d", st)
	}
}

// TestPasswordResetRefusals: every link that cannot be used gets 400 invalid_token, and
// malformed requests a 400 with a reason.
func TestPasswordResetRefusals(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
	for _, n := range []string{"bob", "carol", "dave"} {
		srv.CreateUser(t, n, n+"@example.com", "user")
	}
	c := srv.Client(t)

	expired := forgot(t, srv, "bob", "bob@example.com", true)
	srv.Clock.Advance(auth.ResetLinkTTL)
	wantProblem(t, reset(c, expired, newPassword, ""), http.StatusBadRequest, "invalid_token")

	replaced := forgot(t, srv, "carol", "carol@example.com", true)
	newest := forgot(t, srv, "carol", "carol@example.com", true)
	wantProblem(t, reset(c, replaced, newPassword, ""), http.StatusBadRequest, "invalid_token")

	disabledTok := forgot(t, srv, "dave", "dave@example.com", true)
	disable(t, srv, "dave")
	wantProblem(t, reset(c, disabledTok, newPassword, ""), http.StatusBadRequest, "invalid_token")

	for name, tok := range map[string]string{
		"unknown":   strings.Repeat("A", 43),
		"empty":     "",
		"huge":      strings.Repeat("A", 5000),
		"not_text":  "\xff\xfe",
		"truncated": newest[:len(newest)-1],
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, reset(c, tok, newPassword, ""), http.StatusBadRequest, "invalid_token")
		})
	}
	wantProblem(t, c.PostJSON("/api/v1/password/reset", map[string]string{"token": newest}), http.StatusBadRequest, "bad_request")
	wantProblem(t, c.PostJSON("/api/v1/password/reset", `{"token": 7}`), http.StatusBadRequest, "bad_request")
	wantProblem(t, c.PostJSON("/api/v1/password/forgot", `{}`), http.StatusBadRequest, "bad_request")
	wantProblem(t, c.PostJSON("/api/v1/password/forgot", `not json`), http.StatusBadRequest, "bad_request")
	// None of the refusals used the newest link up.
	wantStatus(t, reset(c, newest, newPassword, ""), http.StatusOK)
}

// TestForgotPasswordNoEnumeration: every request gets the same status and bytes; mail
// goes only to an enabled account, at most three links an hour. That the work is the
// same is auth.TestForgotPasswordDoesTheSameWork.
func TestForgotPasswordNoEnumeration(t *testing.T) {
	srv := newEnumerationServer(t, nil)
	var first []byte
	for _, login := range []string{"alice", "bob@example.com", "mallory", "carol", "mallory@example.com", "x\x00y"} {
		r := srv.Client(t).PostJSON("/api/v1/password/forgot", map[string]string{"login": login})
		wantStatus(t, r, http.StatusAccepted)
		if first == nil {
			first = r.Body
		} else if !bytes.Equal(first, r.Body) {
			t.Fatalf("%q answered %q, another %q", login, r.Body, first)
		}
		if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
			t.Fatalf("%q set a cookie: %v", login, sc)
		}
	}
	waitResetMails(t, srv, "alice@example.com", 1)
	waitResetMails(t, srv, "bob@example.com", 1)
	forgot(t, srv, "bob", "bob@example.com", true) // bob's second link this hour
	forgot(t, srv, "bob", "bob@example.com", true) // and third
	forgot(t, srv, "bob", "bob@example.com", false)
	forgot(t, srv, "alice", "alice@example.com", true) // a later mail: bob's would be out by now
	if n := len(resetMails(t, srv, "bob@example.com")); n != auth.ResetLinksPerHour {
		t.Errorf("bob got %d reset mails in an hour, want %d", n, auth.ResetLinksPerHour)
	}
	if n := len(resetMails(t, srv, "carol@example.com")); n != 0 {
		t.Errorf("the disabled account got %d reset mails", n)
	}
	srv.Clock.Advance(time.Hour + time.Second) // an hour after the three links
	forgot(t, srv, "bob", "bob@example.com", true)
}

// TestPasswordResetCodesSpendTheSignInBudget: wrong codes at the reset are second-factor
// failures like sign-in ones: after the budget's free attempts the next one waits, at the
// reset and at the sign-in alike.
func TestPasswordResetCodesSpendTheSignInBudget(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	_, secret, _ := enrolled(t, srv, "alice")
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	anon := srv.Client(t)
	bad := wrongCode(srv, secret)
	for i := range 20 {
		r := reset(anon, tok, newPassword, bad)
		if r.Status == http.StatusTooManyRequests {
			wantProblem(t, r, http.StatusTooManyRequests, "throttled")
			c := srv.Client(t)
			c.Login("alice", "mfa_required")
			wantProblem(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), http.StatusTooManyRequests, "throttled")
			return
		}
		wantProblem(t, r, http.StatusUnauthorized, "invalid_code")
		if i == 19 {
			t.Fatal("20 wrong codes at the reset were never throttled")
		}
	}
}

// TestForgotPasswordPerAddressLimit: the forgot and reset calls share the sign-in's
// per-address limit.
func TestForgotPasswordPerAddressLimit(t *testing.T) {
	srv := testserver.New(t, testserver.Options{RateLimits: signInLimits})
	c := srv.Client(t)
	for i := range 100 {
		r := c.PostJSON("/api/v1/password/forgot", map[string]string{"login": "mallory"})
		if r.Status == http.StatusTooManyRequests {
			wantProblem(t, r, http.StatusTooManyRequests, "rate_limited")
			wantProblem(t, reset(c, "x", newPassword, ""), http.StatusTooManyRequests, "rate_limited")
			return
		}
		wantStatus(t, r, http.StatusAccepted)
		_ = i
	}
	t.Fatal("100 requests from one address were never limited")
}

// resetInParallel submits body to the reset API 20 times at once and checks that exactly
// one succeeds and every other is refused as a used link.
func resetInParallel(t *testing.T, srv *testserver.Server, body map[string]string) {
	t.Helper()
	results := make([]rawResult, 20)
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range results {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			results[i] = rawPostJSON(srv, srv.Client(t), "/api/v1/password/reset", body)
		}()
	}
	close(start)
	for range results {
		<-done
	}
	wins := 0
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("submission %d: %v", i, r.err)
		case r.status == http.StatusOK:
			wins++
		case r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"invalid_token"`):
			t.Errorf("submission %d: %d %s, want 200 or 400 invalid_token", i, r.status, r.body)
		}
	}
	if wins != 1 {
		t.Errorf("%d of 20 parallel resets succeeded, want exactly 1", wins)
	}
}

// TestPasswordResetOneOfTwentyWins submits one link 20 times at once, on SQLite and on
// PostgreSQL: exactly one reset succeeds, the others are refused as a used link.
func TestPasswordResetOneOfTwentyWins(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			o := testserver.Options{MFARequiredForRole: noMFA, Throttle: manyAttempts}
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			srv.CreateUser(t, "bob", "bob@example.com", "user")
			tok := forgot(t, srv, "bob", "bob@example.com", true)
			resetInParallel(t, srv, map[string]string{"token": tok, "new_password": newPassword})
		})
	}
}

// hiddenValue returns the value of the hidden input name on the page, or "".
func hiddenValue(r *testserver.Response, name string) string {
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindSubmatch(r.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(string(m[1]))
}

// TestPasswordResetPages walks the pages without JavaScript: the forgot form, the link's
// page (which changes nothing), the code step first, then the new password; a wrong code,
// a mismatch and a weak password each redraw their step.
func TestPasswordResetPages(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, secret, rc := enrolled(t, srv, "alice")
	c := srv.Client(t)
	contains(t, c.Get("/login"), `href="/password/forgot"`, "Forgot your password?")
	wantStatus(t, c.Get("/password/forgot"), http.StatusOK)
	r := postForm(c, "/password/forgot", url.Values{"login": {"alice"}})
	wantRedirect(t, r, "/password/forgot/sent")
	contains(t, c.Get("/password/forgot/sent"), "If an account matches")
	unknown := postForm(c, "/password/forgot", url.Values{"login": {"mallory"}})
	if unknown.Status != r.Status || !bytes.Equal(unknown.Body, r.Body) || unknown.Header.Get("Location") != r.Header.Get("Location") {
		t.Errorf("the answer for an unknown name differs:\n%d %s\n%d %s", unknown.Status, unknown.Body, r.Status, r.Body)
	}
	tok := ""
	for k := range waitResetMails(t, srv, "alice@example.com", 1) {
		tok = k
	}

	bad := c.Get("/password/reset?token=nope")
	wantStatus(t, bad, http.StatusBadRequest)
	contains(t, bad, "invalid, has expired or was used already", `href="/password/forgot"`)

	for range 2 { // mail scanners fetch links: the GET changes nothing
		r = c.Get("/password/reset?token=" + url.QueryEscape(tok))
		wantStatus(t, r, http.StatusOK)
		contains(t, r, "Confirm it is you", `action="/password/reset/code"`, "or your recovery code")
	}
	r = postForm(c, "/password/reset/code", url.Values{"token": {tok}, "code": {wrongCode(srv, secret)}})
	wantStatus(t, r, http.StatusUnauthorized)
	contains(t, r, "Each code works only once", `action="/password/reset/code"`)
	// The new-password form cannot be reached around the code step.
	r = postForm(c, "/password/reset", url.Values{"token": {tok}, "new_password": {newPassword}, "confirm_password": {newPassword}})
	wantStatus(t, r, http.StatusUnauthorized)
	contains(t, r, `action="/password/reset/code"`)
	forged := postForm(c, "/password/reset", url.Values{"token": {tok}, "proof": {"AAAA"}, "new_password": {newPassword}, "confirm_password": {newPassword}})
	wantStatus(t, forged, http.StatusUnauthorized)

	r = postForm(c, "/password/reset/code", url.Values{"token": {tok}, "code": {rc}})
	wantRedirect(t, r, "/password/reset")
	if other := srv.Client(t).Get("/password/reset?token=" + url.QueryEscape(tok)); bytes.Contains(other.Body, []byte(`name="proof"`)) {
		t.Fatal("another browser opening the link skips the code step")
	}
	r = c.Get(r.Header.Get("Location"))
	contains(t, r, "Choose a new password", `action="/password/reset"`)
	proof := hiddenValue(r, "proof")
	if proof == "" {
		t.Fatalf("no proof on the new-password step:\n%s", r.Body)
	}
	step := url.Values{"token": {tok}, "proof": {proof}, "new_password": {newPassword}, "confirm_password": {newPassword + "x"}}
	r = postForm(c, "/password/reset", step)
	wantStatus(t, r, http.StatusBadRequest)
	contains(t, r, "The two passwords differ", `name="proof"`)
	step.Set("new_password", "short")
	step.Set("confirm_password", "short")
	r = postForm(c, "/password/reset", step)
	wantStatus(t, r, http.StatusBadRequest)
	contains(t, r, `name="proof"`)
	step.Set("new_password", newPassword)
	step.Set("confirm_password", newPassword)
	r = postForm(c, "/password/reset", step)
	wantRedirect(t, r, "/password/reset/done")
	if strings.Contains(r.Header.Get("Location"), "-") || bytes.Contains(r.Body, []byte("-")) {
		t.Errorf("the answer to the reset carries more than the way on: %v %s", r.Header, r.Body)
	}
	done := c.Get("/password/reset/done")
	contains(t, done, "Successful!", "I have saved my new recovery code")
	wantRedirect(t, srv.Client(t).Get("/password/reset/done"), "/login") // no result: nothing to show
	for _, sc := range append(r.Header.Values("Set-Cookie"), done.Header.Values("Set-Cookie")...) {
		if strings.HasPrefix(sc, cookieName+"=") {
			t.Errorf("the reset signed someone in: %v", sc)
		}
	}
	fresh := regexp.MustCompile(`id="recovery-code">([^<]+)<`).FindSubmatch(done.Body)
	if fresh == nil || string(fresh[1]) == rc {
		t.Fatalf("no fresh recovery code on the page:\n%s", done.Body)
	}
	c2 := srv.Client(t)
	wantStatus(t, c2.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": newPassword}), http.StatusOK)
	wantStatus(t, c2.PostJSON("/api/v1/login/recovery-code", codeJSON(string(fresh[1]))), http.StatusOK)
	r = c.Get("/password/reset?token=" + url.QueryEscape(tok))
	wantStatus(t, r, http.StatusBadRequest)
}

// budgetFailures returns the failures left on the user's password and second-factor budgets.
func budgetFailures(t *testing.T, srv *testserver.Server, name string) (pw, second int) {
	t.Helper()
	p, s, err := srv.Auth.Budgets(t.Context(), userOf(t, srv, name))
	if err != nil {
		t.Fatal(err)
	}
	if p != nil {
		pw = p.Failures
	}
	if s != nil {
		second = s.Failures
	}
	return pw, second
}

// TestPasswordResetIgnoresThePasswordBudget: wrong sign-ins by whoever knows the username
// lock the password budget, and the owner still resets with the link and a right code; a
// refusal after a right code (the current password again) counts no second-factor failure.
func TestPasswordResetIgnoresThePasswordBudget(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: throttle.Policy{FreeAttempts: 3, FirstDelay: time.Minute, MaxDelay: time.Minute, MaxFailures: 3}})
	_, secret, _ := enrolled(t, srv, "alice")
	for range 3 {
		if st := loginWith(t, srv, "alice", "not the password at all"); st != http.StatusUnauthorized {
			t.Fatalf("wrong sign-in: %d, want 401", st)
		}
	}
	if st := loginWith(t, srv, "alice", testserver.Password); st != http.StatusTooManyRequests {
		t.Fatalf("sign-in after 3 failures: %d, want 429 (locked)", st)
	}
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	anon := srv.Client(t)
	for range 4 { // more than the budget allows: each refusal after a right code releases its slot
		srv.NextStep()
		wantProblem(t, reset(anon, tok, testserver.Password, srv.Code(secret, 0)), http.StatusBadRequest, "weak_password")
	}
	if _, second := budgetFailures(t, srv, "alice"); second != 0 {
		t.Errorf("refusals after a right code left %d second-factor failures, want 0", second)
	}
	srv.NextStep()
	wantStatus(t, reset(anon, tok, newPassword, srv.Code(secret, 0)), http.StatusOK)
	if pw, second := budgetFailures(t, srv, "alice"); pw != 0 || second != 0 {
		t.Errorf("after the reset: %d password and %d second-factor failures, want none", pw, second)
	}
}

// TestPasswordResetInParallelLeavesNoFailures submits one link with a right code 20 times
// at once, on SQLite and on PostgreSQL: one wins, the refused ones leave no failure on
// either budget, and the first sign-in with the new password goes through.
func TestPasswordResetInParallelLeavesNoFailures(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			o := testserver.Options{Throttle: manyAttempts}
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			_, secret, _ := enrolled(t, srv, "alice")
			tok := forgot(t, srv, "alice", "alice@example.com", true)
			srv.NextStep()
			code := srv.Code(secret, 0)
			resetInParallel(t, srv, map[string]string{"token": tok, "new_password": newPassword, "code": code})
			if pw, second := budgetFailures(t, srv, "alice"); pw != 0 || second != 0 {
				t.Errorf("the refused resets left %d password and %d second-factor failures, want none", pw, second)
			}
			if st := loginWith(t, srv, "alice", newPassword); st != http.StatusOK {
				t.Errorf("first sign-in with the new password: %d, want 200", st)
			}
		})
	}
}

// TestForgotPasswordHourlyLimitHoldsInParallel asks for a link for one account 20 times at
// once, on SQLite and on PostgreSQL: at most three links are mailed.
func TestForgotPasswordHourlyLimitHoldsInParallel(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			o := testserver.Options{MFARequiredForRole: noMFA}
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			srv.CreateUser(t, "bob", "bob@example.com", "user")
			results := make([]rawResult, 20)
			start := make(chan struct{})
			done := make(chan struct{})
			for i := range results {
				go func() {
					defer func() { done <- struct{}{} }()
					<-start
					results[i] = rawPostJSON(srv, srv.Client(t), "/api/v1/password/forgot", map[string]string{"login": "bob"})
				}()
			}
			close(start)
			for range results {
				<-done
			}
			for i, r := range results {
				if r.err != nil || r.status != http.StatusAccepted {
					t.Errorf("request %d: %v %d %s, want 202", i, r.err, r.status, r.body)
				}
			}
			if n := len(resetMails(t, srv, "bob@example.com")); n != auth.ResetLinksPerHour {
				t.Errorf("20 parallel requests mailed %d links, want %d", n, auth.ResetLinksPerHour)
			}
		})
	}
}

// TestPasswordResetCodeUsedBeforeTheNewPassword: the code step of the reset pages is done
// with an app code, then a sign-in uses a newer code before the new password is sent. The
// reset is refused (a code older than one accepted is spent), and the page goes back to the
// code step; so does the link's page in this browser afterwards: it no longer carries the
// spent proof into a new-password form that can only fail again.
func TestPasswordResetCodeUsedBeforeTheNewPassword(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, secret, _ := enrolled(t, srv, "alice")
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	page := "/password/reset?token=" + url.QueryEscape(tok)
	c := srv.Client(t)
	srv.NextStep()
	wantRedirect(t, postForm(c, "/password/reset/code", url.Values{"token": {tok}, "code": {srv.Code(secret, 0)}}), "/password/reset")
	proof := hiddenValue(c.Get(page), "proof")
	if proof == "" {
		t.Fatal("no proof after the code step")
	}
	signIn(t, srv, srv.Client(t), "alice", secret)

	r := postForm(c, "/password/reset", url.Values{"token": {tok}, "proof": {proof}, "new_password": {newPassword}, "confirm_password": {newPassword}})
	wantStatus(t, r, http.StatusUnauthorized)
	contains(t, r, `action="/password/reset/code"`, `id="code-error"`)
	if st := loginWith(t, srv, "alice", newPassword); st != http.StatusUnauthorized {
		t.Errorf("sign-in with the refused new password: %d, want 401", st)
	}
	again := c.Get(page)
	contains(t, again, `action="/password/reset/code"`)
	if strings.Contains(string(again.Body), `name="proof"`) {
		t.Errorf("the link's page still carries the spent proof:\n%s", again.Body)
	}
}

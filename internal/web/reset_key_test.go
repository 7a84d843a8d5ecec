package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/testutil/softkey"
	"github.com/twofold-id/twofold/internal/web"
)

// resetKeyOptions draws the challenge of the reset link tok for a key, failing the test
// unless the answer is 200.
func resetKeyOptions(t *testing.T, c *testserver.Client, tok string) []byte {
	t.Helper()
	r := c.PostJSON("/api/v1/password/reset/webauthn", map[string]string{"token": tok})
	wantStatus(t, r, http.StatusOK)
	return r.Body
}

// keyAnswer answers opts with key, failing the test when the authenticator refuses them.
func keyAnswer(t *testing.T, key *softkey.Authenticator, opts []byte) json.RawMessage {
	t.Helper()
	answer, err := key.Get(opts)
	if err != nil {
		t.Fatalf("the authenticator refused the request options: %v", err)
	}
	return answer
}

// resetWithKey posts a reset over the API with a key's answer instead of a code.
func resetWithKey(c *testserver.Client, tok, pw string, credential json.RawMessage) *testserver.Response {
	return c.PostJSON("/api/v1/password/reset", map[string]any{"token": tok, "new_password": pw, "credential": credential})
}

// auditDetail returns the detail of the user's newest audit event named event.
func auditDetail(t *testing.T, srv *testserver.Server, username, event string) string {
	t.Helper()
	list, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{UserID: userOf(t, srv, username).ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if e.Event == event {
			return e.Detail
		}
	}
	return ""
}

func challengeOf(t *testing.T, opts []byte) string {
	t.Helper()
	ch, err := softkey.Challenge(opts)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestPasswordResetWithAKey: the user whose only second factor is a passkey resets a
// forgotten password with the key (no recovery code spent), and then signs in with the new
// password and the key. The page offers the key, and the recovery code as the way out.
func TestPasswordResetWithAKey(t *testing.T) {
	srv := newServer(t)
	_, key, rc := keyUser(t, srv, "alice")
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	c := srv.Client(t)

	page := c.Get("/password/reset?token=" + url.QueryEscape(tok))
	wantStatus(t, page, http.StatusOK)
	contains(t, page, `data-webauthn="reset"`, `data-token="`+tok+`"`, "Use your security key", "Recovery code",
		"Lost your security key?", `action="/password/reset/code"`)
	if strings.Contains(string(page.Body), "authenticator app") {
		t.Error("the reset page of a key-only user asks for an authenticator app")
	}

	opts := resetKeyOptions(t, c, tok)
	var o struct {
		PublicKey struct {
			AllowCredentials []struct{ ID string } `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil || len(o.PublicKey.AllowCredentials) != 1 {
		t.Fatalf("request options: %s", opts)
	}
	r := resetWithKey(c, tok, newPassword, keyAnswer(t, key, opts))
	wantStatus(t, r, http.StatusOK)
	if a := decode[web.PasswordResetAnswer](t, r); a.RecoveryCode != "" {
		t.Errorf("a reset with the key handed out a recovery code: %+v", a)
	}
	if got := auditDetail(t, srv, "alice", audit.PasswordReset); !strings.Contains(got, "second factor: security key") {
		t.Errorf("audit detail of the reset: %q, want the key named", got)
	}

	wantProblem(t, resetWithKey(c, tok, newPassword+"!", keyAnswer(t, key, opts)), http.StatusBadRequest, "invalid_token")
	wantProblem(t, c.PostJSON("/api/v1/password/reset/webauthn", map[string]string{"token": tok}), http.StatusBadRequest, "invalid_token")
	if st := loginWith(t, srv, "alice", testserver.Password); st != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password: %d, want 401", st)
	}

	d := srv.Client(t)
	login := d.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": newPassword})
	wantStatus(t, login, http.StatusOK)
	wantStatus(t, d.FinishKey("/api/v1/login/webauthn/finish", "", keyAnswer(t, key, d.BeginKey("/api/v1/login/webauthn"))), http.StatusOK)
	if s := sessionOfClient(t, d); s.State != store.StateAuthenticated || !slices.Equal(s.AMR, []string{"pwd", "hwk", "user", "mfa"}) {
		t.Errorf("after the new password and the key: %+v", s)
	}
	// The recovery code was not needed, so it still works.
	e := srv.Client(t)
	wantStatus(t, e.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": newPassword}), http.StatusOK)
	wantStatus(t, e.PostJSON("/api/v1/login/recovery-code", codeJSON(rc)), http.StatusOK)
}

// TestPasswordResetKeyRefusals: a key's answer proves the reset only for the challenge
// drawn for that very link, once, from one of the account's keys, at our origin. Every
// refused answer counts as a second-factor failure; an unreadable one is a 400 and counts
// nothing; none of them uses up the link.
func TestPasswordResetKeyRefusals(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	sessionC, key, _ := keyUser(t, srv, "alice")
	_, bobKey, _ := keyUser(t, srv, "bob")
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	c := srv.Client(t)

	refused := func(t *testing.T, r *testserver.Response, code string) {
		t.Helper()
		wantProblem(t, r, http.StatusUnauthorized, code)
	}
	counts := func(t *testing.T, do func()) {
		t.Helper()
		_, before := budgetFailures(t, srv, "alice")
		do()
		if _, after := budgetFailures(t, srv, "alice"); after != before+1 {
			t.Errorf("second-factor failures went from %d to %d, want one more", before, after)
		}
	}

	t.Run("challenge_of_another_reset", func(t *testing.T) {
		bobTok := forgot(t, srv, "bob", "bob@example.com", true)
		bobOpts := resetKeyOptions(t, c, bobTok)
		answer := keyAnswer(t, bobKey, bobOpts)
		counts(t, func() { refused(t, resetWithKey(c, tok, newPassword, answer), "challenge_expired") })
		// Alice's challenge signed by her own key, handed in with bob's link.
		mine := keyAnswer(t, key, resetKeyOptions(t, c, tok))
		refused(t, resetWithKey(c, bobTok, newPassword, mine), "challenge_expired")
		// The refusals left bob's challenge alone: with his link it still works.
		wantStatus(t, resetWithKey(c, bobTok, newPassword, answer), http.StatusOK)
	})
	t.Run("challenge_of_a_sign_in", func(t *testing.T) {
		sessionOpts := sessionC.BeginKey("/api/v1/login/webauthn")
		counts(t, func() {
			refused(t, resetWithKey(c, tok, newPassword, keyAnswer(t, key, sessionOpts)), "challenge_expired")
		})
	})
	t.Run("challenge_reused", func(t *testing.T) {
		answer := keyAnswer(t, key, resetKeyOptions(t, c, tok))
		// The key is checked before the new password is compared with the current one:
		// that refusal comes after the challenge was used.
		wantProblem(t, resetWithKey(c, tok, testserver.Password, answer), http.StatusBadRequest, "weak_password")
		counts(t, func() { refused(t, resetWithKey(c, tok, newPassword, answer), "challenge_expired") })
		// On the pages too: the proof step uses the challenge up.
		answer = keyAnswer(t, key, resetKeyOptions(t, c, tok))
		wantStatus(t, c.PostJSON("/password/reset/key", map[string]any{"token": tok, "credential": answer}), http.StatusOK)
		refused(t, c.PostJSON("/password/reset/key", map[string]any{"token": tok, "credential": answer}), "challenge_expired")
	})
	t.Run("other_users_key", func(t *testing.T) {
		ch := challengeOf(t, resetKeyOptions(t, c, tok))
		counts(t, func() {
			refused(t, resetWithKey(c, tok, newPassword, bobKey.GetWith(ch, bobKey.Creds[0])), "key_not_registered")
		})
	})
	t.Run("wrong_origin", func(t *testing.T) {
		evil := *key
		evil.Origin = "http://localhost.evil.example"
		counts(t, func() {
			refused(t, resetWithKey(c, tok, newPassword, keyAnswer(t, &evil, resetKeyOptions(t, c, tok))), "wrong_origin")
		})
	})
	t.Run("wrong_rp_id", func(t *testing.T) {
		evil := *key
		evil.RPID = "evil.example"
		counts(t, func() {
			refused(t, resetWithKey(c, tok, newPassword, keyAnswer(t, &evil, resetKeyOptions(t, c, tok))), "wrong_origin")
		})
	})
	t.Run("malformed_input_is_a_400_and_no_failure", func(t *testing.T) {
		_, before := budgetFailures(t, srv, "alice")
		for _, tc := range []struct {
			name string
			path string
			body any
			code string
		}{
			{"credential_a_string", "/api/v1/password/reset", map[string]any{"token": tok, "new_password": newPassword, "credential": "abc"}, "bad_request"},
			{"credential_empty_object", "/api/v1/password/reset", map[string]any{"token": tok, "new_password": newPassword, "credential": map[string]any{}}, "bad_request"},
			{"credential_broken", "/api/v1/password/reset", map[string]any{"token": tok, "new_password": newPassword,
				"credential": map[string]any{"id": "x", "rawId": "!!", "type": "public-key", "response": map[string]any{"clientDataJSON": "%%"}}}, "bad_request"},
			{"code_and_credential", "/api/v1/password/reset", map[string]any{"token": tok, "new_password": newPassword, "code": "123456",
				"credential": json.RawMessage(keyAnswer(t, key, resetKeyOptions(t, c, tok)))}, "bad_request"},
			{"begin_without_token", "/api/v1/password/reset/webauthn", map[string]any{}, "invalid_token"},
			{"begin_token_not_text", "/api/v1/password/reset/webauthn", map[string]any{"token": 5}, "bad_request"},
			{"begin_not_json", "/api/v1/password/reset/webauthn", "{", "bad_request"},
			{"begin_unknown_token", "/api/v1/password/reset/webauthn", map[string]any{"token": "nope"}, "invalid_token"},
			{"page_without_credential", "/password/reset/key", map[string]any{"token": tok}, "bad_request"},
			{"page_credential_a_number", "/password/reset/key", map[string]any{"token": tok, "credential": 7}, "bad_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantProblem(t, c.PostJSON(tc.path, tc.body), http.StatusBadRequest, tc.code)
			})
		}
		wantStatus(t, postForm(c, "/password/reset/key", url.Values{"token": {tok}}), http.StatusBadRequest)
		if _, after := budgetFailures(t, srv, "alice"); after != before {
			t.Errorf("unreadable answers changed the second-factor failures from %d to %d", before, after)
		}
	})
	t.Run("account_without_a_key", func(t *testing.T) {
		enrolled(t, srv, "carol")
		carolTok := forgot(t, srv, "carol", "carol@example.com", true)
		wantProblem(t, c.PostJSON("/api/v1/password/reset/webauthn", map[string]string{"token": carolTok}), http.StatusNotFound, "not_found")
	})
	t.Run("the_link_still_works_and_then_is_used", func(t *testing.T) {
		answer := keyAnswer(t, key, resetKeyOptions(t, c, tok))
		wantStatus(t, resetWithKey(c, tok, newPassword, answer), http.StatusOK)
		if _, second := budgetFailures(t, srv, "alice"); second != 0 {
			t.Errorf("after the reset: %d second-factor failures, want none", second)
		}
		wantProblem(t, c.PostJSON("/api/v1/password/reset/webauthn", map[string]string{"token": tok}), http.StatusBadRequest, "invalid_token")
		wantProblem(t, c.PostJSON("/password/reset/key", map[string]any{"token": tok, "credential": answer}), http.StatusBadRequest, "invalid_token")
	})
}

// TestPasswordResetKeyFailuresSpendTheBudget: refused key answers lock the reset as wrong
// codes do, and the lock holds for codes and keys alike.
func TestPasswordResetKeyFailuresSpendTheBudget(t *testing.T) {
	srv := newServer(t) // the production throttle
	_, key, rc := keyUser(t, srv, "alice")
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	c := srv.Client(t)
	evil := *key
	evil.Origin = "http://localhost.evil.example"
	throttled := false
	for range 30 {
		r := resetWithKey(c, tok, newPassword, keyAnswer(t, &evil, resetKeyOptions(t, c, tok)))
		if r.Status == http.StatusTooManyRequests {
			throttled = true
			break
		}
		wantProblem(t, r, http.StatusUnauthorized, "wrong_origin")
	}
	if !throttled {
		t.Fatal("30 refused key answers were never throttled")
	}
	wantProblem(t, reset(c, tok, newPassword, rc), http.StatusTooManyRequests, "throttled")
}

// TestPasswordResetKeyPages walks the pages as webauthn.js does: the link's page offers the
// key, the key's answer goes to the page route, which keeps the proof in the result cookie
// and names the link's page, now at the new-password step.
func TestPasswordResetKeyPages(t *testing.T) {
	srv := newServer(t)
	_, key, _ := keyUser(t, srv, "alice")
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	c := srv.Client(t)
	r := c.PostJSON("/password/reset/key", map[string]any{"token": tok, "credential": keyAnswer(t, key, resetKeyOptions(t, c, tok))})
	wantStatus(t, r, http.StatusOK)
	next := decode[web.KeyNext](t, r).Next
	if next != "/password/reset?token="+url.QueryEscape(tok) {
		t.Fatalf("next = %q", next)
	}
	if other := srv.Client(t).Get(next); strings.Contains(string(other.Body), `name="proof"`) {
		t.Fatal("another browser opening the link skips the key step")
	}
	page := c.Get(next)
	contains(t, page, "Choose a new password", `action="/password/reset"`)
	proof := hiddenValue(page, "proof")
	if proof == "" {
		t.Fatalf("no proof on the new-password step:\n%s", page.Body)
	}
	r = postForm(c, "/password/reset", url.Values{"token": {tok}, "proof": {proof}, "new_password": {newPassword}, "confirm_password": {newPassword}})
	wantRedirect(t, r, "/password/reset/done")
	done := c.Get("/password/reset/done")
	contains(t, done, "Successful!")
	if strings.Contains(string(done.Body), `id="recovery-code"`) {
		t.Error("a reset with the key shows a new recovery code")
	}
	if st := loginWith(t, srv, "alice", newPassword); st != http.StatusOK {
		t.Errorf("sign-in with the new password: %d", st)
	}
}

// TestPasswordResetRefusesAKeyRemovedAfterItsStep: the key step of the reset pages is done
// with one of two keys, then that key is removed from a signed-in session before the new
// password is sent. The reset is refused (the password stays), and the page says what
// happened and goes back to the key step, in this browser's next visits too: the proof of
// the removed key is dropped, and the link still works with the other key.
func TestPasswordResetRefusesAKeyRemovedAfterItsStep(t *testing.T) {
	srv := newServer(t)
	_, key, _ := keyUser(t, srv, "alice")
	owner := srv.Client(t)
	wantStatus(t, owner.PasskeySignIn(key), http.StatusOK)
	spare := srv.NewKey()
	r, _ := owner.RegisterKey(spare, "Spare")
	wantStatus(t, r, http.StatusCreated)
	var removed string
	for _, k := range decode[web.MFAFactors](t, owner.Get("/api/v1/account/mfa")).WebAuthn {
		if k.Name != "Spare" {
			removed = k.ID
		}
	}
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	page := "/password/reset?token=" + url.QueryEscape(tok)
	c := srv.Client(t)
	wantStatus(t, c.PostJSON("/password/reset/key", map[string]any{"token": tok, "credential": keyAnswer(t, key, resetKeyOptions(t, c, tok))}),
		http.StatusOK)
	proof := hiddenValue(c.Get(page), "proof")
	if proof == "" {
		t.Fatal("no proof after the key step")
	}
	wantStatus(t, owner.Do(http.MethodDelete, "/api/v1/account/mfa/webauthn/"+removed, "", nil), http.StatusNoContent)

	r = postForm(c, "/password/reset", url.Values{"token": {tok}, "proof": {proof}, "new_password": {newPassword}, "confirm_password": {newPassword}})
	wantStatus(t, r, http.StatusUnauthorized)
	contains(t, r, "has since been removed from the account", "your password was not changed", `data-webauthn="reset"`)
	if strings.Contains(string(r.Body), `name="proof"`) || strings.Contains(string(r.Body), `name="new_password"`) {
		t.Errorf("the refusal stays at the new-password step with the removed key's proof:\n%s", r.Body)
	}
	if st := loginWith(t, srv, "alice", newPassword); st != http.StatusUnauthorized {
		t.Errorf("sign-in with the refused new password: %d, want 401", st)
	}
	if got := auditDetail(t, srv, "alice", audit.PasswordReset); got != "" {
		t.Errorf("a reset was recorded: %q", got)
	}
	// The link's page in this browser is at the key step again, not the new-password step.
	again := c.Get(page)
	contains(t, again, `data-webauthn="reset"`)
	if strings.Contains(string(again.Body), `name="proof"`) {
		t.Errorf("the link's page still carries the removed key's proof:\n%s", again.Body)
	}
	// The other key proves the reset through the same link.
	wantStatus(t, c.PostJSON("/password/reset/key", map[string]any{"token": tok, "credential": keyAnswer(t, spare, resetKeyOptions(t, c, tok))}),
		http.StatusOK)
	proof = hiddenValue(c.Get(page), "proof")
	wantRedirect(t, postForm(c, "/password/reset", url.Values{"token": {tok}, "proof": {proof}, "new_password": {newPassword}, "confirm_password": {newPassword}}),
		"/password/reset/done")
	if st := loginWith(t, srv, "alice", newPassword); st != http.StatusOK {
		t.Errorf("sign-in with the new password: %d", st)
	}
}

// TestPasswordResetWithKeyOneOfTwentyWins hands one key answer in 20 times at once, on
// SQLite and on PostgreSQL: the challenge answers once, so exactly one reset succeeds.
func TestPasswordResetWithKeyOneOfTwentyWins(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			o := testserver.Options{Throttle: manyAttempts}
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			_, key, _ := keyUser(t, srv, "alice")
			tok := forgot(t, srv, "alice", "alice@example.com", true)
			answer := keyAnswer(t, key, resetKeyOptions(t, srv.Client(t), tok))
			body := map[string]any{"token": tok, "new_password": newPassword, "credential": answer}
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
				case r.status == http.StatusBadRequest && strings.Contains(string(r.body), `"invalid_token"`):
				case r.status == http.StatusUnauthorized && strings.Contains(string(r.body), `"challenge_expired"`):
				default:
					t.Errorf("submission %d: %d %s, want 200, 400 invalid_token or 401 challenge_expired", i, r.status, r.body)
				}
			}
			if wins != 1 {
				t.Errorf("%d of 20 parallel resets succeeded, want exactly 1", wins)
			}
		})
	}
}

// TestPasswordResetUnderTheKeyPolicy: under mfa.phishing_resistant, a user who has a key
// proves a reset as a sign-in: the key, or the recovery code when it is lost; an app code
// is refused with security_key_required before it is checked (no failure counted).
func TestPasswordResetUnderTheKeyPolicy(t *testing.T) {
	srv := keyPolicyServer(t)
	_, secret, rc := enrolledAdmin(t, srv, "ada")
	srv.AddKeyRecord(t, "ada", "YubiKey")
	tok := forgot(t, srv, "ada", "ada@example.com", true)
	c := srv.Client(t)
	page := c.Get("/password/reset?token=" + url.QueryEscape(tok))
	contains(t, page, `data-webauthn="reset"`, "Recovery code")
	if strings.Contains(string(page.Body), "authenticator app") {
		t.Error("the reset page offers the app to a user the policy holds to a key")
	}
	srv.NextStep()
	r := reset(c, tok, newPassword, srv.Code(secret, 0))
	wantProblem(t, r, http.StatusForbidden, "security_key_required")
	if _, second := budgetFailures(t, srv, "ada"); second != 0 {
		t.Errorf("the refused app code counted %d failures, want none", second)
	}
	wantProblem(t, reset(c, tok, newPassword, ""), http.StatusUnauthorized, "invalid_code")
	r = postForm(c, "/password/reset/code", url.Values{"token": {tok}, "code": {srv.Code(secret, 0)}})
	wantStatus(t, r, http.StatusForbidden)
	r = reset(c, tok, newPassword, rc)
	wantStatus(t, r, http.StatusOK)
	if a := decode[web.PasswordResetAnswer](t, r); a.RecoveryCode == "" {
		t.Error("the reset with the recovery code handed out no fresh one")
	}
}

// TestPasswordResetProofThatExpiredSaysWhichStep: the proof of the second factor carries
// over to the new-password step for auth.ResetProofTTL. Past it the password stays, and
// the page goes back to the second-factor step saying what expired and what to do next, in
// each language: after the key step, to use the key again (or the recovery code); after
// the code step, to enter a new code.
func TestPasswordResetProofThatExpiredSaysWhichStep(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, key, _ := keyUser(t, srv, "carol")
	_, secret, _ := enrolled(t, srv, "bob")
	proofAfter := func(c *testserver.Client, tok string, step func()) string {
		t.Helper()
		step()
		proof := hiddenValue(c.Get("/password/reset?token="+url.QueryEscape(tok)), "proof")
		if proof == "" {
			t.Fatal("no proof after the second-factor step")
		}
		return proof
	}
	keyMsg := map[string]string{
		"en": "The check of your security key has expired, so your password was not changed. Use your security key again, or enter your recovery code.",
		"de": "Die Prüfung Ihres Sicherheitsschlüssels ist abgelaufen, daher wurde Ihr Passwort nicht geändert. Verwenden Sie Ihren Sicherheitsschlüssel erneut",
		"fr": "La vérification de votre clé de sécurité a expiré : votre mot de passe n’a donc pas été changé. Utilisez de nouveau votre clé de sécurité",
	}
	codeMsg := map[string]string{
		"en": "The check of your code has expired. Enter a new code from your authenticator app, or your recovery code.",
		"de": "Die Prüfung Ihres Codes ist abgelaufen.",
		"fr": "La vérification de votre code a expiré.",
	}
	kc, keyTok := srv.Client(t), forgot(t, srv, "carol", "carol@example.com", true)
	keyProof := proofAfter(kc, keyTok, func() {
		wantStatus(t, kc.PostJSON("/password/reset/key", map[string]any{"token": keyTok, "credential": keyAnswer(t, key, resetKeyOptions(t, kc, keyTok))}),
			http.StatusOK)
	})
	cc, codeTok := srv.Client(t), forgot(t, srv, "bob", "bob@example.com", true)
	codeProof := proofAfter(cc, codeTok, func() {
		srv.NextStep()
		wantRedirect(t, postForm(cc, "/password/reset/code", url.Values{"token": {codeTok}, "code": {srv.Code(secret, 0)}}), "/password/reset")
	})
	srv.Clock.Advance(auth.ResetProofTTL)

	for _, tc := range []struct {
		name, user string
		c          *testserver.Client
		tok, proof string
		want, not  map[string]string
		step       string // what the page asks for again
	}{
		{"key", "carol", kc, keyTok, keyProof, keyMsg, codeMsg, `data-webauthn="reset"`},
		{"code", "bob", cc, codeTok, codeProof, codeMsg, keyMsg, `action="/password/reset/code"`},
	} {
		for _, lang := range []string{"en", "de", "fr"} {
			t.Run(tc.name+"/"+lang, func(t *testing.T) {
				form := url.Values{"token": {tc.tok}, "proof": {tc.proof}, "new_password": {newPassword}, "confirm_password": {newPassword}}
				r := rawDo(srv, tc.c, http.MethodPost, "/password/reset", "application/x-www-form-urlencoded", []byte(form.Encode()),
					http.Header{"Accept-Language": {lang}})
				body := html.UnescapeString(string(r.body))
				if r.status != http.StatusUnauthorized || !strings.Contains(body, tc.want[lang]) || strings.Contains(body, tc.not[lang]) {
					t.Errorf("%d, want 401 saying %q:\n%s", r.status, tc.want[lang], body)
				}
				if !strings.Contains(body, tc.step) || strings.Contains(body, `name="new_password"`) {
					t.Errorf("the page does not go back to the second-factor step (%s):\n%s", tc.step, body)
				}
			})
		}
		if st := loginWith(t, srv, tc.user, newPassword); st != http.StatusUnauthorized {
			t.Errorf("%s signs in with the refused new password: %d, want 401", tc.user, st)
		}
	}
}

// TestPasswordResetKeyStepWithoutKeys: a key's answer handed in with the reset link of an
// account that has no key gets the same refusal from the page's key step as from the API:
// 400 for an answer that cannot be read (spending nothing), 404 key_none for one that can.
func TestPasswordResetKeyStepWithoutKeys(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, bobKey, _ := keyUser(t, srv, "bob")
	enrolled(t, srv, "carol")
	tok := forgot(t, srv, "carol", "carol@example.com", true)
	bobTok := forgot(t, srv, "bob", "bob@example.com", true)
	c := srv.Client(t)
	for _, tc := range []struct {
		name       string
		credential json.RawMessage
		status     int
		code       string
	}{
		{"unreadable", json.RawMessage(`{"id":"x","rawId":"x","type":"public-key","response":{}}`), http.StatusBadRequest, "bad_request"},
		{"another account's key", keyAnswer(t, bobKey, resetKeyOptions(t, c, bobTok)), http.StatusNotFound, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, resetWithKey(c, tok, newPassword, tc.credential), tc.status, tc.code)
			wantProblem(t, c.PostJSON("/password/reset/key", map[string]any{"token": tok, "credential": tc.credential}), tc.status, tc.code)
		})
	}
}

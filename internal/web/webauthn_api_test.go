package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil/softkey"
	"github.com/twofold-id/twofold/internal/web"
)

// keyUser creates username and enrolls a passkey of a new software authenticator in the
// forced enrollment; it returns the client (signed in, amr pwd), the authenticator and
// the recovery code.
func keyUser(t *testing.T, srv *testserver.Server, username string) (*testserver.Client, *softkey.Authenticator, string) {
	t.Helper()
	srv.CreateUser(t, username, username+"@example.com", "user")
	c := srv.Client(t)
	key := srv.NewKey()
	rc := srv.EnrollKey(t, c, username, key)
	if rc == "" {
		t.Fatal("the first key came without a recovery code")
	}
	return c, key, rc
}

func sessionOfClient(t *testing.T, c *testserver.Client) web.SessionAnswer {
	t.Helper()
	r := c.Get("/api/v1/session")
	wantStatus(t, r, http.StatusOK)
	return decode[web.SessionAnswer](t, r)
}

func TestWebAuthnFlows(t *testing.T) {
	srv := newServer(t)
	c, key, _ := keyUser(t, srv, "alice")

	t.Run("enrollment_with_a_key_signs_in_with_the_password_amr", func(t *testing.T) {
		s := sessionOfClient(t, c)
		if s.State != store.StateAuthenticated || !slices.Equal(s.AMR, []string{"pwd"}) || s.MFA.WebAuthn != 1 || s.MFA.TOTP {
			t.Errorf("after enrolling a key: %+v", s)
		}
		f := decode[web.MFAFactors](t, c.Get("/api/v1/account/mfa"))
		if f.TOTP || !f.RecoveryCode || len(f.WebAuthn) != 1 || !f.WebAuthn[0].Passkey || f.WebAuthn[0].Name != "Passkey" ||
			f.WebAuthn[0].LastUsedAt != nil {
			t.Errorf("factors: %+v", f)
		}
	})

	t.Run("password_then_key", func(t *testing.T) {
		d := srv.Client(t)
		r := d.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": testserver.Password})
		if m := decode[web.LoginAnswer](t, r).Methods; !slices.Equal(m, []string{"webauthn", "recovery_code"}) {
			t.Errorf("methods = %v, want webauthn first", m)
		}
		opts := d.BeginKey("/api/v1/login/webauthn")
		var o struct {
			PublicKey struct {
				AllowCredentials []struct{ ID string } `json:"allowCredentials"`
				RPID             string                `json:"rpId"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal(opts, &o); err != nil || len(o.PublicKey.AllowCredentials) != 1 || o.PublicKey.RPID != "localhost" {
			t.Fatalf("request options: %s", opts)
		}
		answer, err := key.Get(opts)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, d.FinishKey("/api/v1/login/webauthn/finish", "", answer), http.StatusOK)
		if s := sessionOfClient(t, d); s.State != store.StateAuthenticated || !slices.Equal(s.AMR, []string{"pwd", "hwk", "user", "mfa"}) {
			t.Errorf("after the key: %+v", s)
		}
	})

	t.Run("password_then_key_without_user_verification", func(t *testing.T) {
		key.UV = false
		defer func() { key.UV = true }()
		d := srv.Client(t)
		wantStatus(t, d.KeySignIn("alice", key), http.StatusOK)
		if s := sessionOfClient(t, d); !slices.Equal(s.AMR, []string{"pwd", "hwk", "mfa"}) {
			t.Errorf("amr = %v, want pwd hwk mfa", s.AMR)
		}
	})

	t.Run("passkey_alone", func(t *testing.T) {
		d := srv.Client(t)
		opts := d.BeginKey("/api/v1/login/passkey")
		var o struct {
			PublicKey struct {
				AllowCredentials []any  `json:"allowCredentials"`
				UserVerification string `json:"userVerification"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal(opts, &o); err != nil || len(o.PublicKey.AllowCredentials) != 0 || o.PublicKey.UserVerification != "required" {
			t.Fatalf("passkey options: %s", opts)
		}
		answer, err := key.Get(opts)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, d.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusOK)
		if s := sessionOfClient(t, d); s.State != store.StateAuthenticated || s.User.Username != "alice" ||
			!slices.Equal(s.AMR, []string{"hwk", "user", "mfa"}) {
			t.Errorf("after the passkey: %+v", s)
		}
		f := decode[web.MFAFactors](t, d.Get("/api/v1/account/mfa"))
		if f.WebAuthn[0].LastUsedAt == nil {
			t.Error("last_used_at stays null after a sign-in")
		}
	})

	t.Run("step_up_in_a_signed_in_session", func(t *testing.T) {
		d := srv.Client(t)
		wantStatus(t, d.PostJSON("/api/v1/login/recovery-code", nil), http.StatusUnauthorized)
		wantStatus(t, d.PasskeySignIn(key), http.StatusOK)
		srv.Clock.Advance(11 * time.Minute)
		// The proof is old: adding a key needs a fresh one.
		wantProblem(t, d.PostJSON("/api/v1/account/mfa/webauthn/register", nil), http.StatusForbidden, "reauthentication_required")
		opts := d.BeginKey("/api/v1/login/webauthn")
		answer, err := key.Get(opts)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, d.FinishKey("/api/v1/login/webauthn/finish", "", answer), http.StatusOK)
		r, _ := d.RegisterKey(srv.NewKey(), "Second key")
		wantStatus(t, r, http.StatusCreated)
		if added := decode[web.KeyAdded](t, r); added.RecoveryCode != "" || added.Name != "Second key" {
			t.Errorf("a second key: %+v (no recovery code expected)", added)
		}
	})
}

func TestWebAuthnRefusals(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
	_, key, _ := keyUser(t, srv, "alice")
	_, bobKey, _ := keyUser(t, srv, "bob")

	// mfaSession signs a new client in with the password and draws a second-factor challenge.
	mfaSession := func(t *testing.T) (*testserver.Client, []byte) {
		t.Helper()
		d := srv.Client(t)
		d.Login("alice", "mfa_required")
		return d, d.BeginKey("/api/v1/login/webauthn")
	}
	challenge := func(t *testing.T, opts []byte) string {
		t.Helper()
		ch, err := softkey.Challenge(opts)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	finish := func(d *testserver.Client, answer []byte) *testserver.Response {
		return d.FinishKey("/api/v1/login/webauthn/finish", "", answer)
	}
	// refused wants the answer refused with code: the reason a person can act on, or
	// invalid_credential when there is none.
	refused := func(t *testing.T, r *testserver.Response, code string) {
		t.Helper()
		wantProblem(t, r, http.StatusUnauthorized, code)
	}

	t.Run("wrong_origin", func(t *testing.T) {
		d, opts := mfaSession(t)
		evil := *key
		evil.Origin = "http://localhost.evil.example"
		answer, _ := evil.Get(opts)
		refused(t, finish(d, answer), "wrong_origin")
	})
	t.Run("wrong_rp_id_hash", func(t *testing.T) {
		d, opts := mfaSession(t)
		evil := *key
		evil.RPID = "evil.example"
		answer, _ := evil.Get(opts)
		refused(t, finish(d, answer), "wrong_origin")
	})
	t.Run("registration_answer_at_sign_in", func(t *testing.T) {
		d, opts := mfaSession(t)
		evil := *key
		evil.Type = "webauthn.create"
		answer, _ := evil.Get(opts)
		refused(t, finish(d, answer), "invalid_credential")
	})
	t.Run("challenge_reused", func(t *testing.T) {
		d, opts := mfaSession(t)
		answer, _ := key.Get(opts)
		wantStatus(t, finish(d, answer), http.StatusOK)
		e, opts2 := mfaSession(t)
		_ = opts2
		refused(t, finish(e, answer), "challenge_expired") // another session: not its challenge, and used anyway
		again := key.GetWith(challenge(t, opts), key.Creds[0])
		refused(t, finish(e, again), "challenge_expired")
	})
	t.Run("challenge_of_another_session", func(t *testing.T) {
		_, opts := mfaSession(t)
		e, _ := mfaSession(t)
		answer, _ := key.Get(opts)
		refused(t, finish(e, answer), "challenge_expired")
	})
	t.Run("challenge_expired", func(t *testing.T) {
		d, opts := mfaSession(t)
		srv.Clock.Advance(auth5m + time.Second)
		answer, _ := key.Get(opts)
		// The partial session lives 10 minutes: it is still there, the challenge is not.
		refused(t, finish(d, answer), "challenge_expired")
	})
	t.Run("another_users_credential", func(t *testing.T) {
		d, opts := mfaSession(t)
		answer := bobKey.GetWith(challenge(t, opts), bobKey.Creds[0])
		refused(t, finish(d, answer), "key_not_registered")
	})
	t.Run("counter_regression", func(t *testing.T) {
		d, opts := mfaSession(t)
		cred := key.Creds[0]
		answer := key.Sign(challenge(t, opts), cred, 1) // at most the last accepted counter
		refused(t, finish(d, answer), "key_counter_regressed")
		events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(events, func(e store.AuditEvent) bool {
			return e.Event == audit.WebAuthnCounterRegressed && strings.Contains(e.Detail, "possible cloned key")
		}) {
			t.Error("no webauthn.counter_regressed audit event")
		}
	})
	t.Run("no_counter_is_accepted_while_it_stays_zero", func(t *testing.T) {
		s2 := testserver.New(t, testserver.Options{})
		s2.CreateUser(t, "zed", "zed@example.com", "user")
		k := s2.NewKey()
		d := s2.Client(t)
		s2.EnrollKey(t, d, "zed", k)
		k.Creds[0].NoCounter = true
		for range 2 {
			wantStatus(t, s2.Client(t).KeySignIn("zed", k), http.StatusOK)
		}
	})
	t.Run("malformed_json_and_cbor", func(t *testing.T) {
		d, opts := mfaSession(t)
		for _, body := range []string{`{`, `[]`, `{"credential": "x"}`, `{"credential": {}}`,
			`{"credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AA"}}}`,
			`{"credential": {"id": "!!", "rawId": "!!", "type": "public-key", "response": {}}}`} {
			r := d.PostJSON("/api/v1/login/webauthn/finish", body)
			if r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", body, r.Status, r.Body)
			}
		}
		// The challenge survives unreadable answers: the right one still works.
		answer, _ := key.Get(opts)
		wantStatus(t, finish(d, answer), http.StatusOK)
	})
	t.Run("passkey_without_user_verification", func(t *testing.T) {
		d := srv.Client(t)
		opts := d.BeginKey("/api/v1/login/passkey")
		lazy := *key
		lazy.UV = false
		answer, _ := lazy.Get(opts)
		refused(t, d.FinishKey("/api/v1/login/passkey/finish", "", answer), "user_verification_required")
		wantStatus(t, d.Get("/api/v1/session"), http.StatusUnauthorized)
	})
	t.Run("passkey_challenge_of_another_browser", func(t *testing.T) {
		d, e := srv.Client(t), srv.Client(t)
		opts := d.BeginKey("/api/v1/login/passkey")
		e.BeginKey("/api/v1/login/passkey")
		answer, _ := key.Get(opts)
		refused(t, e.FinishKey("/api/v1/login/passkey/finish", "", answer), "challenge_expired")
		// Another browser's answer does not touch the challenge: its own browser finishes.
		wantStatus(t, d.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusOK)
	})
	t.Run("passkey_challenges_of_one_browser_all_stay_answerable", func(t *testing.T) {
		// Two passkey offers in one browser: the sign-in page's autofill and its button, or
		// two tabs. Each begin answers with a pre-session cookie, and when the second's
		// answer is stored first (they run in parallel), the first's cookie is stored last:
		// neither challenge may depend on which answer the browser stored last.
		d, u := srv.Client(t), mustURL(t, srv.URL)
		d.BeginKey("/api/v1/login/passkey")
		cookieOfFirst := d.HTTP.Jar.Cookies(u)
		second := d.BeginKey("/api/v1/login/passkey")
		d.HTTP.Jar.SetCookies(u, cookieOfFirst)
		answer, _ := key.Get(second)
		wantStatus(t, d.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusOK)
		// Two tabs, answered in the first: its challenge was not replaced by the second's.
		e := srv.Client(t)
		first := e.BeginKey("/api/v1/login/passkey")
		e.BeginKey("/api/v1/login/passkey")
		answer, _ = key.Get(first)
		wantStatus(t, e.FinishKey("/api/v1/login/passkey/finish", "", answer), http.StatusOK)
	})
	t.Run("passkey_of_nobody", func(t *testing.T) {
		d := srv.Client(t)
		opts := d.BeginKey("/api/v1/login/passkey")
		stranger := srv.NewKey()
		stranger.Creds = append(stranger.Creds, &softkey.Credential{ID: []byte("nobody-registered-this"), Key: key.Creds[0].Key,
			RPID: "localhost", UserHandle: []byte("x"), Resident: true})
		answer, _ := stranger.Get(opts)
		refused(t, d.FinishKey("/api/v1/login/passkey/finish", "", answer), "key_not_registered")
	})
	t.Run("passkey_of_nobody_says_nothing_of_the_account_it_names", func(t *testing.T) {
		// An unknown key is unknown whoever its user handle names: an account that exists
		// (alice's), or none.
		alice := mustUser(t, srv, "alice")
		var bodies []string
		for _, handle := range []string{alice.ID, "00000000-0000-0000-0000-000000000000"} {
			d := srv.Client(t)
			opts := d.BeginKey("/api/v1/login/passkey")
			stranger := srv.NewKey()
			stranger.Creds = append(stranger.Creds, &softkey.Credential{ID: []byte("unknown-" + handle), Key: key.Creds[0].Key,
				RPID: "localhost", UserHandle: []byte(handle), Resident: true})
			answer, _ := stranger.Get(opts)
			r := d.FinishKey("/api/v1/login/passkey/finish", "", answer)
			refused(t, r, "key_not_registered")
			bodies = append(bodies, string(r.Body))
		}
		if bodies[0] != bodies[1] {
			t.Errorf("an unknown key naming an account is answered\n%s\nand naming none\n%s", bodies[0], bodies[1])
		}
	})
	t.Run("credential_removed_meanwhile", func(t *testing.T) {
		s2 := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
		s2.CreateUser(t, "carol", "carol@example.com", "user")
		k := s2.NewKey()
		owner := s2.Client(t)
		owner.Login("carol", "authenticated")
		r, _ := owner.RegisterKey(k, "")
		wantStatus(t, r, http.StatusCreated)
		d := s2.Client(t)
		d.Login("carol", "mfa_required")
		answer, _ := k.Get(d.BeginKey("/api/v1/login/webauthn"))
		p := s2.Client(t)
		passkeyAnswer, _ := k.Get(p.BeginKey("/api/v1/login/passkey"))
		// carol removes it from a signed-in session (within 10 minutes of a key proof).
		wantStatus(t, owner.PasskeySignIn(k), http.StatusOK)
		keys := decode[web.MFAFactors](t, owner.Get("/api/v1/account/mfa")).WebAuthn
		wantStatus(t, owner.Do(http.MethodDelete, "/api/v1/account/mfa/webauthn/"+keys[0].ID, "", nil), http.StatusNoContent)
		// The password session waiting for its key ended with the removal; the passkey
		// sign-in finds no such key any more.
		wantProblem(t, finish(d, answer), http.StatusUnauthorized, "unauthenticated")
		refused(t, p.FinishKey("/api/v1/login/passkey/finish", "", passkeyAnswer), "key_not_registered")
	})
	t.Run("registering_the_same_key_twice", func(t *testing.T) {
		d := srv.Client(t)
		wantStatus(t, d.PasskeySignIn(key), http.StatusOK)
		opts := d.BeginKey("/api/v1/account/mfa/webauthn/register")
		if _, _, err := key.Create(opts); !errors.Is(err, softkey.ErrExcluded) {
			t.Fatalf("the key was not excluded: %v", err)
		}
		// An authenticator that ignores excludeCredentials is refused by the server.
		answer := key.CreateWith(challenge(t, opts), key.Creds[0])
		wantProblem(t, d.FinishKey("/api/v1/account/mfa/webauthn/register/finish", "", answer), http.StatusBadRequest, "key_already_registered")
	})
	t.Run("registration_refusals", func(t *testing.T) {
		d := srv.Client(t)
		wantStatus(t, d.PasskeySignIn(key), http.StatusOK)
		for _, tc := range []struct {
			name, code string
			tamper     func(a *softkey.Authenticator)
		}{
			{"wrong_origin", "wrong_origin", func(a *softkey.Authenticator) { a.Origin = "https://evil.example" }},
			{"wrong_rp_id", "wrong_origin", func(a *softkey.Authenticator) { a.RPID = "evil.example" }},
			{"no_presence", "invalid_credential", func(a *softkey.Authenticator) { a.NoUP = true }},
			{"sign_in_typed", "invalid_credential", func(a *softkey.Authenticator) { a.Type = "webauthn.get" }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				k := srv.NewKey()
				tc.tamper(k)
				r, _ := d.RegisterKey(k, "")
				wantProblem(t, r, http.StatusBadRequest, tc.code)
			})
		}
		r := d.PostJSON("/api/v1/account/mfa/webauthn/register/finish", `{"credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "attestationObject": "oWNmbXQ"}}}`)
		wantProblem(t, r, http.StatusBadRequest, "bad_request")
		// A name too long is refused before the challenge is spent: the same answer of the
		// key, sent again with a name that fits, is taken (no second touch of the key).
		k := srv.NewKey()
		answer, _, err := k.Create(d.BeginKey("/api/v1/account/mfa/webauthn/register"))
		if err != nil {
			t.Fatal(err)
		}
		const finishPath = "/api/v1/account/mfa/webauthn/register/finish"
		wantProblem(t, d.FinishKey(finishPath, strings.Repeat("x", 65), answer), http.StatusBadRequest, "bad_request")
		wantStatus(t, d.FinishKey(finishPath, "A name that fits", answer), http.StatusCreated)
	})
}

// auth5m is the challenge lifetime.
const auth5m = 5 * time.Minute

func TestWebAuthnRemove(t *testing.T) {
	srv := newServer(t)
	c, key, _ := keyUser(t, srv, "alice")

	// The enrollment session proved nothing: removing needs a proof.
	keys := decode[web.MFAFactors](t, c.Get("/api/v1/account/mfa")).WebAuthn
	wantProblem(t, c.Do(http.MethodDelete, "/api/v1/account/mfa/webauthn/"+keys[0].ID, "", nil), http.StatusForbidden, "reauthentication_required")

	d := srv.Client(t)
	wantStatus(t, d.PasskeySignIn(key), http.StatusOK)
	wantProblem(t, d.Do(http.MethodDelete, "/api/v1/account/mfa/webauthn/"+keys[0].ID, "", nil), http.StatusConflict, "last_factor")
	wantProblem(t, d.Do(http.MethodDelete, "/api/v1/account/mfa/webauthn/no-such-key", "", nil), http.StatusNotFound, "not_found")

	second := srv.NewKey()
	r, _ := d.RegisterKey(second, "Spare")
	wantStatus(t, r, http.StatusCreated)
	// Adding a key ended every other session, the enrollment one included.
	wantStatus(t, c.Get("/api/v1/session"), http.StatusUnauthorized)
	wantStatus(t, d.Do(http.MethodDelete, "/api/v1/account/mfa/webauthn/"+keys[0].ID, "", nil), http.StatusNoContent)
	f := decode[web.MFAFactors](t, d.Get("/api/v1/account/mfa"))
	if len(f.WebAuthn) != 1 || f.WebAuthn[0].Name != "Spare" {
		t.Errorf("after removing the first key: %+v", f.WebAuthn)
	}
	// The removed key no longer signs in.
	wantProblem(t, srv.Client(t).PasskeySignIn(key), http.StatusUnauthorized, "key_not_registered")
	wantStatus(t, srv.Client(t).PasskeySignIn(second), http.StatusOK)
	mails := srv.Mail(t)
	if !slices.ContainsFunc(mails, func(m *mailtest.Parsed) bool { return m.Subject == "A security key or passkey was removed" }) ||
		!slices.ContainsFunc(mails, func(m *mailtest.Parsed) bool { return m.Subject == "A security key or passkey was added" }) {
		t.Errorf("no added/removed notices among %d mails", len(mails))
	}
}

func TestPasskeysTurnedOff(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) { c.WebAuthn.Passwordless = false }})
	d := srv.Client(t)
	wantProblem(t, d.PostJSON("/api/v1/login/passkey", nil), http.StatusNotFound, "not_found")
	wantProblem(t, d.PostJSON("/api/v1/login/passkey/finish", `{"credential": {}}`), http.StatusNotFound, "not_found")
}

// TestWebAuthnOneWinner: 20 parallel finishes of one assertion (a second-factor one, and a
// passkey one), split over two instances on one database, SQLite file or PostgreSQL:
// exactly one wins.
func TestWebAuthnOneWinner(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			same := func(c *config.Config) { c.WebAuthn.RPOrigins = []string{"http://localhost"} }
			a, b := testserver.Instances(t, db, testserver.Options{Throttle: manyAttempts, Config: same})
			oneWinnerOf20(t, a, b)
		})
	}
}

func oneWinnerOf20(t *testing.T, a, b *testserver.Server) {
	t.Helper()
	a.CreateUser(t, "alice", "alice@example.com", "user")
	key := a.NewKey()
	a.EnrollKey(t, a.Client(t), "alice", key)

	burst := func(t *testing.T, c *testserver.Client, path string, answer []byte) {
		t.Helper()
		const n = 20
		var (
			wg         sync.WaitGroup
			mu         sync.Mutex
			wins       int
			unexpected []string
		)
		start := make(chan struct{})
		for i := range n {
			cl := c.On([]*testserver.Server{a, b}[i%2])
			wg.Go(func() {
				<-start
				r := cl.FinishKey(path, "", answer)
				mu.Lock()
				defer mu.Unlock()
				switch r.Status {
				case http.StatusOK:
					wins++
				case http.StatusUnauthorized:
				default:
					unexpected = append(unexpected, string(r.Body))
				}
			})
		}
		close(start)
		wg.Wait()
		if len(unexpected) > 0 {
			t.Fatalf("%d answers neither 200 nor 401, first: %s", len(unexpected), unexpected[0])
		}
		if wins != 1 {
			t.Fatalf("%d of %d parallel finishes of one assertion won, want exactly 1", wins, n)
		}
	}
	t.Run("second_factor", func(t *testing.T) {
		c := a.Client(t)
		c.Login("alice", "mfa_required")
		answer, err := key.Get(c.BeginKey("/api/v1/login/webauthn"))
		if err != nil {
			t.Fatal(err)
		}
		burst(t, c, "/api/v1/login/webauthn/finish", answer)
	})
	t.Run("passkey", func(t *testing.T) {
		c := a.Client(t)
		answer, err := key.Get(c.BeginKey("/api/v1/login/passkey"))
		if err != nil {
			t.Fatal(err)
		}
		burst(t, c, "/api/v1/login/passkey/finish", answer)
	})
}

// TestSupportResetRemovesKeys: the case page lists the user's keys, the support reset
// removes every one (and names what it removed), and the keys no longer sign in.
func TestSupportResetRemovesKeys(t *testing.T) {
	srv := newServer(t)
	_, key, _ := keyUser(t, srv, "alice")
	sam, secret := supEnrolled(t, srv, "sam", "support")
	signIn(t, srv, sam, "sam", secret)
	ref := supOpen(t, srv, "alice@example.com")
	c := supGetCase(t, sam, ref)
	if len(c.Accounts) != 1 || !slices.Equal(c.Accounts[0].MFA.SecurityKeys, []string{"Passkey"}) {
		t.Fatalf("case accounts: %+v", c.Accounts)
	}
	alice := mustUser(t, srv, "alice")
	res, err := srv.Support.ResetAtConsole(t.Context(), alice, "lost every device", ref, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Removed, []string{"passkey \u201cPasskey\u201d", "recovery code"}) {
		t.Errorf("removed = %q", res.Removed)
	}
	if n, _ := srv.Store.CountWebAuthnCredentials(t.Context(), alice.ID); n != 0 {
		t.Errorf("%d keys left after the reset", n)
	}
	wantProblem(t, srv.Client(t).PasskeySignIn(key), http.StatusUnauthorized, "key_not_registered")
	srv.Client(t).Login("alice", "enrollment_required")
}

// TestPasswordResetOfAKeyUser: a key is a second factor for the forgotten-password reset
// too: the link alone never sets a password; the recovery code does; a key keeps working
// after the reset (a password change keeps keys).
func TestPasswordResetOfAKeyUser(t *testing.T) {
	srv := newServer(t)
	_, key, rc := keyUser(t, srv, "alice")
	tok := forgot(t, srv, "alice", "alice@example.com", true)
	c := srv.Client(t)
	const pw = "a brand new passphrase 42"
	wantProblem(t, reset(c, tok, pw, ""), http.StatusUnauthorized, "invalid_code")
	wantProblem(t, reset(c, tok, pw, "123456"), http.StatusUnauthorized, "invalid_code")
	r := reset(c, tok, pw, rc)
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		t.Fatalf("reset with the recovery code: %d %s", r.Status, r.Body)
	}
	if got := loginWith(t, srv, "alice", pw); got != http.StatusOK {
		t.Fatalf("sign-in with the new password: %d", got)
	}
	wantStatus(t, srv.Client(t).PasskeySignIn(key), http.StatusOK)
}

package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// recoveryCodeShape is how a recovery code is shown: 5 groups of 5 Crockford characters.
var recoveryCodeShape = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$`)

func TestLogin(t *testing.T) {
	t.Parallel()

	t.Run("accepts the username or e-mail in any case and width", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		for _, tc := range []struct{ name, login string }{
			{"by_username", "alice"},
			{"by_e-mail", "alice@example.com"},
			{"username_in_capitals", "ALICE"},
			{"fullwidth_username_is_NFKC_normalised", "ａｌｉｃｅ"},
			{"e-mail_in_mixed_case", "Alice@Example.COM"},
			{"surrounding_spaces_are_ignored", "  alice "},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := srv.Client(t)
				c.Login(tc.login, "enrollment_required")
				r := c.Get("/api/v1/session")
				wantStatus(t, r, http.StatusOK)
				if u := decode[web.SessionAnswer](t, r).User; u.Username != "alice" {
					t.Fatalf("signed in as %v, want alice", u.Username)
				}
			})
		}
	})

	t.Run("unknown user, wrong password and disabled account get the same answer", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		srv.CreateUser(t, "carol", "carol@example.com", "user")
		disable(t, srv, "carol")
		cases := []struct{ name, username, password string }{
			{"unknown_user", "mallory", testserver.Password},
			{"unknown_e-mail", "mallory@example.com", testserver.Password},
			{"wrong_password", "alice", testserver.Password + "x"},
			{"wrong_password_by_e-mail", "alice@example.com", "Tr0ub4dor&3 horse"},
			{"disabled_account", "carol", testserver.Password},
			{"disabled_account_by_e-mail", "carol@example.com", testserver.Password},
		}
		var first []byte
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := srv.Client(t)
				r := c.PostJSON("/api/v1/login", map[string]string{"username": tc.username, "password": tc.password})
				wantProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
				if first == nil {
					first = r.Body
				} else if !bytes.Equal(r.Body, first) {
					t.Fatalf("body differs from %s's:\n%s\n%s", cases[0].name, r.Body, first)
				}
				if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
					t.Fatalf("a refused sign-in set a cookie: %v", sc)
				}
				if got := sessionState(t, c); got != "" {
					t.Fatalf("a refused sign-in opened a %s session", got)
				}
			})
		}
	})

	for _, tc := range []struct {
		name        string
		opts        testserver.Options
		enroll      bool
		wantState   string
		wantMethods []string
		wantAMR     []string
	}{
		{
			name:        "enrollment_required when MFA is required and none is set up",
			wantState:   "enrollment_required",
			wantMethods: []string{"totp_enrollment", "webauthn_enrollment"},
			wantAMR:     []string{"pwd"},
		},
		{
			name:        "mfa_required after enrollment",
			enroll:      true,
			wantState:   "mfa_required",
			wantMethods: []string{"totp", "recovery_code"},
			wantAMR:     []string{"pwd"},
		},
		{
			name:        "authenticated when the policy requires no MFA",
			opts:        testserver.Options{MFARequiredForRole: noMFA},
			wantState:   "authenticated",
			wantMethods: []string{},
			wantAMR:     []string{"pwd"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.New(t, tc.opts)
			if tc.enroll {
				enrolled(t, srv, "alice")
			} else {
				srv.CreateUser(t, "alice", "alice@example.com", "user")
			}
			c := srv.Client(t)
			r := c.PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": testserver.Password})
			wantStatus(t, r, http.StatusOK)
			got := decode[web.LoginAnswer](t, r)
			if got.State != tc.wantState || !slices.Equal(got.Methods, tc.wantMethods) || got.Methods == nil {
				t.Fatalf("got %s, want state %s methods %q", r.Body, tc.wantState, tc.wantMethods)
			}
			s := c.Get("/api/v1/session")
			wantStatus(t, s, http.StatusOK)
			if amr := strings.Join(decode[web.SessionAnswer](t, s).AMR, " "); amr != strings.Join(tc.wantAMR, " ") {
				t.Fatalf("amr %q, want %q", amr, tc.wantAMR)
			}
		})
	}

	t.Run("a new session token at every step up, the old one dead", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)

		c.Login("alice", "enrollment_required")
		pwToken := sessionToken(t, srv, c)
		r := c.PostJSON("/api/v1/account/mfa/totp", nil)
		wantStatus(t, r, http.StatusCreated)
		secret := testserver.DecodeSecret(t, decode[web.TOTPSetup](t, r).Secret)
		if got := sessionToken(t, srv, c); got != pwToken {
			t.Fatal("starting the setup changed the token; only a step up should")
		}
		wantStatus(t, c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(secret, 0))), http.StatusOK)
		enrolledToken := sessionToken(t, srv, c)

		srv.NextStep()
		c2 := srv.Client(t)
		c2.Login("alice", "mfa_required")
		mfaToken := sessionToken(t, srv, c2)
		wantStatus(t, c2.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), http.StatusOK)
		codeToken := sessionToken(t, srv, c2)

		for _, tok := range []string{pwToken, enrolledToken, mfaToken, codeToken} {
			if tok == "" {
				t.Fatal("a step left no session cookie")
			}
		}
		if pwToken == enrolledToken || mfaToken == codeToken {
			t.Fatal("the token did not change at the step up")
		}
		for name, tok := range map[string]string{"enrollment": pwToken, "password": mfaToken} {
			if got := sessionState(t, clientWithToken(t, srv, tok)); got != "" {
				t.Errorf("the %s-step token still works: state %s", name, got)
			}
		}
		for _, tok := range []string{enrolledToken, codeToken} {
			if got := sessionState(t, clientWithToken(t, srv, tok)); got != "authenticated" {
				t.Errorf("the stepped-up token gives state %q, want authenticated", got)
			}
		}
	})
}

func TestLoginTOTP(t *testing.T) {
	t.Parallel()

	t.Run("one step of clock skew either way", func(t *testing.T) {
		srv := newServer(t)
		for i, tc := range []struct {
			name   string
			offset int64
			want   int
		}{
			{"previous_code_T-1_is_accepted", -1, http.StatusOK},
			{"current_code_T_is_accepted", 0, http.StatusOK},
			{"next_code_T+1_is_accepted", +1, http.StatusOK},
			{"code_two_steps_old_T-2_is_refused", -2, http.StatusUnauthorized},
			{"code_two_steps_ahead_T+2_is_refused", +2, http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// A user of its own, so no earlier accepted step hides the skew rule.
				name := fmt.Sprintf("user%d", i)
				_, secret, _ := enrolled(t, srv, name)
				// Three steps past the confirming code: T-2 was never used.
				srv.NextStep()
				srv.NextStep()
				c := srv.Client(t)
				c.Login(name, "mfa_required")
				r := c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, tc.offset)))
				if tc.want == http.StatusOK {
					wantStatus(t, r, http.StatusOK)
					if got := decode[web.StepAnswer](t, r).State; got != "authenticated" {
						t.Fatalf("state %v, want authenticated", got)
					}
					return
				}
				wantProblem(t, r, tc.want, "invalid_code")
				if got := sessionState(t, c); got != "mfa_required" {
					t.Fatalf("after a refused code the session is %q, want mfa_required", got)
				}
			})
		}
	})

	t.Run("replayed code is refused with the same body as a wrong code", func(t *testing.T) {
		srv := newServer(t)
		_, secret, _ := enrolled(t, srv, "alice")
		signIn(t, srv, srv.Client(t), "alice", secret)
		used := srv.Code(secret, 0)

		c := srv.Client(t)
		c.Login("alice", "mfa_required")
		replayed := c.PostJSON("/api/v1/login/totp", codeJSON(used))
		wantProblem(t, replayed, http.StatusUnauthorized, "invalid_code")
		wrong := c.PostJSON("/api/v1/login/totp", codeJSON(wrongCode(srv, secret)))
		wantProblem(t, wrong, http.StatusUnauthorized, "invalid_code")
		if !bytes.Equal(replayed.Body, wrong.Body) {
			t.Fatalf("replayed and wrong code differ:\n%s\n%s", replayed.Body, wrong.Body)
		}
		if got := sessionState(t, c); got != "mfa_required" {
			t.Fatalf("session %q, want mfa_required", got)
		}
	})

	t.Run("code older than the last accepted one is refused", func(t *testing.T) {
		srv := newServer(t)
		_, secret, _ := enrolled(t, srv, "alice")
		srv.NextStep()
		c := srv.Client(t)
		c.Login("alice", "mfa_required")
		wantStatus(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, +1))), http.StatusOK)

		for _, offset := range []int64{0, -1} {
			c := srv.Client(t)
			c.Login("alice", "mfa_required")
			wantProblem(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, offset))), http.StatusUnauthorized, "invalid_code")
		}
	})

	t.Run("confirming code of the enrollment counts as used", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		c.Login("alice", "enrollment_required")
		r := c.PostJSON("/api/v1/account/mfa/totp", nil)
		wantStatus(t, r, http.StatusCreated)
		secret := testserver.DecodeSecret(t, decode[web.TOTPSetup](t, r).Secret)
		confirming := srv.Code(secret, 0)
		wantStatus(t, c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(confirming)), http.StatusOK)

		c2 := srv.Client(t)
		c2.Login("alice", "mfa_required")
		wantProblem(t, c2.PostJSON("/api/v1/login/totp", codeJSON(confirming)), http.StatusUnauthorized, "invalid_code")
		srv.NextStep()
		wantStatus(t, c2.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), http.StatusOK)
	})

	t.Run("of 20 parallel submissions of one code exactly one wins", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
		_, secret, _ := enrolled(t, srv, "alice")
		srv.NextStep()
		clients := make([]*testserver.Client, 20)
		for i := range clients {
			clients[i] = srv.Client(t)
			clients[i].Login("alice", "mfa_required")
		}
		results := parallel(srv, clients, "/api/v1/login/totp", codeJSON(srv.Code(secret, 0)))
		won := exactlyOneWins(t, results)
		for i, c := range clients {
			want := "mfa_required"
			if i == won {
				want = "authenticated"
			}
			if got := sessionState(t, c); got != want {
				t.Errorf("session %d is %q, want %s", i, got, want)
			}
		}
	})
}

// parallel posts body to path from every client at once.
func parallel(srv *testserver.Server, clients []*testserver.Client, path string, body any) []rawResult {
	results := make([]rawResult, len(clients))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			results[i] = rawPostJSON(srv, c, path, body)
		})
	}
	close(start)
	wg.Wait()
	return results
}

// exactlyOneWins checks that one result is a 200 and every other a 401 invalid_code, and
// returns the winner's index.
func exactlyOneWins(t *testing.T, results []rawResult) int {
	t.Helper()
	won, refused := -1, 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
		switch r.status {
		case http.StatusOK:
			if won >= 0 {
				t.Errorf("requests %d and %d both won", won, i)
			}
			won = i
		case http.StatusUnauthorized:
			var p struct{ Code string }
			if err := json.Unmarshal(r.body, &p); err != nil || p.Code != "invalid_code" {
				t.Errorf("request %d: %s, want invalid_code", i, r.body)
			}
			refused++
		default:
			t.Errorf("request %d: %d %s", i, r.status, r.body)
		}
	}
	if won < 0 || refused != len(results)-1 {
		t.Fatalf("%d won, %d refused of %d; want exactly one winner", boolInt(won >= 0), refused, len(results))
	}
	return won
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// useRecoveryCode signs username in with code and returns the fresh code.
func useRecoveryCode(t *testing.T, srv *testserver.Server, username, code string) string {
	t.Helper()
	c := srv.Client(t)
	c.Login(username, "mfa_required")
	r := c.PostJSON("/api/v1/login/recovery-code", codeJSON(code))
	wantStatus(t, r, http.StatusOK)
	body := decode[web.StepAnswer](t, r)
	fresh := body.RecoveryCode
	if body.State != "authenticated" || !recoveryCodeShape.MatchString(fresh) {
		t.Fatalf("answer %s, want state authenticated and a fresh code", r.Body)
	}
	if fresh == code {
		t.Fatal("the fresh recovery code is the used one")
	}
	if got := sessionState(t, c); got != "authenticated" {
		t.Fatalf("session %q after the recovery code, want authenticated", got)
	}
	return fresh
}

// recoveryCodeRefused checks that code does not sign username in.
func recoveryCodeRefused(t *testing.T, srv *testserver.Server, username, code string) {
	t.Helper()
	c := srv.Client(t)
	c.Login(username, "mfa_required")
	wantProblem(t, c.PostJSON("/api/v1/login/recovery-code", codeJSON(code)), http.StatusUnauthorized, "invalid_code")
	if got := sessionState(t, c); got != "mfa_required" {
		t.Fatalf("session %q after a refused recovery code, want mfa_required", got)
	}
}

func TestLoginRecoveryCode(t *testing.T) {
	t.Parallel()

	t.Run("works once and the fresh code works next time", func(t *testing.T) {
		srv := newServer(t)
		_, _, rc := enrolled(t, srv, "alice")
		if !recoveryCodeShape.MatchString(rc) {
			t.Fatalf("recovery code %q is not in groups", rc)
		}
		fresh := useRecoveryCode(t, srv, "alice", rc)
		recoveryCodeRefused(t, srv, "alice", rc)
		useRecoveryCode(t, srv, "alice", fresh)
	})

	t.Run("input is case-insensitive with or without dashes", func(t *testing.T) {
		srv := newServer(t)
		_, _, rc := enrolled(t, srv, "alice")
		for _, tc := range []struct {
			name string
			typo func(string) string
		}{
			{"lower_case", strings.ToLower},
			{"without_dashes", func(s string) string { return strings.ReplaceAll(s, "-", "") }},
			{"lower_case_without_dashes", func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "")) }},
			{"spaces_instead_of_dashes", func(s string) string { return strings.ReplaceAll(s, "-", " ") }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rc = useRecoveryCode(t, srv, "alice", tc.typo(rc))
			})
		}
	})

	t.Run("wrong and malformed codes are refused", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
		_, _, rc := enrolled(t, srv, "alice")
		for _, code := range []string{"AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "not a code", rc[:len(rc)-1], rc + "X", "123456"} {
			recoveryCodeRefused(t, srv, "alice", code)
		}
		useRecoveryCode(t, srv, "alice", rc)
	})

	t.Run("of 30 parallel submissions of one code exactly one wins", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{Throttle: manyAttempts})
		_, _, rc := enrolled(t, srv, "alice")
		clients := make([]*testserver.Client, 30)
		for i := range clients {
			clients[i] = srv.Client(t)
			clients[i].Login("alice", "mfa_required")
		}
		results := parallel(srv, clients, "/api/v1/login/recovery-code", codeJSON(rc))
		won := exactlyOneWins(t, results)
		var body struct {
			RecoveryCode string `json:"recovery_code"`
		}
		if err := json.Unmarshal(results[won].body, &body); err != nil || !recoveryCodeShape.MatchString(body.RecoveryCode) {
			t.Fatalf("winner's answer %s has no fresh code", results[won].body)
		}
		recoveryCodeRefused(t, srv, "alice", rc)
		useRecoveryCode(t, srv, "alice", body.RecoveryCode)
	})
}

func TestPartialSessions(t *testing.T) {
	t.Parallel()

	accountCalls := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/account/mfa/recovery-code", codeJSON("123456")},
		{http.MethodPost, "/api/v1/account/password", map[string]string{"current_password": testserver.Password, "new_password": "a brand new passphrase 42"}},
		{http.MethodGet, "/api/v1/account/sessions", nil},
		{http.MethodPost, "/api/v1/account/sessions/sign-out-others", nil},
	}
	enrollmentCalls := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/account/mfa/totp", nil},
		{http.MethodPost, "/api/v1/account/mfa/totp/confirm", codeJSON("123456")},
	}
	loginCalls := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/login/totp", codeJSON("123456")},
		{http.MethodPost, "/api/v1/login/recovery-code", codeJSON("AAAAA-AAAAA-AAAAA-AAAAA-AAAAA")},
	}
	call := func(c *testserver.Client, method, path string, body any) *testserver.Response {
		if method == http.MethodGet {
			return c.Get(path)
		}
		return c.PostJSON(path, body)
	}

	for _, state := range []string{"mfa_required", "enrollment_required"} {
		t.Run(state+" gets 401 on everything but finishing the sign-in", func(t *testing.T) {
			srv := newServer(t)
			c := srv.Client(t)
			if state == "mfa_required" {
				enrolled(t, srv, "alice")
			} else {
				srv.CreateUser(t, "alice", "alice@example.com", "user")
			}
			c.Login("alice", state)
			calls := slices.Concat(accountCalls, enrollmentCalls)
			if state == "enrollment_required" {
				// Enrollment is the only way on: no code step without an authenticator.
				calls = slices.Concat(accountCalls, loginCalls)
			}
			for _, tc := range calls {
				t.Run(strings.TrimPrefix(tc.path, "/api/v1/"), func(t *testing.T) {
					wantProblem(t, call(c, tc.method, tc.path, tc.body), http.StatusUnauthorized, "unauthenticated")
					if got := sessionState(t, c); got != state {
						t.Fatalf("session %q after the refusal, want %s", got, state)
					}
				})
			}
		})
	}

	t.Run("enrollment_required may set up the authenticator", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		c.Login("alice", "enrollment_required")
		r := c.PostJSON("/api/v1/account/mfa/totp", nil)
		wantStatus(t, r, http.StatusCreated)
		secret := testserver.DecodeSecret(t, decode[web.TOTPSetup](t, r).Secret)
		r = c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(secret, 0)))
		wantStatus(t, r, http.StatusOK)
		if rc := decode[web.StepAnswer](t, r).RecoveryCode; !recoveryCodeShape.MatchString(rc) {
			t.Fatalf("confirm gave no recovery code: %s", r.Body)
		}
		s := decode[web.SessionAnswer](t, c.Get("/api/v1/session"))
		if s.State != "authenticated" || strings.Join(s.AMR, " ") != "pwd" {
			t.Fatalf("after enrollment: %+v, want authenticated with amr pwd (enrolling is not an MFA sign-in)", s)
		}
	})

	t.Run("enrollment_required left over after enrollment elsewhere cannot see or confirm a replacement", func(t *testing.T) {
		// Someone with only the password signs in before the user sets up the app; the
		// user then sets it up and starts replacing it. The stale session must not
		// learn the new key nor become authenticated with it.
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		stale := srv.Client(t)
		stale.Login("alice", "enrollment_required")
		user := srv.Client(t)
		secret, _ := srv.Enroll(t, user, "alice")
		r := user.PostJSON("/api/v1/account/mfa/totp", codeJSON(srv.Code(secret, 0)))
		wantStatus(t, r, http.StatusCreated)
		pending := decode[web.TOTPSetup](t, r).Secret

		if page := stale.Get("/mfa/setup"); strings.Contains(string(page.Body), pending) {
			t.Fatalf("the stale enrollment session sees the pending key (%d)", page.Status)
		}
		srv.NextStep()
		r = stale.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(testserver.DecodeSecret(t, pending), 0)))
		wantProblem(t, r, http.StatusUnauthorized, "unauthenticated")
		if got := sessionState(t, stale); got == "authenticated" {
			t.Fatal("the stale enrollment session became authenticated without the user's authenticator")
		}
	})

	for _, state := range []string{"mfa_required", "enrollment_required"} {
		t.Run(state+" expires after 10 minutes", func(t *testing.T) {
			srv := newServer(t)
			if state == "mfa_required" {
				enrolled(t, srv, "alice")
			} else {
				srv.CreateUser(t, "alice", "alice@example.com", "user")
			}
			c := srv.Client(t)
			c.Login("alice", state)
			srv.Clock.Advance(10*time.Minute - time.Second)
			if got := sessionState(t, c); got != state {
				t.Fatalf("at 9m59s the session is %q, want %s", got, state)
			}
			srv.Clock.Advance(2 * time.Second)
			if got := sessionState(t, c); got != "" {
				t.Fatalf("at 10m01s the session is %q, want it gone", got)
			}
			wantProblem(t, c.PostJSON("/api/v1/login/totp", codeJSON("123456")), http.StatusUnauthorized, "unauthenticated")
		})
	}

	t.Run("pending secret expires after 10 minutes", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			opts testserver.Options
			// state of the session that confirms
			state string
		}{
			{"during_enrollment", testserver.Options{}, "enrollment_required"},
			{"when_signed_in", testserver.Options{MFARequiredForRole: noMFA}, "authenticated"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				srv := testserver.New(t, tc.opts)
				srv.CreateUser(t, "alice", "alice@example.com", "user")
				c := srv.Client(t)
				c.Login("alice", tc.state)
				r := c.PostJSON("/api/v1/account/mfa/totp", nil)
				wantStatus(t, r, http.StatusCreated)
				secret := testserver.DecodeSecret(t, decode[web.TOTPSetup](t, r).Secret)

				// The pending secret belongs to the user: a second, younger session outlives it.
				srv.Clock.Advance(9 * time.Minute)
				c2 := srv.Client(t)
				c2.Login("alice", tc.state)
				srv.Clock.Advance(time.Minute + time.Second)
				if got := sessionState(t, c2); got != tc.state {
					t.Fatalf("confirming session is %q, want %s", got, tc.state)
				}
				r = c2.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(secret, 0)))
				wantProblem(t, r, http.StatusConflict, "no_pending_enrollment")
			})
		}
	})
}

func TestAuthenticatedSessionLifetime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts testserver.Options
	}{
		{"after_the_code", testserver.Options{}},
		{"password_only_without_MFA", testserver.Options{MFARequiredForRole: noMFA}},
	} {
		signedIn := func(t *testing.T) (*testserver.Server, *testserver.Client) {
			t.Helper()
			srv := testserver.New(t, tc.opts)
			c := srv.Client(t)
			if tc.opts.MFARequiredForRole == nil {
				_, secret, _ := enrolled(t, srv, "alice")
				signIn(t, srv, c, "alice", secret)
			} else {
				srv.CreateUser(t, "alice", "alice@example.com", "user")
				c.Login("alice", "authenticated")
			}
			return srv, c
		}

		t.Run("idle_timeout_of_one_hour/"+tc.name, func(t *testing.T) {
			srv, c := signedIn(t)
			srv.Clock.Advance(time.Hour - time.Second)
			if got := sessionState(t, c); got != "authenticated" {
				t.Fatalf("after 59m59s idle: %q, want authenticated", got)
			}
			srv.Clock.Advance(time.Hour + time.Second)
			if got := sessionState(t, c); got != "" {
				t.Fatalf("after 1h01s idle: %q, want the session gone", got)
			}
		})

		t.Run("absolute_lifetime_of_12_hours/"+tc.name, func(t *testing.T) {
			srv, c := signedIn(t)
			for elapsed := time.Duration(0); elapsed < 11*time.Hour+55*time.Minute; elapsed += 55 * time.Minute {
				srv.Clock.Advance(55 * time.Minute)
				if got := sessionState(t, c); got != "authenticated" {
					t.Fatalf("active after %v: %q, want authenticated", elapsed+55*time.Minute, got)
				}
			}
			srv.Clock.Advance(4 * time.Minute) // 11h59m
			if got := sessionState(t, c); got != "authenticated" {
				t.Fatalf("at 11h59m: %q, want authenticated", got)
			}
			srv.Clock.Advance(time.Minute + time.Second)
			if got := sessionState(t, c); got != "" {
				t.Fatalf("at 12h00m01s: %q, want the session gone", got)
			}
		})
	}
}

func TestReplaceAuthenticator(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, oldSecret, _ := enrolled(t, srv, "alice")
	used := srv.Code(oldSecret, -1) // the code of the sign-in
	// A sign-in more than 10 minutes old: within them no code would be needed.
	srv.Clock.Advance(10*time.Minute + time.Second)

	for _, tc := range []struct {
		name string
		body any
	}{
		{"without_a_code_is_refused", nil},
		{"with_an_empty_code_is_refused", codeJSON("")},
		{"with_a_wrong_code_is_refused", codeJSON(wrongCode(srv, oldSecret))},
		{"with_the_already_used_code_is_refused", codeJSON(used)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", tc.body), http.StatusForbidden, "reauthentication_required")
		})
	}

	var newSecret []byte
	t.Run("with_the_current_code_starts_a_new_setup", func(t *testing.T) {
		r := c.PostJSON("/api/v1/account/mfa/totp", codeJSON(srv.Code(oldSecret, 0)))
		wantStatus(t, r, http.StatusCreated)
		var setup struct {
			Secret     string `json:"secret"`
			OTPAuthURI string `json:"otpauth_uri"`
			QRPNG      string `json:"qr_png"`
		}
		if err := json.Unmarshal(r.Body, &setup); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(setup.OTPAuthURI, "otpauth://totp/") || !strings.Contains(setup.OTPAuthURI, "secret="+setup.Secret) {
			t.Errorf("otpauth_uri %q does not carry the secret %q", setup.OTPAuthURI, setup.Secret)
		}
		png, err := base64.StdEncoding.DecodeString(setup.QRPNG)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("qr_png is not a base64 PNG (%v)", err)
		}
		newSecret = testserver.DecodeSecret(t, setup.Secret)
		if bytes.Equal(newSecret, oldSecret) {
			t.Fatal("the new secret is the old one")
		}
	})
	if newSecret == nil {
		t.FailNow()
	}

	t.Run("old_authenticator_works_until_the_new_one_is_confirmed", func(t *testing.T) {
		signIn(t, srv, srv.Client(t), "alice", oldSecret)
	})

	t.Run("confirming_with_the_new_secret_replaces_the_old_one", func(t *testing.T) {
		srv.NextStep()
		r := c.PostJSON("/api/v1/account/mfa/totp/confirm", codeJSON(srv.Code(newSecret, 0)))
		wantStatus(t, r, http.StatusOK)
		srv.NextStep()
		c2 := srv.Client(t)
		c2.Login("alice", "mfa_required")
		wantProblem(t, c2.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(oldSecret, 0))), http.StatusUnauthorized, "invalid_code")
		wantStatus(t, c2.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(newSecret, 0))), http.StatusOK)
		s := c.Get("/api/v1/session")
		wantStatus(t, s, http.StatusOK)
		if mfa := decode[web.SessionAnswer](t, s).MFA; !mfa.TOTP {
			t.Fatalf("session shows mfa %+v, want totp true", mfa)
		}
	})
}

func TestNewRecoveryCode(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	c, secret, oldCode := enrolled(t, srv, "alice")

	t.Run("wrong_code_is_refused", func(t *testing.T) {
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/recovery-code", codeJSON(wrongCode(srv, secret))), http.StatusUnauthorized, "invalid_code")
	})
	t.Run("already_used_code_is_refused", func(t *testing.T) {
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/recovery-code", codeJSON(srv.Code(secret, -1))), http.StatusUnauthorized, "invalid_code")
	})
	t.Run("missing_code_without_a_recent_proof_is_refused", func(t *testing.T) {
		srv.Clock.Advance(11 * time.Minute)
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/recovery-code", nil), http.StatusForbidden, "reauthentication_required")
	})

	t.Run("current_code_gives_a_new_recovery_code_and_the_old_one_dies", func(t *testing.T) {
		r := c.PostJSON("/api/v1/account/mfa/recovery-code", codeJSON(srv.Code(secret, 0)))
		wantStatus(t, r, http.StatusOK)
		newCode := decode[web.RecoveryCode](t, r).RecoveryCode
		if !recoveryCodeShape.MatchString(newCode) || newCode == oldCode {
			t.Fatalf("new recovery code %q (old %q)", newCode, oldCode)
		}
		recoveryCodeRefused(t, srv, "alice", oldCode)
		useRecoveryCode(t, srv, "alice", newCode)
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	const newPassword = "violet submarine orchestra 58"
	srv := newServer(t)
	c, secret, _ := enrolled(t, srv, "alice")
	other := srv.Client(t)
	signIn(t, srv, other, "alice", secret)
	partial := srv.Client(t)
	partial.Login("alice", "mfa_required")

	change := func(current, next string) *testserver.Response {
		return c.PostJSON("/api/v1/account/password", map[string]string{"current_password": current, "new_password": next})
	}
	login := func(password string) *testserver.Response {
		return srv.Client(t).PostJSON("/api/v1/login", map[string]string{"username": "alice", "password": password})
	}

	for _, tc := range []struct {
		name, current, next string
		status              int
		code                string
	}{
		{"wrong_current_password_is_refused", testserver.Password + "!", newPassword, http.StatusUnauthorized, "invalid_credentials"},
		{"common_password_is_weak", testserver.Password, "password1234", http.StatusBadRequest, "weak_password"},
		{"password_containing_the_username_is_weak", testserver.Password, "Quartz-ALICE-zebra-71x", http.StatusBadRequest, "weak_password"},
		{"short_password_is_weak", testserver.Password, "x7#Qp", http.StatusBadRequest, "weak_password"},
		{"empty_new_password_is_refused", testserver.Password, "", http.StatusBadRequest, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := change(tc.current, tc.next)
			wantProblem(t, r, tc.status, tc.code)
			if got := sessionState(t, other); got != "authenticated" {
				t.Fatalf("a refused change ended the other session (%q)", got)
			}
		})
	}
	wantStatus(t, login(testserver.Password), http.StatusOK)

	t.Run("weak_password_says_why", func(t *testing.T) {
		a := problemOf(t, change(testserver.Password, "password1234"))["detail"]
		b := problemOf(t, change(testserver.Password, "Quartz-ALICE-zebra-71x"))["detail"]
		if a == b {
			t.Fatalf("a common password and one containing the username give the same reason %q", a)
		}
	})

	t.Run("success_ends_the_other_sessions_and_keeps_this_one", func(t *testing.T) {
		r := change(testserver.Password, newPassword)
		wantStatus(t, r, http.StatusNoContent)
		if len(r.Body) != 0 {
			t.Errorf("204 with a body: %s", r.Body)
		}
		if got := sessionState(t, c); got != "authenticated" {
			t.Fatalf("this session is %q, want authenticated", got)
		}
		if got := sessionState(t, other); got != "" {
			t.Fatalf("the other session is %q, want it ended", got)
		}
		if got := sessionState(t, partial); got != "" {
			t.Fatalf("the half-signed-in session is %q, want it ended", got)
		}
		wantProblem(t, login(testserver.Password), http.StatusUnauthorized, "invalid_credentials")
		r = login(newPassword)
		wantStatus(t, r, http.StatusOK)
		if got := decode[web.StepAnswer](t, r).State; got != "mfa_required" {
			t.Fatalf("sign-in with the new password: state %v", got)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, secret, _ := enrolled(t, srv, "alice")

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, c *testserver.Client)
	}{
		{"ends_an_authenticated_session", func(t *testing.T, c *testserver.Client) { signIn(t, srv, c, "alice", secret) }},
		{"ends_a_half_signed-in_session", func(t *testing.T, c *testserver.Client) { c.Login("alice", "mfa_required") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := srv.Client(t)
			tc.setup(t, c)
			token := sessionToken(t, srv, c)
			r := c.PostJSON("/api/v1/logout", nil)
			wantStatus(t, r, http.StatusNoContent)
			if got := sessionState(t, c); got != "" {
				t.Fatalf("after logout: %q", got)
			}
			// The server forgot the token, not only the browser.
			if got := sessionState(t, clientWithToken(t, srv, token)); got != "" {
				t.Fatalf("the old token still works after logout: %q", got)
			}
		})
	}

	t.Run("without_a_session_is_204", func(t *testing.T) {
		wantStatus(t, srv.Client(t).PostJSON("/api/v1/logout", nil), http.StatusNoContent)
		wantStatus(t, clientWithToken(t, srv, "no-such-token").PostJSON("/api/v1/logout", nil), http.StatusNoContent)
	})
}

func TestSession(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name string
		opts testserver.Options
		// signIn brings c to the state to show
		signIn func(t *testing.T, srv *testserver.Server, c *testserver.Client)
		want   string // JSON with %s for the user id
	}{
		{
			name: "after_the_code",
			signIn: func(t *testing.T, srv *testserver.Server, c *testserver.Client) {
				_, secret, _ := enrolled(t, srv, "alice")
				signIn(t, srv, c, "alice", secret)
			},
			want: `{"state":"authenticated","user":{"id":%q,"username":"alice","email":"alice@example.com","email_verified":false,"role":"user"},
				"amr":["pwd","otp","mfa"],"mfa":{"totp":true,"webauthn":0,"required":true}}`,
		},
		{
			name: "after_the_password_of_an_enrolled_user",
			signIn: func(t *testing.T, srv *testserver.Server, c *testserver.Client) {
				enrolled(t, srv, "alice")
				c.Login("alice", "mfa_required")
			},
			want: `{"state":"mfa_required","user":{"id":%q,"username":"alice","email":"alice@example.com","email_verified":false,"role":"user"},
				"amr":["pwd"],"mfa":{"totp":true,"webauthn":0,"required":true}}`,
		},
		{
			name: "password_only_without_MFA",
			opts: testserver.Options{MFARequiredForRole: noMFA},
			signIn: func(t *testing.T, srv *testserver.Server, c *testserver.Client) {
				srv.CreateUser(t, "alice", "alice@example.com", "user")
				c.Login("alice", "authenticated")
			},
			want: `{"state":"authenticated","user":{"id":%q,"username":"alice","email":"alice@example.com","email_verified":false,"role":"user"},
				"amr":["pwd"],"mfa":{"totp":false,"webauthn":0,"required":false}}`,
		},
		{
			name: "with_a_verified_address",
			opts: testserver.Options{MFARequiredForRole: noMFA},
			signIn: func(t *testing.T, srv *testserver.Server, c *testserver.Client) {
				u := srv.CreateUser(t, "alice", "alice@example.com", "user")
				if err := srv.Store.SetUserEmailVerified(t.Context(), u.ID, u.EmailNorm, srv.Clock.Now()); err != nil {
					t.Fatal(err)
				}
				c.Login("alice", "authenticated")
			},
			want: `{"state":"authenticated","user":{"id":%q,"username":"alice","email":"alice@example.com","email_verified":true,"role":"user"},
				"amr":["pwd"],"mfa":{"totp":false,"webauthn":0,"required":false}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.New(t, tc.opts)
			c := srv.Client(t)
			tc.signIn(t, srv, c)
			u, err := srv.Auth.FindUser(t.Context(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			r := c.Get("/api/v1/session")
			wantStatus(t, r, http.StatusOK)
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var got, want any
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(fmt.Appendf(nil, tc.want, u.ID), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("GET /api/v1/session\n got %s\nwant %v", r.Body, want)
			}
		})
	}

	t.Run("without_a_session_is_401_unauthenticated", func(t *testing.T) {
		srv := newServer(t)
		r := srv.Client(t).Get("/api/v1/session")
		wantProblem(t, r, http.StatusUnauthorized, "unauthenticated")
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	})
}

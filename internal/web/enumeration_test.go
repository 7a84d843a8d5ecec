package web_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/testserver"
)

// failedSignIns are the sign-ins that must not tell an account apart: an unknown name, a
// wrong password (with and without an authenticator set up) and a disabled account.
var failedSignIns = []struct{ name, username, password string }{
	{"wrong_password_with_MFA", "alice", "not the password at all 1"},
	{"wrong_password_without_MFA", "bob@example.com", "not the password at all 2"},
	{"unknown_user", "mallory", "not the password at all 3"},
	{"disabled_account_right_password", "carol", testserver.Password},
}

// newEnumerationServer has the accounts of failedSignIns.
func newEnumerationServer(tb testing.TB, argon2 *password.Params) *testserver.Server {
	tb.Helper()
	srv := testserver.New(tb, testserver.Options{Argon2: argon2, Throttle: manyAttempts})
	enrolled(tb, srv, "alice") // has an authenticator
	srv.CreateUser(tb, "bob", "bob@example.com", "user")
	srv.CreateUser(tb, "carol", "carol@example.com", "user")
	disable(tb, srv, "carol")
	return srv
}

// TestNoEnumeration checks that a sign-in tells nothing about the account before a correct
// password: every failing sign-in gets the same status and the same bytes and sets no
// cookie. That they cost the same is shown without a clock by
// auth.TestSignInFailuresDoTheSameWork (the same store calls and one argon2id derivation
// with the same parameters) and measured by BenchmarkSignInFailures.
func TestNoEnumeration(t *testing.T) {
	srv := newEnumerationServer(t, nil)
	c := srv.Client(t)
	var first *testserver.Response
	for _, tc := range failedSignIns {
		r := login(c, tc.username, tc.password)
		wantProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
		if first == nil {
			first = r
		} else if !bytes.Equal(r.Body, first.Body) {
			t.Fatalf("%s answered differently:\n%s\n%s", tc.name, r.Body, first.Body)
		}
		if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
			t.Fatalf("%s set a cookie: %v", tc.name, sc)
		}
	}
}

// BenchmarkSignInFailures measures each failing sign-in over HTTP with the production
// argon2id parameters (19 MiB, t=2): their times per operation should agree within noise.
// Run it with go test ./internal/web -run '^$' -bench SignInFailures.
func BenchmarkSignInFailures(b *testing.B) {
	srv := newEnumerationServer(b, &password.DefaultParams)
	c := srv.Client(b)
	for _, tc := range failedSignIns {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if r := login(c, tc.username, tc.password); r.Status != http.StatusUnauthorized {
					b.Fatalf("%s: %d %s", tc.name, r.Status, r.Body)
				}
			}
		})
	}
}

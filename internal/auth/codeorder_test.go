package auth_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/throttle"
)

// TestParallelCodeChecks: the code step of a sign-in and the account actions that check a
// code (a new recovery code, replacing the app) of one user, run at once with the same
// right code: exactly one of them accepts it, the others are told it is wrong, and none
// fails with a 5xx. On PostgreSQL this needs the transactions that check a code to take
// the user's rows in one order (the authenticator's, then the failure budget's), else two
// of them deadlock and the database ends one: a sign-in that took the budget first got a
// 500 here within 3 rounds (docs/performance.md, "The code step in one transaction").
func TestParallelCodeChecks(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			// The losers' failures must not make the next round wait.
			o := testserver.Options{Throttle: throttle.Policy{FreeAttempts: 100, MaxFailures: 100}}
			if db == "postgres" {
				o.DatabaseURL = testutil.PostgresURL(t)
			}
			srv := testserver.New(t, o)
			srv.CreateUser(t, "alice", "alice@example.com", "user")
			account := srv.Client(t)
			secret, _ := srv.Enroll(t, account, "alice")
			setup := srv.Client(t)
			setup.Login("alice", "mfa_required")
			if r := setup.PostJSON("/api/v1/login/totp", map[string]string{"code": srv.Code(secret, 0)}); r.Status != http.StatusOK {
				t.Fatalf("second browser: %d %s", r.Status, r.Body)
			}
			for round := 0; round < 25; round++ {
				srv.NextStep()
				signIn := srv.Client(t)
				signIn.Login("alice", "mfa_required")
				code := map[string]string{"code": srv.Code(secret, 0)}
				calls := []struct {
					c    *testserver.Client
					path string
				}{
					{signIn, "/api/v1/login/totp"},
					{account, "/api/v1/account/mfa/recovery-code"},
					{setup, "/api/v1/account/mfa/totp"},
				}
				answers := make([]*testserver.Response, len(calls))
				var wg sync.WaitGroup
				for i, call := range calls {
					wg.Add(1)
					go func() {
						defer wg.Done()
						answers[i] = call.c.PostJSON(call.path, code)
					}()
				}
				wg.Wait()
				accepted := 0
				for i, r := range answers {
					switch {
					case r.Status >= 500:
						t.Fatalf("round %d, %s: %d %s", round, calls[i].path, r.Status, r.Body)
					case r.Status < 300:
						accepted++
					case r.JSON(t)["code"] != "invalid_code" && r.JSON(t)["code"] != "reauthentication_required":
						t.Errorf("round %d, %s: %d %s, want the code refused as used", round, calls[i].path, r.Status, r.Body)
					}
				}
				if accepted != 1 {
					t.Fatalf("round %d: the code was accepted %d times", round, accepted)
				}
			}
		})
	}
}

package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/testserver"
)

// An agent can reset other people's MFA, so the console needs an MFA sign-in even where
// the policy lets the agent into twofold with a password alone.
func TestSupportConsoleNeedsAnMFASignIn(t *testing.T) {
	srv := testserver.New(t, testserver.Options{MFARequiredForRole: func(string) bool { return false }})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	ref := supOpen(t, srv, "ada@example.com")
	srv.CreateUser(t, "sam", "sam@example.com", "support")
	agent := srv.Client(t)
	agent.Login("sam", "authenticated") // password alone, as the policy allows

	for _, call := range agentCalls(ref) {
		r := agent.Do(call.method, call.path, "application/json", []byte(call.body))
		if msg := supProblem(t, r, http.StatusForbidden, "forbidden"); !strings.Contains(msg, "authenticator") {
			t.Errorf("%s %s: %q does not say an authenticator is needed", call.method, call.path, msg)
		}
	}
	if r := agent.Get("/support/cases"); r.Status != http.StatusForbidden {
		t.Errorf("console page for a password-only agent: %d, want 403", r.Status)
	}

	// With an authenticator and a code sign-in the same agent gets in.
	u := mustUser(t, srv, "sam")
	if err := srv.Auth.SetMFAOverride(context.Background(), u, "yes", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	mfaAgent := srv.Client(t)
	srv.Enroll(t, mfaAgent, "sam") // leaves the client signed in with amr pwd otp mfa
	supWant(t, mfaAgent.Get("/api/v1/support/cases"), http.StatusOK)
}

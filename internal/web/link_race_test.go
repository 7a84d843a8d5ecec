package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
)

// mailedLink returns the token of the newest link containing part (such as
// "/invite?token=") mailed to the address by either instance.
func mailedLink(t *testing.T, a, b *testserver.Server, to, part string) string {
	t.Helper()
	tok := ""
	for _, m := range bothOutboxes(t, a, b) {
		if !strings.Contains(strings.ToLower(m.To), to) {
			continue
		}
		if l := m.Link(part); l != "" {
			u, err := url.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			tok = u.Query().Get("token")
		}
	}
	if tok == "" {
		t.Fatalf("no %s link mailed to %s", part, to)
	}
	return tok
}

// racePassword is the new password the i-th racer sends: each its own, so that the
// password left on the account names the one winner.
func racePassword(i int) string { return testserver.Password + " race " + strconv.Itoa(i) }

// winnerOnly fails unless exactly one answer succeeded with status win and only that
// racer's password signs username in, on either instance.
func winnerOnly(t *testing.T, a, b *testserver.Server, username string, answers []rawResult, win int) {
	t.Helper()
	winner := -1
	for i, r := range answers {
		if r.err == nil && r.status == win {
			winner = i
		}
	}
	if winner < 0 {
		return // oneWinner said so
	}
	for i := range answers {
		srv := []*testserver.Server{a, b}[i%2]
		st := srv.Client(t).PostJSON("/api/v1/login", map[string]string{"username": username, "password": racePassword(i)}).Status
		if i == winner && st != http.StatusOK {
			t.Errorf("sign-in with the winner's password (%d): %d, want 200", i, st)
		}
		if i != winner && st != http.StatusUnauthorized {
			t.Errorf("sign-in with the password of refused racer %d: %d, want 401", i, st)
		}
	}
}

// TestPasswordResetLinkRacesOverTwoInstances: one reset link with a right code, sent ten
// times at once with ten different new passwords over two instances on one database
// (SQLite file or PostgreSQL): one reset wins (200), the others get 400 invalid_token,
// never a 5xx; one password.reset event, no failure on either budget, and only the
// winner's password signs in.
func TestPasswordResetLinkRacesOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			a, b := testserver.Instances(t, db, testserver.Options{Throttle: manyAttempts})
			_, secret, _ := enrolled(t, a, "alice")
			r := a.Client(t).PostJSON("/api/v1/password/forgot", map[string]string{"login": "alice"})
			supWant(t, r, http.StatusAccepted)
			tok := mailedLink(t, a, b, "alice@example.com", "/password/reset?token=")
			a.NextStep()
			code := a.Code(secret, 0)
			answers := raceOver(a, b, raceRounds, func(i int, srv *testserver.Server) rawResult {
				return rawPostJSON(srv, srv.Client(t), "/api/v1/password/reset",
					map[string]string{"token": tok, "new_password": racePassword(i), "code": code})
			})
			oneWinner(t, "password reset", answers, http.StatusOK, http.StatusBadRequest, `"invalid_token"`)
			alice := userOf(t, a, "alice")
			if n := auditCount(t, a, alice.ID, "password.reset"); n != 1 {
				t.Errorf("password.reset events: %d, want 1", n)
			}
			if pw, second := budgetFailures(t, a, "alice"); pw != 0 || second != 0 {
				t.Errorf("the refused resets left %d password and %d second-factor failures, want none", pw, second)
			}
			winnerOnly(t, a, b, "alice", answers, http.StatusOK)
		})
	}
}

// TestInvitationLinkRacesOverTwoInstances: one invitation link accepted ten times at once
// with ten different passwords over two instances on one database (SQLite file or
// PostgreSQL): one acceptance wins (200) with one session, the others get 400
// invalid_token, never a 5xx; one invitation.accepted event, and only the winner's
// password signs in.
func TestInvitationLinkRacesOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			a, b := testserver.Instances(t, db, testserver.Options{Throttle: manyAttempts})
			if _, err := a.Invite.Invite(t.Context(), auth.NewUser{Username: "ivy", Email: "ivy@example.com"}, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			tok := mailedLink(t, a, b, "ivy@example.com", "/invite?token=")
			answers := raceOver(a, b, raceRounds, func(i int, srv *testserver.Server) rawResult {
				return rawPostJSON(srv, srv.Client(t), "/api/v1/invitations/accept",
					map[string]string{"token": tok, "password": racePassword(i)})
			})
			oneWinner(t, "invitation acceptance", answers, http.StatusOK, http.StatusBadRequest, `"invalid_token"`)
			ivy := userOf(t, a, "ivy")
			if n := auditCount(t, a, ivy.ID, "invitation.accepted"); n != 1 {
				t.Errorf("invitation.accepted events: %d, want 1", n)
			}
			sessions, err := a.Store.ListUserSessions(t.Context(), ivy.ID, a.Clock.Now())
			if err != nil || len(sessions) != 1 {
				t.Errorf("sessions after the race: %d (%v), want 1", len(sessions), err)
			}
			winnerOnly(t, a, b, "ivy", answers, http.StatusOK)
		})
	}
}

// TestRegistrationLinkRacesOverTwoInstances: one registration link confirmed ten times at
// once over two instances on one database (SQLite file or PostgreSQL): one confirmation
// creates the account (200), the others get 400 invalid_token, never a 5xx; one account,
// one user.created event, one session.
func TestRegistrationLinkRacesOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			a, b := testserver.Instances(t, db, testserver.Options{MFARequiredForRole: noMFA, PublicURL: regPublicURL,
				Config: func(c *config.Config) {
					c.Registration.Enabled = true
					c.Registration.RequestsPerIPHour, c.Registration.RequestsPerEmailHour = 1000, 1000
					c.Registration.MailsPerHour = 1000
				}})
			supWant(t, a.Client(t).PostJSON("/api/v1/register", registerBody("ada", "ada@example.com")), http.StatusAccepted)
			tok := mailedLink(t, a, b, "ada@example.com", "/register/confirm?token=")
			answers := raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
				return rawPostJSON(srv, srv.Client(t), "/api/v1/register/confirm", map[string]string{"token": tok})
			})
			oneWinner(t, "registration confirmation", answers, http.StatusOK, http.StatusBadRequest, `"invalid_token"`)
			users, err := a.Store.ListUsers(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != 1 || users[0].Username != "ada" {
				t.Fatalf("accounts after the race: %d, want ada alone", len(users))
			}
			if n := auditCount(t, a, users[0].ID, "user.created"); n != 1 {
				t.Errorf("user.created events: %d, want 1", n)
			}
			sessions, err := a.Store.ListUserSessions(t.Context(), users[0].ID, a.Clock.Now())
			if err != nil || len(sessions) != 1 {
				t.Errorf("sessions after the race: %d (%v), want 1", len(sessions), err)
			}
		})
	}
}

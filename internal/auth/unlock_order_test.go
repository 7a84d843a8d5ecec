package auth_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/storetest"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestUnlockDuringAPasswordReset: an administrator's unlock and the user's password reset
// with the recovery code, at the same moment, with failures on record in both budgets.
// The reset resets the second-factor budget, then the password budget; the unlock must
// take them in the same order, else on PostgreSQL each waits for the row the other holds
// and the database ends one of them as a deadlock (a 500). Here the reset is paused
// holding the second-factor budget while the unlock starts.
func TestUnlockDuringAPasswordReset(t *testing.T) {
	t.Run("by_an_administrator", func(t *testing.T) { unlockDuringAReset(t, auth.Meta{}) })
	// A token's unlock also locks the administrators' and the account's rows, which the
	// reset takes after the budgets.
	t.Run("by_an_api_token", func(t *testing.T) { unlockDuringAReset(t, auth.Meta{ActorID: audit.TokenActorPrefix + "t1"}) })
}

func unlockDuringAReset(t *testing.T, unlockBy auth.Meta) {
	ctx := context.Background()
	srv := testserver.New(t, testserver.Options{DatabaseURL: testutil.PostgresURL(t)})
	gate := storetest.NewGate(srv.Store, "ResetBudget/"+store.BudgetSecondFactor)
	svc, clock := newService(t, auth.Options{Store: gate, Notifier: newMailbox()})
	u, err := svc.CreateUser(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com", Password: testserver.Password}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, recoveryCode := withAuthenticator(t, svc, clock, signedIn(t, svc))
	if _, err := svc.Login(ctx, "alice", "not the password 123456", auth.Meta{}); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	var link string
	if err := srv.Store.WithTx(ctx, func(st store.Store) error {
		link, err = links.Issue(ctx, st, rand.Reader, clock.Now(), links.Link{Purpose: store.LinkPasswordReset, UserID: u.ID, Email: u.Email, TTL: auth.ResetLinkTTL})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	errReset, errUnlock := gate.Race(t,
		func() error {
			_, err := svc.ResetPassword(ctx, auth.ResetRequest{Token: link, NewPassword: "another good passphrase 77", Code: recoveryCode}, auth.Meta{})
			return err
		},
		func() error { return svc.Unlock(ctx, u, unlockBy) })
	if errReset != nil {
		t.Errorf("the reset: %v", errReset)
	}
	if errUnlock != nil {
		t.Errorf("the unlock: %v", errUnlock)
	}
}

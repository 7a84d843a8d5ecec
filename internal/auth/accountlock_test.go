package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store/storetest"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/totp"
)

// codeStep is an authenticator's time step: after it, the app shows a new code.
const codeStep = 30 * time.Second

// twoTabs is alice on PostgreSQL with an authenticator, her recovery code and one
// authenticated session, behind a gate on method.
type twoTabs struct {
	svc      *auth.Service
	clock    *testserver.Clock
	gate     *storetest.Gate
	cur      *auth.Current
	secret   []byte
	recovery string
}

func newTwoTabs(t *testing.T, method string) *twoTabs {
	t.Helper()
	ctx := context.Background()
	db := testserver.Postgres(t)
	gate := storetest.NewGate(db, method)
	svc, clock := newService(t, auth.Options{Store: gate, Notifier: newMailbox()})
	tok, secret, recoveryCode := withAuthenticator(t, svc, clock, signedIn(t, svc))
	clock.Advance(codeStep) // the next code is a new one
	cur, err := svc.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	return &twoTabs{svc: svc, clock: clock, gate: gate, cur: cur, secret: secret, recovery: recoveryCode}
}

// tab returns the session as a second tab of the same browser reads it.
func (tt *twoTabs) tab(t *testing.T) *auth.Current {
	t.Helper()
	c := *tt.cur
	s := *tt.cur.Session
	c.Session = &s
	return &c
}

func (tt *twoTabs) code() string { return totp.Code(tt.secret, totp.Step(tt.clock.Now())) }

// TestTwoTabsOneAccount: one user does two things with the account at the same moment, in
// two tabs. Each pair below took the account's rows in different orders, so on PostgreSQL
// each waited for a row the other held and the database ended one as a deadlock (a 503).
// The transactions that change an account now take its lock first (store.LockAccount): the
// second waits for the first, and each gets the answer it would get alone after it.
func TestTwoTabsOneAccount(t *testing.T) {
	ctx := context.Background()

	// Confirming a new app holds the pending setup, then ends the other sessions and steps
	// its own up; signing that session out ends the session, then its pending setup.
	t.Run("confirm_an_app_while_signing_out", func(t *testing.T) {
		tt := newTwoTabs(t, "ClaimPendingTOTP")
		setup, err := tt.svc.BeginTOTPSetup(ctx, tt.cur, tt.code(), auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		next := testserver.DecodeSecret(t, setup.Secret)
		confirm, signOut := tt.tab(t), tt.tab(t)
		errConfirm, errSignOut := tt.gate.Race(t,
			func() error {
				_, _, err := tt.svc.ConfirmTOTPSetup(ctx, confirm, totp.Code(next, totp.Step(tt.clock.Now())), auth.Meta{})
				return err
			},
			func() error {
				_, err := tt.svc.End(ctx, auth.Logout, signOut.User.ID, signOut.Session.ID, auth.Meta{})
				return err
			})
		if errConfirm != nil {
			t.Errorf("confirming: %v", errConfirm)
		}
		if errSignOut != nil {
			t.Errorf("signing out: %v", errSignOut)
		}
		storetest.NoDeadlock(t, "confirming", errConfirm)
		storetest.NoDeadlock(t, "signing out", errSignOut)
	})

	// Replacing the app with a code holds the authenticator, then writes the pending setup;
	// confirming a setup holds the pending setup, then writes the authenticator.
	t.Run("replace_the_app_while_confirming", func(t *testing.T) {
		tt := newTwoTabs(t, "ClaimPendingTOTP")
		setup, err := tt.svc.BeginTOTPSetup(ctx, tt.cur, tt.code(), auth.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		tt.clock.Advance(codeStep)
		next := testserver.DecodeSecret(t, setup.Secret)
		oldCode := tt.code()
		confirm, replace := tt.tab(t), tt.tab(t)
		errConfirm, errReplace := tt.gate.Race(t,
			func() error {
				_, _, err := tt.svc.ConfirmTOTPSetup(ctx, confirm, totp.Code(next, totp.Step(tt.clock.Now())), auth.Meta{})
				return err
			},
			func() error {
				_, err := tt.svc.BeginTOTPSetup(ctx, replace, oldCode, auth.Meta{})
				return err
			})
		if errConfirm != nil {
			t.Errorf("confirming: %v", errConfirm)
		}
		// After the confirmation the old app's code is no longer the account's.
		if !errors.Is(errReplace, apperr.ErrReauthentication) {
			t.Errorf("replacing with the old app's code after the new one was confirmed: %v, want %v", errReplace, apperr.ErrReauthentication)
		}
		storetest.NoDeadlock(t, "confirming", errConfirm)
		storetest.NoDeadlock(t, "replacing", errReplace)
	})

	// Proving the second factor with the recovery code holds the recovery code, then resets
	// the budget and writes the session; a new recovery code with an app code holds the
	// authenticator, the budget and the session, then writes the recovery code.
	t.Run("recovery_code_proof_while_renewing_it", func(t *testing.T) {
		tt := newTwoTabs(t, "ConsumeRecoveryCode")
		prove, renew := tt.tab(t), tt.tab(t)
		var fresh, renewed string
		errProve, errRenew := tt.gate.Race(t,
			func() error {
				var err error
				fresh, err = tt.svc.ProveWithRecoveryCode(ctx, prove, tt.recovery, auth.Meta{})
				return err
			},
			func() error {
				var err error
				renewed, err = tt.svc.NewRecoveryCode(ctx, renew, tt.code(), auth.Meta{})
				return err
			})
		if errProve != nil {
			t.Errorf("proving with the recovery code: %v", errProve)
		}
		if errRenew != nil {
			t.Errorf("a new recovery code: %v", errRenew)
		}
		storetest.NoDeadlock(t, "proving", errProve)
		storetest.NoDeadlock(t, "renewing", errRenew)
		if errProve == nil && errRenew == nil {
			// The renewal came second: its code is the one that works now.
			rc, err := tt.svc.ProveWithRecoveryCode(ctx, tt.tab(t), fresh, auth.Meta{})
			if err == nil {
				t.Errorf("the code the proof issued works after the renewal that came after it (gave %q)", rc)
			}
			if _, err := tt.svc.ProveWithRecoveryCode(ctx, tt.tab(t), renewed, auth.Meta{}); err != nil {
				t.Errorf("the renewed code: %v", err)
			}
		}
	})
}

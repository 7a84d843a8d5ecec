package auth_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/totp"
)

// codeStep is an authenticator's time step: after it, the app shows a new code.
const codeStep = 30 * time.Second

// rowGate pauses the first claim of a pending setup, or the first use of a recovery code,
// made in a transaction once armed, right after it: the transaction then holds that row
// until goOn closes.
type rowGate struct {
	store.Store
	method string // "ClaimPendingTOTP" or "ConsumeRecoveryCode"
	armed  *atomic.Bool
	holds  chan struct{}
	goOn   chan struct{}
	inTx   bool
}

func newRowGate(st store.Store, method string) rowGate {
	return rowGate{st, method, new(atomic.Bool), make(chan struct{}), make(chan struct{}), false}
}

func (g rowGate) WithTx(ctx context.Context, fn func(store.Store) error) error {
	return g.Store.WithTx(ctx, func(tx store.Store) error {
		g := g
		g.Store, g.inTx = tx, true
		return fn(g)
	})
}

func (g rowGate) pause(method string) {
	if g.inTx && method == g.method && g.armed.CompareAndSwap(true, false) {
		close(g.holds)
		<-g.goOn
	}
}

func (g rowGate) ClaimPendingTOTP(ctx context.Context, userID, sessionID string, secretEnc []byte) error {
	err := g.Store.ClaimPendingTOTP(ctx, userID, sessionID, secretEnc)
	g.pause("ClaimPendingTOTP")
	return err
}

func (g rowGate) ConsumeRecoveryCode(ctx context.Context, userID string, oldHash, newHash []byte, now time.Time) error {
	err := g.Store.ConsumeRecoveryCode(ctx, userID, oldHash, newHash, now)
	g.pause("ConsumeRecoveryCode")
	return err
}

// twoTabs is alice on PostgreSQL with an authenticator, her recovery code and one
// authenticated session, behind a gate on method.
type twoTabs struct {
	svc      *auth.Service
	clock    *testserver.Clock
	gate     rowGate
	cur      *auth.Current
	secret   []byte
	recovery string
}

func newTwoTabs(t *testing.T, method string) *twoTabs {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.OpenPostgres(ctx, testutil.PostgresURL(t), sqlstore.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	gate := newRowGate(db, method)
	svc, clock := newService(t, auth.Options{Store: gate, Notifier: newMailbox()})
	if _, err := svc.CreateUser(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com", Password: testserver.Password}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Login(ctx, "alice", testserver.Password, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := svc.BeginTOTPSetup(ctx, res.Current, "", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	secret := testserver.DecodeSecret(t, setup.Secret)
	tok, recoveryCode, err := svc.ConfirmTOTPSetup(ctx, res.Current, totp.Code(secret, totp.Step(clock.Now())), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
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

// race runs first until it holds the gate's row, then second, gives second time to reach
// the rows it locks, lets first go on, and returns both errors. Were second slower than
// that, the test would pass without proving the order: it cannot fail for a slow machine.
func (tt *twoTabs) race(t *testing.T, first, second func() error) (errFirst, errSecond error) {
	t.Helper()
	tt.gate.armed.Store(true)
	firstDone := make(chan error, 1)
	go func() { firstDone <- first() }()
	select {
	case <-tt.gate.holds:
	case err := <-firstDone:
		t.Fatalf("the first action ended before it reached %s: %v", tt.gate.method, err)
	}
	secondDone := make(chan error, 1)
	go func() { secondDone <- second() }()
	time.Sleep(300 * time.Millisecond)
	close(tt.gate.goOn)
	return <-firstDone, <-secondDone
}

// noDeadlock fails the test for an error that says the database ended the action.
func noDeadlock(t *testing.T, what string, err error) {
	t.Helper()
	if errors.Is(err, store.ErrUnavailable) {
		t.Errorf("%s: %v (the database ended it as a deadlock)", what, err)
	}
}

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
		errConfirm, errSignOut := tt.race(t,
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
		noDeadlock(t, "confirming", errConfirm)
		noDeadlock(t, "signing out", errSignOut)
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
		errConfirm, errReplace := tt.race(t,
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
		noDeadlock(t, "confirming", errConfirm)
		noDeadlock(t, "replacing", errReplace)
	})

	// Proving the second factor with the recovery code holds the recovery code, then resets
	// the budget and writes the session; a new recovery code with an app code holds the
	// authenticator, the budget and the session, then writes the recovery code.
	t.Run("recovery_code_proof_while_renewing_it", func(t *testing.T) {
		tt := newTwoTabs(t, "ConsumeRecoveryCode")
		prove, renew := tt.tab(t), tt.tab(t)
		var fresh, renewed string
		errProve, errRenew := tt.race(t,
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
		noDeadlock(t, "proving", errProve)
		noDeadlock(t, "renewing", errRenew)
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

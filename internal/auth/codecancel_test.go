package auth_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/totp"
)

// leavingClient is a store whose authenticator read in a transaction cancels the request's
// context, once armed: the client goes away while its code is being compared. It leaves
// after the read that fetches the code's secret: the reads counted in skip come first.
type leavingClient struct {
	store.Store
	leave *leaving
	tx    bool
}

type leaving struct {
	cancel atomic.Pointer[context.CancelFunc]
	skip   atomic.Int32
}

func (s leavingClient) WithTx(ctx context.Context, fn func(store.Store) error) error {
	return s.Store.WithTx(ctx, func(tx store.Store) error { return fn(leavingClient{tx, s.leave, true}) })
}

func (s leavingClient) GetTOTP(ctx context.Context, userID string) (*store.TOTPCredential, error) {
	c, err := s.Store.GetTOTP(ctx, userID)
	if cancel := s.leave.cancel.Load(); s.tx && cancel != nil && s.leave.skip.Add(-1) < 0 {
		(*cancel)()
	}
	return c, err
}

// TestACheckedCodeCountsWhenTheClientLeaves: every code check spends its attempt before
// the code is compared, in a commit of its own, so a client that goes away mid-check (its
// request's context canceled) cannot have codes compared without them counting. A check
// whose reservation shared the comparing transaction (tried in 18bed39) rolled the
// reservation back with it: 20 wrong codes were compared and none counted. The failure is
// audited too: before, the audit row was written with the canceled context and lost.
func TestACheckedCodeCountsWhenTheClientLeaves(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			var base store.Store
			if db == "postgres" {
				base = testserver.Postgres(t)
			} else {
				plain, _ := newService(t, auth.Options{})
				base = fullStore(plain)
			}
			leave := &leaving{}
			svc, clock := newService(t, auth.Options{Store: leavingClient{Store: base, leave: leave}})
			tok, secret, _ := withAuthenticator(t, svc, clock, signedIn(t, svc))
			clock.Advance(codeStep)
			cur, err := svc.Authenticate(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			wrong := totp.Code(secret, totp.Step(clock.Now())+10)
			failures := func() int {
				t.Helper()
				b, err := base.GetBudget(ctx, store.BudgetSecondFactor, cur.User.ID)
				if errors.Is(err, store.ErrNotFound) {
					return 0
				}
				if err != nil {
					t.Fatal(err)
				}
				return b.Failures
			}
			audited := func() int {
				t.Helper()
				events, err := base.ListAudit(ctx, store.AuditFilter{UserID: cur.User.ID})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, e := range events {
					if e.Event == audit.TOTPFailed || e.Event == audit.ReauthFailed {
						n++
					}
				}
				return n
			}
			for _, action := range []struct {
				name  string
				skip  int32 // reads of the authenticator in its transaction before the code's
				check func(ctx context.Context) error
			}{
				{"the sign-in's code step", 0, func(ctx context.Context) error {
					res, err := svc.Login(context.Background(), "alice", testserver.Password, auth.Meta{})
					if err != nil {
						t.Fatal(err)
					}
					_, err = svc.VerifyTOTP(ctx, res.Current, wrong, auth.Meta{})
					return err
				}},
				{"confirm it is you", 0, func(ctx context.Context) error { return svc.ProveWithCode(ctx, cur, wrong, auth.Meta{}) }},
				{"a new recovery code", 0, func(ctx context.Context) error {
					_, err := svc.NewRecoveryCode(ctx, cur, wrong, auth.Meta{})
					return err
				}},
				{"replacing the app", 1, func(ctx context.Context) error {
					_, err := svc.BeginTOTPSetup(ctx, cur, wrong, auth.Meta{})
					return err
				}},
			} {
				before, auditedBefore := failures(), audited()
				gone, cancel := context.WithCancel(ctx)
				leave.skip.Store(action.skip)
				leave.cancel.Store(&cancel)
				err := action.check(gone)
				leave.cancel.Store(nil)
				cancel()
				if err == nil {
					t.Fatalf("%s: a wrong code was accepted", action.name)
				}
				if n := failures(); n != before+1 {
					t.Errorf("%s: the client left while its code was compared (%v), and the budget went from %d to %d failures, not %d", action.name, err, before, n, before+1)
				}
				if n := audited(); n != auditedBefore+1 {
					t.Errorf("%s: the client left while its code was compared, and %d failures were audited, not 1", action.name, n-auditedBefore)
				}
			}
		})
	}
}

package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/totp"
)

// TestCodeStepIsOneTransaction: the code step of a sign-in reserves its attempt in the
// transaction that checks the code (after the account's lock), so a sign-in writes the
// second-factor budget in one commit instead of two. A
// right code commits the sign-in and leaves no budget; a wrong one commits its reservation
// alone (a failure counted, the session still waiting for a code); a throttled one is
// refused without the code being checked, and audited after the transaction.
func TestCodeStepIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	plain, _ := newService(t, auth.Options{})
	// Three free attempts, locked at the third failure: the lock is reached without waits.
	policy := throttle.Policy{FreeAttempts: 3, MaxFailures: 3}
	svc, clock := newService(t, auth.Options{Store: recordingStore{Store: fullStore(plain), r: rec}, Throttle: policy})
	if _, err := svc.CreateUser(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com", Password: testserver.Password}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	login := func(wantState string) *auth.Current {
		t.Helper()
		res, err := svc.Login(ctx, "alice", testserver.Password, auth.Meta{IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Session.State != wantState {
			t.Fatalf("state %s, want %s", res.Current.Session.State, wantState)
		}
		return res.Current
	}
	nextStep := func() {
		now := clock.Now()
		clock.Advance(time.Unix((totp.Step(now)+1)*30+10, 0).Sub(now))
	}
	cur := login(store.StateAuthenticated)
	_, secret, _ := withAuthenticator(t, svc, clock, cur)
	code := func() string { return totp.Code(secret, totp.Step(clock.Now())) }
	budget := func() int {
		t.Helper()
		b, err := fullStore(plain).GetBudget(ctx, store.BudgetSecondFactor, cur.User.ID)
		if errors.Is(err, store.ErrNotFound) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return b.Failures
	}
	// transactions counts the calls of one code step: how many transactions it opened, and
	// whether every reservation was made in one.
	transactions := func(calls []string) (n int, reservedOutside bool) {
		for _, c := range calls {
			n += strings.Count(c, "WithTx")
			reservedOutside = reservedOutside || strings.HasPrefix(c, "ReserveAttempt")
		}
		return n, reservedOutside
	}

	nextStep()
	pending := login(store.StateMFARequired)
	rec.take()
	if _, err := svc.VerifyTOTP(ctx, pending, code(), auth.Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("right code: %v", err)
	}
	calls := rec.take()
	if n, outside := transactions(calls); n != 1 || outside || !slices.Contains(calls, "tx.ReserveAttempt(second_factor)") {
		t.Errorf("right code: %d transactions, a reservation outside one: %v; calls %v", n, outside, calls)
	}
	if n := budget(); n != 0 {
		t.Errorf("after the right code the budget holds %d failures, want none", n)
	}

	nextStep()
	pending = login(store.StateMFARequired)
	rec.take()
	wrong := totp.Code(secret, totp.Step(clock.Now())+10)
	_, err := svc.VerifyTOTP(ctx, pending, wrong, auth.Meta{IP: "192.0.2.1"})
	wantCode(t, "wrong code", err, apperr.CodeInvalidCode)
	calls = rec.take()
	if n, outside := transactions(calls); n != 1 || outside || !slices.Contains(calls, "tx.ReserveAttempt(second_factor)") {
		t.Errorf("wrong code: %d transactions, a reservation outside one: %v; calls %v", n, outside, calls)
	}
	if !slices.Contains(calls, "AppendAudit(login.totp_failed)") {
		t.Errorf("wrong code not audited after the transaction: %v", calls)
	}
	if n := budget(); n != 1 {
		t.Errorf("after a wrong code the budget holds %d failures, want 1: the reservation was not committed", n)
	}
	if _, err := svc.Authenticate(ctx, pending.Token); err != nil {
		t.Fatalf("the session after a wrong code: %v", err)
	}

	// The account actions that check a code reserve in their transaction too. A wrong
	// code commits its reservation and nothing else: the failure counts, no setup is
	// started. Replacing the app comes last: its right code starts a setup.
	for _, action := range []struct {
		name  string
		check func(code string) error
	}{
		{"new recovery code", func(code string) error {
			_, err := svc.NewRecoveryCode(ctx, cur, code, auth.Meta{})
			return err
		}},
		{"confirm it is you", func(code string) error { return svc.ProveWithCode(ctx, cur, code, auth.Meta{}) }},
		{"replace the app", func(code string) error {
			_, err := svc.BeginTOTPSetup(ctx, cur, code, auth.Meta{})
			return err
		}},
	} {
		nextStep()
		rec.take()
		before := budget()
		if err := action.check(totp.Code(secret, totp.Step(clock.Now())+10)); err == nil {
			t.Fatalf("%s: a wrong code was accepted", action.name)
		}
		calls := rec.take()
		if n, outside := transactions(calls); n != 1 || outside || !slices.Contains(calls, "tx.ReserveAttempt(second_factor)") {
			t.Errorf("%s, wrong code: %d transactions, a reservation outside one: %v; calls %v", action.name, n, outside, calls)
		}
		if !slices.Contains(calls, "AppendAudit(reauthentication.failed)") {
			t.Errorf("%s: the wrong code was not audited after the transaction: %v", action.name, calls)
		}
		if n := budget(); n != before+1 {
			t.Errorf("%s: a wrong code left %d failures after %d: not counted once", action.name, n, before)
		}
		if _, err := svc.PendingSetup(ctx, cur); !errors.Is(err, apperr.ErrNoPending) {
			t.Errorf("%s: after a wrong code a setup is pending (%v)", action.name, err)
		}
		if err := action.check(code()); err != nil {
			t.Fatalf("%s: %v", action.name, err)
		}
		calls = rec.take()
		if n, outside := transactions(calls); n != 1 || outside || !slices.Contains(calls, "tx.ReserveAttempt(second_factor)") {
			t.Errorf("%s: %d transactions, a reservation outside one: %v; calls %v", action.name, n, outside, calls)
		}
	}

	// Wrong codes up to the lock, then the right one is refused unchecked.
	for i := 0; budget() < svc.LockFailures(); i++ {
		if i == svc.LockFailures() {
			t.Fatalf("wrong codes stopped counting at %d failures", budget())
		}
		if _, err := svc.VerifyTOTP(ctx, pending, wrong, auth.Meta{IP: "192.0.2.1"}); err == nil {
			t.Fatal("a wrong code was accepted")
		}
	}
	rec.take()
	_, err = svc.VerifyTOTP(ctx, pending, code(), auth.Meta{IP: "192.0.2.1"})
	wantCode(t, "right code on a locked budget", err, apperr.CodeThrottled)
	calls = rec.take()
	if slices.Contains(calls, "tx.GetTOTP") {
		t.Errorf("a throttled code was checked: %v", calls)
	}
	if !slices.Contains(calls, "AppendAudit(throttle.refused)") {
		t.Errorf("the refusal was not audited after the transaction: %v", calls)
	}
	if n := budget(); n != svc.LockFailures() {
		t.Errorf("a refusal changed the budget to %d failures", n)
	}
}

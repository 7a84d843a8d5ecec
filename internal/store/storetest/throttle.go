package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

var throttleTests = []subtest{
	{"FreeAttemptsThenAWait", testBudgetFreeAttempts},
	{"WaitDoublesUpToTheCapAndLocksAt100", testBudgetSchedule},
	{"ResetForgetsEveryFailure", testBudgetReset},
	{"ReleaseTakesBackOneAttempt", testBudgetRelease},
	{"BudgetsAreSeparateByKindAndKey", testBudgetSeparate},
	{"GetUnknownBudgetIsNotFound", testBudgetNotFound},
	{"ForgetIdleKeepsLockedAndRecent", testBudgetForgetIdle},
	{"ParallelReservationsStopAtTheFreeAttempts", testRaceBudgetFresh},
	{"ParallelReservationsAfterAWaitOneWins", testRaceBudgetWait},
	{"ParallelReleasesEachTakeOneBack", testRaceBudgetRelease},
}

// reserve makes one reservation and reports whether it was granted.
func reserve(t testing.TB, s store.Store, kind, key string, now time.Time) (*store.ThrottleBudget, bool) {
	t.Helper()
	b, ok, err := s.ReserveAttempt(t.Context(), kind, key, throttle.Default, now)
	wantNoErr(t, "ReserveAttempt", err)
	return b, ok
}

func testBudgetFreeAttempts(t *testing.T, s store.Store) {
	key := randomID(t)
	for i := 1; i <= 5; i++ {
		b, ok := reserve(t, s, store.BudgetPassword, key, at(0))
		if !ok {
			t.Fatalf("attempt %d of the 5 free ones was refused", i)
		}
		if b.Failures != i || b.Kind != store.BudgetPassword || b.Key != key || !b.LastAt.Equal(at(0)) {
			t.Fatalf("after attempt %d: %+v", i, b)
		}
	}
	b, ok := reserve(t, s, store.BudgetPassword, key, at(29*time.Second))
	if ok {
		t.Fatal("the 6th attempt 29s after the 5th failure was granted, want a 30s wait")
	}
	if b == nil || b.Failures != 5 || !b.NextAt().Equal(at(30*time.Second)) {
		t.Fatalf("refused budget %+v, want 5 failures and the next attempt at +30s", b)
	}
	if b, ok = reserve(t, s, store.BudgetPassword, key, at(30*time.Second)); !ok || b.Failures != 6 || b.Delay != time.Minute {
		t.Fatalf("the 6th attempt once the wait is over: granted=%v %+v, want granted with a 1m wait", ok, b)
	}
}

// testBudgetSchedule walks an attacker who tries at the earliest moment and checks the
// store's schedule against the pure policy, up to the lock after 100 failures.
func testBudgetSchedule(t *testing.T, s store.Store) {
	key := randomID(t)
	now := at(0)
	for n := 1; n <= throttle.Default.MaxFailures; n++ {
		b, ok := reserve(t, s, store.BudgetSecondFactor, key, now)
		if !ok {
			t.Fatalf("attempt %d at its earliest moment was refused: %+v", n, b)
		}
		if b.Failures != n || b.Delay != throttle.Default.Delay(n) {
			t.Fatalf("after %d failures the store waits %s, the policy %s", b.Failures, b.Delay, throttle.Default.Delay(n))
		}
		if b.Delay > 0 {
			if _, ok := reserve(t, s, store.BudgetSecondFactor, key, b.NextAt().Add(-time.Millisecond)); ok {
				t.Fatalf("after %d failures an attempt 1ms before the wait ends was granted", n)
			}
		}
		now = b.NextAt()
	}
	for _, later := range []time.Duration{0, time.Hour, 365 * 24 * time.Hour} {
		if b, ok := reserve(t, s, store.BudgetSecondFactor, key, now.Add(later)); ok || b.Failures != 100 {
			t.Fatalf("attempt 101 (+%s) granted=%v %+v, want refused for good", later, ok, b)
		}
	}
}

func testBudgetReset(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := randomID(t)
	for range 5 {
		reserve(t, s, store.BudgetPassword, key, at(0))
	}
	wantNoErr(t, "ResetBudget", s.ResetBudget(ctx, store.BudgetPassword, key))
	_, err := s.GetBudget(ctx, store.BudgetPassword, key)
	wantErr(t, "GetBudget after reset", err, store.ErrNotFound)
	if b, ok := reserve(t, s, store.BudgetPassword, key, at(0)); !ok || b.Failures != 1 {
		t.Fatalf("after a reset: granted=%v %+v, want a fresh budget", ok, b)
	}
	wantNoErr(t, "ResetBudget of an unknown budget", s.ResetBudget(ctx, store.BudgetPassword, randomID(t)))
}

func testBudgetSeparate(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := randomID(t), randomID(t)
	for range 5 {
		reserve(t, s, store.BudgetPassword, a, at(0))
	}
	if _, ok := reserve(t, s, store.BudgetPassword, a, at(0)); ok {
		t.Fatal("the 6th password attempt was granted")
	}
	if _, ok := reserve(t, s, store.BudgetSecondFactor, a, at(0)); !ok {
		t.Fatal("password failures used up the second-factor budget of the same key")
	}
	if _, ok := reserve(t, s, store.BudgetPassword, b, at(0)); !ok {
		t.Fatal("one key's failures used up another key's budget")
	}
	wantNoErr(t, "ResetBudget", s.ResetBudget(ctx, store.BudgetSecondFactor, a))
	got, err := s.GetBudget(ctx, store.BudgetPassword, a)
	wantNoErr(t, "GetBudget", err)
	if got.Failures != 5 {
		t.Fatalf("resetting the second-factor budget changed the password budget: %+v", got)
	}
}

func testBudgetNotFound(t *testing.T, s store.Store) {
	_, err := s.GetBudget(t.Context(), store.BudgetPassword, randomID(t))
	wantErr(t, "GetBudget", err, store.ErrNotFound)
}

func testBudgetForgetIdle(t *testing.T, s store.Store) {
	ctx := t.Context()
	old, recent, locked, other := randomID(t), randomID(t), randomID(t), randomID(t)
	reserve(t, s, store.BudgetPassword, old, at(0))
	reserve(t, s, store.BudgetSecondFactor, other, at(0))
	reserve(t, s, store.BudgetPassword, recent, at(24*time.Hour))
	rule := throttle.Policy{FreeAttempts: 3, FirstDelay: time.Second, MaxDelay: time.Second, MaxFailures: 3}
	for range 3 {
		_, ok, err := s.ReserveAttempt(ctx, store.BudgetPassword, locked, rule, at(0))
		wantNoErr(t, "ReserveAttempt", err)
		if !ok {
			t.Fatal("free attempt refused")
		}
	}
	n, err := s.ForgetIdleBudgets(ctx, store.BudgetPassword, at(24*time.Hour), 3)
	wantNoErr(t, "ForgetIdleBudgets", err)
	if n != 1 {
		t.Errorf("ForgetIdleBudgets deleted %d budgets, want 1", n)
	}
	_, err = s.GetBudget(ctx, store.BudgetPassword, old)
	wantErr(t, "idle budget", err, store.ErrNotFound)
	for name, b := range map[string][2]string{
		"recent": {store.BudgetPassword, recent}, "locked": {store.BudgetPassword, locked}, "other kind": {store.BudgetSecondFactor, other},
	} {
		if _, err := s.GetBudget(ctx, b[0], b[1]); err != nil {
			t.Errorf("%s budget: %v, want it kept", name, err)
		}
	}
	if n, err := s.ForgetIdleBudgets(ctx, store.BudgetPassword, at(24*time.Hour), 3); err != nil || n != 0 {
		t.Errorf("second ForgetIdleBudgets: %d, %v; want 0, nil", n, err)
	}
}

// raceReserve runs parallel reservations on one budget at now and counts the granted ones.
func raceReserve(t *testing.T, s store.Store, key string, now time.Time) int {
	t.Helper()
	errs := race(parallel, func(int) error {
		_, ok, err := s.ReserveAttempt(t.Context(), store.BudgetSecondFactor, key, throttle.Default, now)
		if err == nil && !ok {
			return store.ErrNotFound
		}
		return err
	})
	granted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			granted++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("reservation %d failed with %v, want granted or refused", i, err)
		}
	}
	return granted
}

func testRaceBudgetFresh(t *testing.T, s store.Store) {
	key := randomID(t)
	if n := raceReserve(t, s, key, at(0)); n != 5 {
		t.Fatalf("%d of %d parallel reservations on a fresh budget were granted, want the 5 free ones", n, parallel)
	}
	b, err := s.GetBudget(t.Context(), store.BudgetSecondFactor, key)
	wantNoErr(t, "GetBudget", err)
	if b.Failures != 5 {
		t.Fatalf("budget counts %d failures, want 5", b.Failures)
	}
}

func testRaceBudgetWait(t *testing.T, s store.Store) {
	key := randomID(t)
	for range 5 {
		reserve(t, s, store.BudgetSecondFactor, key, at(0))
	}
	if n := raceReserve(t, s, key, at(30*time.Second)); n != 1 {
		t.Fatalf("%d of %d parallel reservations after the 30s wait were granted, want exactly 1", n, parallel)
	}
	if n := raceReserve(t, s, key, at(89*time.Second)); n != 0 {
		t.Fatalf("%d reservations granted before the next 1m wait ended, want 0", n)
	}
}

// testRaceBudgetRelease: every reservation released in parallel leaves no budget behind
// (two releases must never both see the same count and take back only one).
func testRaceBudgetRelease(t *testing.T, s store.Store) {
	key := randomID(t)
	for range 5 {
		reserve(t, s, store.BudgetSecondFactor, key, at(0))
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if err := s.ReleaseAttempt(context.Background(), store.BudgetSecondFactor, key, throttle.Default); err != nil {
				t.Errorf("ReleaseAttempt: %v", err)
			}
		})
	}
	wg.Wait()
	if b, err := s.GetBudget(t.Context(), store.BudgetSecondFactor, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after 5 parallel releases of 5 reservations the budget is %+v (%v), want none", b, err)
	}
}

// testBudgetRelease: a released attempt is one failure less and the wait it imposed goes
// back to the one before; the last one deletes the budget; a budget without failures is
// left alone.
func testBudgetRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := randomID(t)
	wantNoErr(t, "ReleaseAttempt of no budget", s.ReleaseAttempt(ctx, store.BudgetSecondFactor, key, throttle.Default))
	for i := range 7 { // an hour apart: each is granted; the 7th leaves a 2m wait
		if _, ok := reserve(t, s, store.BudgetSecondFactor, key, at(time.Duration(i)*time.Hour)); !ok {
			t.Fatalf("reservation %d refused", i+1)
		}
	}
	for _, want := range []struct {
		failures int
		delay    time.Duration
	}{{6, time.Minute}, {5, 30 * time.Second}, {4, 0}} {
		wantNoErr(t, "ReleaseAttempt", s.ReleaseAttempt(ctx, store.BudgetSecondFactor, key, throttle.Default))
		b, err := s.GetBudget(ctx, store.BudgetSecondFactor, key)
		wantNoErr(t, "GetBudget", err)
		if b.Failures != want.failures || b.Delay != want.delay {
			t.Fatalf("after a release: %d failures, wait %s; want %d, %s", b.Failures, b.Delay, want.failures, want.delay)
		}
	}
	for range 4 {
		wantNoErr(t, "ReleaseAttempt", s.ReleaseAttempt(ctx, store.BudgetSecondFactor, key, throttle.Default))
	}
	if _, err := s.GetBudget(ctx, store.BudgetSecondFactor, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetBudget after the last release = %v, want ErrNotFound", err)
	}
	wantNoErr(t, "ReleaseAttempt of no budget", s.ReleaseAttempt(ctx, store.BudgetSecondFactor, key, throttle.Default))
}

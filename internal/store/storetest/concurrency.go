package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// parallel is how many goroutines race in each concurrency test.
const parallel = 50

var concurrencyTests = []subtest{
	{"AcceptTOTPStepOneWinner", testRaceTOTPStep},
	{"ClaimPendingTOTPOneWinner", testRacePendingClaim},
	{"ConsumeRecoveryCodeOneWinner", testRaceRecovery},
	{"StepUpSessionOneWinner", testRaceStepUp},
	{"DeletedSessionNotFoundAtOnce", testRaceDeletedSession},
	{"TransactionsStayAtomic", testRaceTransactions},
	{"AccountLockLosesNoUpdate", testRaceAccountLock},
}

// race runs fn(i) for i in 0..n-1 on n goroutines released at the same moment, and
// returns each call's error.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one call succeeded and every other one failed with
// ErrNotFound (not with a lock timeout or another error), and returns the winner.
func oneWinner(t *testing.T, what string, errs []error) int {
	t.Helper()
	winner, wins := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			winner = i
			wins++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("%s: goroutine %d failed with %v, want nil or ErrNotFound", what, i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%s: %d of %d goroutines won, want exactly 1", what, wins, len(errs))
	}
	return winner
}

func testRaceTOTPStep(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustPutTOTP(t, s, u.ID)
	step := c.LastStep + 1
	errs := race(parallel, func(i int) error {
		return s.AcceptTOTPStep(ctx, u.ID, step, at(time.Duration(i)*time.Millisecond))
	})
	oneWinner(t, "AcceptTOTPStep", errs)
	if got := getTOTP(t, s, u.ID); got.LastStep != step {
		t.Errorf("LastStep = %d, want %d", got.LastStep, step)
	}
}

func testRacePendingClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	p := pendingFixture(t, u.ID)
	wantNoErr(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, p))
	errs := race(parallel, func(int) error { return s.ClaimPendingTOTP(ctx, u.ID, p.SessionID, p.SecretEnc) })
	oneWinner(t, "ClaimPendingTOTP", errs)
}

func testRaceRecovery(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	c := mustPutRecovery(t, s, u.ID)
	fresh := make([][]byte, parallel)
	for i := range fresh {
		fresh[i] = randomBytes(t, 32)
	}
	errs := race(parallel, func(i int) error {
		return s.ConsumeRecoveryCode(ctx, u.ID, c.CodeHash, fresh[i], at(time.Minute))
	})
	w := oneWinner(t, "ConsumeRecoveryCode", errs)
	if got := getRecovery(t, s, u.ID); !bytes.Equal(got.CodeHash, fresh[w]) {
		t.Errorf("active code hash = %x, want the winner's new hash %x", got.CodeHash, fresh[w])
	}
}

func testRaceStepUp(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	x := sessionFixture(t, u.ID, at(0))
	x.State, x.AMR = store.StateMFARequired, []string{"pwd"}
	wantNoErr(t, "CreateSession", s.CreateSession(ctx, x))
	ups := make([]*store.Session, parallel)
	for i := range ups {
		ups[i] = &store.Session{TokenHash: randomBytes(t, 32), State: store.StateAuthenticated, AMR: []string{"pwd", "otp", "mfa"},
			AuthTime: at(time.Minute), LastSeenAt: at(time.Minute), ExpiresAt: at(12 * time.Hour)}
	}
	errs := race(parallel, func(i int) error { return s.StepUpSession(ctx, x.ID, x.TokenHash, ups[i]) })
	w := oneWinner(t, "StepUpSession", errs)
	if got := getSession(t, s, ups[w].TokenHash); got.ID != x.ID || got.State != store.StateAuthenticated {
		t.Errorf("winner's token leads to session %s in state %s, want %s authenticated", got.ID, got.State, x.ID)
	}
	for i, up := range ups {
		if i == w {
			continue
		}
		if _, err := s.GetSessionByToken(ctx, up.TokenHash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("loser %d's token: got %v, want ErrNotFound", i, err)
		}
	}
	_, err := s.GetSessionByToken(ctx, x.TokenHash)
	wantErr(t, "GetSessionByToken(old token)", err, store.ErrNotFound)
}

func testRaceDeletedSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	for round := range 10 {
		x := mustCreateSession(t, s, u.ID, at(0))
		// Warm every pooled connection with the live session first.
		for i, err := range race(8, func(int) error { _, err := s.GetSessionByToken(ctx, x.TokenHash); return err }) {
			wantNoErr(t, fmt.Sprintf("round %d: reader %d before delete", round, i), err)
		}
		if round%2 == 0 {
			wantNoErr(t, "DeleteSession", s.DeleteSession(ctx, x.ID))
		} else {
			_, err := s.DeleteUserSessions(ctx, u.ID, "")
			wantNoErr(t, "DeleteUserSessions", err)
		}
		for i, err := range race(parallel, func(int) error { _, err := s.GetSessionByToken(ctx, x.TokenHash); return err }) {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("round %d: reader %d right after delete: got %v, want ErrNotFound", round, i, err)
			}
		}
	}
}

// testRaceTransactions runs the recovery-code flow (read, consume, audit) in parallel
// transactions: whatever the isolation level, no goroutine may fail with anything but
// ErrNotFound, and an audit row exists for each successful consumption only.
func testRaceTransactions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	mustPutRecovery(t, s, u.ID)
	errs := race(parallel, func(i int) error {
		return s.WithTx(ctx, func(tx store.Store) error {
			c, err := tx.GetRecoveryCode(ctx, u.ID)
			if err != nil {
				return err
			}
			fresh := []byte(fmt.Sprintf("fresh-%02d", i))
			if err := tx.ConsumeRecoveryCode(ctx, u.ID, c.CodeHash, fresh, at(time.Minute)); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &store.AuditEvent{At: at(time.Minute), Event: "recovery_code.used", SubjectID: u.ID, Detail: string(fresh)})
		})
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("transaction %d failed with %v, want nil or ErrNotFound", i, err)
		}
	}
	if wins == 0 {
		t.Fatal("no transaction committed")
	}
	events := listAudit(t, s, store.AuditFilter{UserID: u.ID})
	if len(events) != wins {
		t.Errorf("%d audit events for %d committed transactions", len(events), wins)
	}
	if len(events) > 0 {
		if got := getRecovery(t, s, u.ID); string(got.CodeHash) != events[0].Detail {
			t.Errorf("active code %q is not the one the last committed transaction wrote (%q)", got.CodeHash, events[0].Detail)
		}
	}
}

// testRaceAccountLock: transactions that take the account's lock first, then read the
// display name and write it back one higher, lose no update. On PostgreSQL (read
// committed) without the lock, two of them read the same name and one write is lost.
func testRaceAccountLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	wantNoErr(t, "SetUserDisplayName", s.SetUserDisplayName(ctx, u.ID, "0", at(0)))
	const n = 20
	errs := race(n, func(i int) error {
		return s.WithTx(ctx, func(tx store.Store) error {
			if err := tx.LockAccount(ctx, u.ID); err != nil {
				return err
			}
			got, err := tx.GetUser(ctx, u.ID)
			if err != nil {
				return err
			}
			var v int
			if _, err := fmt.Sscan(got.DisplayName, &v); err != nil {
				return err
			}
			return tx.SetUserDisplayName(ctx, u.ID, fmt.Sprint(v+1), at(time.Duration(i)*time.Millisecond))
		})
	})
	for i, err := range errs {
		wantNoErr(t, fmt.Sprintf("goroutine %d", i), err)
	}
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser", err)
	if got.DisplayName != fmt.Sprint(n) {
		t.Errorf("display name after %d increments = %q, want %d: an update was lost", n, got.DisplayName, n)
	}
}

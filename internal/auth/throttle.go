package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// attempt is a slot reserved in a failure budget before a password or code is checked. It
// counts as a failure until a success resets the budget.
type attempt struct {
	kind, key string
	failures  int // the budget's consecutive failures, this attempt included
}

// loginKey is the password budget of an identifier that matches no account: the SHA-256 of
// its normalised form, so a name typed by mistake (or a password typed into the username
// field) is never stored in clear.
func loginKey(norm string) string {
	h := sha256.Sum256([]byte(norm))
	return "login:" + hex.EncodeToString(h[:])
}

// reserve takes a slot in the budget (kind, key) with one conditional write, before anything
// is checked. When the budget allows no attempt now, the refusal is audited (subject is the
// user, or "" for an unknown identifier) and an apperr throttled error is returned: nothing
// was hashed or compared. Known and unknown identifiers take exactly the same path.
//
// Refusals are counted, not listed: every refusal during one waiting period of a budget
// (the wait after one failure, or the whole lock) adds to one throttle.refused row, which
// keeps the first refusal's address and detail. A flood of early attempts costs the audit
// log one row per period, on every instance alike.
func (s *Service) reserve(ctx context.Context, kind, key, subject string, m Meta) (*attempt, error) {
	now := s.now()
	b, granted, err := s.store.ReserveAttempt(ctx, kind, key, s.throttle, now)
	if err != nil {
		return nil, err
	}
	if granted {
		return &attempt{kind: kind, key: key, failures: b.Failures}, nil
	}
	locked, wait := false, time.Second // a parallel reset left nothing to show: try again soon
	if b != nil {
		locked = s.throttle.Locked(b.Failures)
		if w := b.NextAt().Sub(now); w > wait {
			wait = w
		}
	}
	detail := fmt.Sprintf("budget=%s refused: retry in %s", kind, wait.Round(time.Second))
	if locked {
		detail = fmt.Sprintf("budget=%s refused: locked after %d failures", kind, b.Failures)
	}
	period := "" // a parallel reset left no period: the refusal is a row of its own
	if b != nil {
		period = fmt.Sprintf("%s/%s/%s/%d", audit.ThrottleRefused, kind, key, b.LastAt.UnixMilli())
	}
	audit.Aside(ctx, s.log, audit.ThrottleRefused, subject,
		audit.RecordCounted(ctx, s.store, now, period, audit.ThrottleRefused, subject, m, detail))
	return nil, throttledError(locked, wait)
}

// attemptFailed audits what a failed attempt did to its budget: a wait before the next
// attempt, or the lock once the failure limit is reached.
func (s *Service) attemptFailed(ctx context.Context, a *attempt, subject string, m Meta) {
	if a == nil {
		return
	}
	switch {
	case s.throttle.Locked(a.failures):
		s.recordAside(ctx, audit.ThrottleLocked, subject, m,
			fmt.Sprintf("budget=%s locked after %d consecutive failures", a.kind, a.failures))
	case a.failures >= s.throttle.FreeAttempts:
		s.recordAside(ctx, audit.ThrottleDelayed, subject, m,
			fmt.Sprintf("budget=%s failures=%d next attempt in %s", a.kind, a.failures, s.throttle.Delay(a.failures)))
	}
}

// release takes back a reserved attempt whose check was refused for another reason than a
// wrong password or code (a used link, a busy hasher, a store error): it is no failure.
// A release that fails is logged; the slot then stays counted until the next success.
func (s *Service) release(ctx context.Context, a *attempt) {
	if a == nil {
		return
	}
	if err := s.store.ReleaseAttempt(context.WithoutCancel(ctx), a.kind, a.key, s.throttle); err != nil {
		s.log.ErrorContext(ctx, "release a throttle attempt", "budget", a.kind, "err", err)
	}
}

// throttledError is the 429 answer. Its message is the same for every identifier, known or not.
func throttledError(locked bool, wait time.Duration) error {
	if locked {
		return apperr.Msg(apperr.CodeThrottled, "err.throttled_locked")
	}
	e := apperr.Msg(apperr.CodeThrottled, "err.throttled_seconds", "Count", waitSeconds(wait))
	if secs := waitSeconds(wait); secs > 90 {
		e = apperr.Msg(apperr.CodeThrottled, "err.throttled_minutes", "Count", (secs+59)/60)
	}
	e.RetryAfter = wait
	return e
}

// waitSeconds is a wait in whole seconds, rounded up; the message says minutes beyond 90
// seconds.
func waitSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

// Unlock forgets every failure of the user's password and second-factor budgets, so a
// locked or waiting account can sign in again at once. It is audited.
func (s *Service) Unlock(ctx context.Context, u *store.User, m Meta) error {
	return s.accountTx(ctx, u.ID, func(st store.Store) error {
		// In the order a password reset takes these rows (second-factor budget, password
		// budget, then the account), so that on PostgreSQL one waits for the other instead
		// of the two deadlocking; a token that may not change the account rolls it back.
		for _, kind := range []string{store.BudgetSecondFactor, store.BudgetPassword} {
			if err := st.ResetBudget(ctx, kind, u.ID); err != nil {
				return err
			}
		}
		if err := TokenMayChangeIn(ctx, st, u.ID, m); err != nil {
			return err
		}
		return s.record(ctx, st, audit.ThrottleCleared, u.ID, m, "password and second-factor budgets reset")
	})
}

// Budgets returns the user's password and second-factor budgets (nil when without failures).
func (s *Service) Budgets(ctx context.Context, u *store.User) (pw, second *store.ThrottleBudget, err error) {
	get := func(kind string) (*store.ThrottleBudget, error) {
		b, err := s.store.GetBudget(ctx, kind, u.ID)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return b, nil
		}
		return nil, err
	}
	if pw, err = get(store.BudgetPassword); err != nil {
		return nil, nil, err
	}
	second, err = get(store.BudgetSecondFactor)
	return pw, second, err
}

// forgetIdleBudgets deletes unlocked password budgets idle for longer than the configured
// time. The rule looks only at the budget, never at whether its key is an account, so it
// treats unknown identifiers exactly like known ones.
func (s *Service) forgetIdleBudgets(ctx context.Context, now time.Time) (int, error) {
	return s.store.ForgetIdleBudgets(ctx, store.BudgetPassword, now.Add(-s.throttle.ForgetAfter), s.throttle.MaxFailures)
}

// LockFailures is the number of consecutive failures that locks a budget.
func (s *Service) LockFailures() int { return s.throttle.MaxFailures }

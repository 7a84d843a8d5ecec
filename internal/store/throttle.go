package store

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/throttle"
)

// Failure budget kinds: the password step, and the second factor (authenticator codes and
// the recovery code together), so that guessing one never locks the other.
const (
	BudgetPassword     = "password"
	BudgetSecondFactor = "second_factor"
)

// ThrottleBudget is the state of one failure budget. A reserved attempt counts as a failure
// until a success resets the budget.
type ThrottleBudget struct {
	Kind     string
	Key      string
	Failures int           // consecutive failures (reserved attempts) since the last success
	Delay    time.Duration // the wait the last failure imposed
	LastAt   time.Time     // when the last attempt was reserved
}

// NextAt is the earliest time another attempt may be granted (unless the budget is locked).
func (b *ThrottleBudget) NextAt() time.Time { return b.LastAt.Add(b.Delay) }

// ThrottleStore holds failure budgets and throttling state shared by all instances .
// Its methods follow the same rules as Store's: atomic on their own, sentinel errors.
type ThrottleStore interface {
	// ReserveAttempt counts one attempt against the budget (kind, key) with one conditional
	// write, but only while the policy allows an attempt at now: fewer than p.MaxFailures
	// failures and the wait after the last one over (p.Delay of the failures so far). granted reports whether it did; b is the
	// budget after the reservation, or as it stands when refused (nil when a parallel reset
	// left nothing to show). However many reservations race, no more are granted than the
	// policy allows. Never call it inside WithTx: a rolled-back reservation would not count.
	ReserveAttempt(ctx context.Context, kind, key string, p throttle.Policy, now time.Time) (b *ThrottleBudget, granted bool, err error)
	// ReleaseAttempt takes back one reserved attempt that turned out not to be a failure
	// (the check was refused for another reason than a wrong password or code): one failure
	// less, the wait set back to what it was before it under policy p, and the budget
	// deleted when no failure is left. A budget without failures (a success reset it
	// meanwhile) is left alone. Never call it inside WithTx.
	ReleaseAttempt(ctx context.Context, kind, key string, p throttle.Policy) error
	// GetBudget returns the budget, or ErrNotFound when it has no failures.
	GetBudget(ctx context.Context, kind, key string) (*ThrottleBudget, error)
	// ResetBudget forgets every failure of the budget (after a success, or an administrator's
	// unlock). Resetting a budget without failures is not an error.
	ResetBudget(ctx context.Context, kind, key string) error
	// ForgetIdleBudgets deletes the budgets of kind whose last attempt was before idleBefore
	// and that have fewer than maxFailures failures (locked budgets stay), and returns how
	// many it deleted. It is idempotent.
	ForgetIdleBudgets(ctx context.Context, kind string, idleBefore time.Time, maxFailures int) (int, error)
}

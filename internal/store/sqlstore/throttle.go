package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// ReserveAttempt counts one attempt against a budget in a single conditional upsert. The
// whole policy is in the statement (zero fields take throttle.Default's): an existing row is only updated while it has fewer than
// MaxFailures failures and its wait is over, and the wait it leaves is 0 within the free
// attempts, then FirstDelay, doubling up to MaxDelay. Both PostgreSQL and SQLite apply the
// upsert's WHERE to the latest committed row under a row (or database) lock, so parallel
// reservations are granted one by one and the rule holds across instances.
func (d *DB) ReserveAttempt(ctx context.Context, kind, key string, p throttle.Policy, now time.Time) (*store.ThrottleBudget, bool, error) {
	rule := p.OrDefault()
	first, maxDelay := rule.FirstDelay.Milliseconds(), rule.MaxDelay.Milliseconds()
	initial := int64(0)
	if rule.FreeAttempts <= 1 {
		initial = first
	}
	b := &store.ThrottleBudget{Kind: kind, Key: key}
	var delay, last int64
	err := d.queryRow(ctx, `INSERT INTO throttle_budgets (kind, bkey, failures, delay_ms, last_at)
		VALUES (?, ?, 1, ?, ?)
		ON CONFLICT (kind, bkey) DO UPDATE SET
			failures = throttle_budgets.failures + 1,
			delay_ms = CASE
				WHEN throttle_budgets.failures + 1 < ? THEN 0
				WHEN throttle_budgets.delay_ms < ? THEN ?
				WHEN throttle_budgets.delay_ms * 2 > ? THEN ?
				ELSE throttle_budgets.delay_ms * 2 END,
			last_at = ?
		WHERE throttle_budgets.failures < ? AND throttle_budgets.last_at + throttle_budgets.delay_ms <= ?
		RETURNING failures, delay_ms, last_at`,
		kind, key, initial, ms(now),
		rule.FreeAttempts, first, first, maxDelay, maxDelay,
		ms(now),
		rule.MaxFailures, ms(now),
	).Scan(&b.Failures, &delay, &last)
	if err == nil {
		b.Delay, b.LastAt = time.Duration(delay)*time.Millisecond, fromMS(last)
		return b, true, nil
	}
	if err = d.wrap(err); !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	cur, err := d.GetBudget(ctx, kind, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil // reset between the two statements
	}
	if err != nil {
		return nil, false, err
	}
	return cur, false, nil
}

// ReleaseAttempt takes one failure off a budget: a budget with one left is deleted, one
// with more loses one, and its wait halves (not below FirstDelay) or, back within the free
// attempts, goes. Parallel releases each take one off; a reservation between the two
// statements keeps its budget.
func (d *DB) ReleaseAttempt(ctx context.Context, kind, key string, p throttle.Policy) error {
	rule := p.OrDefault()
	first := rule.FirstDelay.Milliseconds()
	// One conditional decrement per release: parallel releases each take one off (a delete
	// of the last one first, then an update, let two releases of 2 leave 1 on PostgreSQL,
	// where the second update no longer matched "failures > 1"). A budget left at zero is
	// then deleted, unless a reservation counted into it meanwhile.
	if _, err := d.exec(ctx, `UPDATE throttle_budgets SET
			failures = failures - 1,
			delay_ms = CASE
				WHEN failures - 1 < ? THEN 0
				WHEN delay_ms / 2 < ? THEN ?
				ELSE delay_ms / 2 END
		WHERE kind = ? AND bkey = ? AND failures > 0`,
		rule.FreeAttempts, first, first, kind, key); err != nil {
		return err
	}
	_, err := d.exec(ctx, `DELETE FROM throttle_budgets WHERE kind = ? AND bkey = ? AND failures <= 0`, kind, key)
	return err
}

// GetBudget returns the budget or ErrNotFound.
func (d *DB) GetBudget(ctx context.Context, kind, key string) (*store.ThrottleBudget, error) {
	b := &store.ThrottleBudget{Kind: kind, Key: key}
	var delay, last int64
	err := d.queryRow(ctx, `SELECT failures, delay_ms, last_at FROM throttle_budgets WHERE kind = ? AND bkey = ?`,
		kind, key).Scan(&b.Failures, &delay, &last)
	if err != nil {
		return nil, d.wrap(err)
	}
	b.Delay, b.LastAt = time.Duration(delay)*time.Millisecond, fromMS(last)
	return b, nil
}

// ResetBudget deletes the budget.
func (d *DB) ResetBudget(ctx context.Context, kind, key string) error {
	_, err := d.exec(ctx, `DELETE FROM throttle_budgets WHERE kind = ? AND bkey = ?`, kind, key)
	return err
}

// ForgetIdleBudgets deletes idle budgets of kind that are not locked.
func (d *DB) ForgetIdleBudgets(ctx context.Context, kind string, idleBefore time.Time, maxFailures int) (int, error) {
	res, err := d.exec(ctx, `DELETE FROM throttle_budgets WHERE kind = ? AND last_at < ? AND failures < ?`,
		kind, ms(idleBefore), maxFailures)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), d.wrap(err)
}

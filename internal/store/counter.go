package store

import (
	"context"
	"time"
)

// CounterStore counts actions per fixed time window in the database, so a cap on the whole
// service (not per client) holds however many instances run. Its methods follow the same
// rules as Store's: atomic on their own, sentinel errors.
type CounterStore interface {
	// TakeFromWindow counts one action against the window (name, start) when fewer than
	// limit (at least 1) were counted in it, with one conditional write. When the window is
	// full it counts a refusal instead and returns granted false and the window's refusals,
	// this one included: of any number of racing callers exactly one sees refusals == 1.
	// However many race, no more than limit are granted. Inside WithTx the take is the
	// transaction's: it counts only if the transaction commits, and holds the window until
	// then (a parallel take of it waits). Take there only an allowance that an action
	// refused later in the transaction should not spend, and never to count failures: a
	// rolled-back count would not count, nor would a refusal. DeleteExpired removes
	// windows that started more than a day before its now.
	TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (granted bool, refusals int, err error)
}

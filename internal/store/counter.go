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
	// However many race, no more than limit are granted. Never call it inside WithTx: a
	// rolled-back count would not count. DeleteExpired removes windows that started more
	// than a day before its now.
	TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (granted bool, refusals int, err error)
}

package throttle

import (
	"context"
	"time"
)

// Windows counts takes per named window in the database, so a count holds across every
// instance (store.CounterStore is one).
type Windows interface {
	TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (granted bool, refusals int, err error)
}

// Hourly is the outcome of one take from a clock hour's allowance.
type Hourly struct {
	Granted bool
	// FirstRefusal is true for exactly one refused take per window and hour, on whichever
	// instance: the one to audit or log, so a flood of refusals makes one row.
	FirstRefusal bool
	Hour         time.Time // the window's start (UTC)
}

// RetryAfter is how long until the next hour's allowance, seen at now.
func (h Hourly) RetryAfter(now time.Time) time.Duration { return h.Hour.Add(time.Hour).Sub(now) }

// TakeHourly takes one from the allowance of limit per clock hour (UTC) of the window
// name, in one conditional write.
func TakeHourly(ctx context.Context, w Windows, name string, now time.Time, limit int) (Hourly, error) {
	hour := now.UTC().Truncate(time.Hour)
	ok, refusals, err := w.TakeFromWindow(ctx, name, hour, limit)
	return Hourly{Granted: ok, FirstRefusal: !ok && refusals == 1, Hour: hour}, err
}

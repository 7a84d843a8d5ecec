package sqlstore_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

// dbErrors counts the database errors a DB reports.
type dbErrors struct {
	metrics.Nop
	mu                 sync.Mutex
	other, unavailable int
}

func (e *dbErrors) DatabaseError(unavailable bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if unavailable {
		e.unavailable++
	} else {
		e.other++
	}
}

func (e *dbErrors) counts() (other, unavailable int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.other, e.unavailable
}

// TestDatabaseErrorsAreCounted: a missing row or a conflict is an answer, not a database
// error; a database that fails or cannot be reached is, also inside a transaction.
func TestDatabaseErrorsAreCounted(t *testing.T) {
	db, _ := openTemp(t)
	errs := &dbErrors{}
	db.SetMetrics(errs)
	ctx := t.Context()
	if _, err := db.GetUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser of no one: %v", err)
	}
	if o, u := errs.counts(); o != 0 || u != 0 {
		t.Fatalf("a missing row counted as a database error: %d, %d", o, u)
	}
	db.Close()
	if _, err := db.GetUser(ctx, "nobody"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser on a closed database: %v", err)
	}
	if err := db.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping of a closed database: %v", err)
	}
	if o, u := errs.counts(); o != 1 || u != 1 {
		t.Errorf("database errors counted: %d errors and %d unavailable, want 1 and 1", o, u)
	}
}

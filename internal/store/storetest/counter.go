package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var counterTests = []subtest{
	{"TakesUpToTheLimitThenCountsRefusals", testWindowLimit},
	{"WindowsAreSeparateByNameAndStart", testWindowSeparate},
	{"ParallelTakesStopAtTheLimitAndOneSeesTheFirstRefusal", testRaceWindow},
	{"DeleteExpiredForgetsWindowsOlderThanADay", testWindowExpiry},
	{"TakesInTransactionsCountOnlyWhenCommitted", testWindowInTx},
}

// take counts one action and returns what the store answered.
func take(t testing.TB, s store.Store, name string, start time.Time, limit int) (bool, int) {
	t.Helper()
	ok, refusals, err := s.TakeFromWindow(t.Context(), name, start, limit)
	wantNoErr(t, "TakeFromWindow", err)
	return ok, refusals
}

func testWindowLimit(t *testing.T, s store.Store) {
	for i := 1; i <= 3; i++ {
		if ok, refusals := take(t, s, "mail", at(0), 3); !ok || refusals != 0 {
			t.Fatalf("action %d of 3: granted=%v refusals=%d, want granted", i, ok, refusals)
		}
	}
	for i := 1; i <= 3; i++ {
		if ok, refusals := take(t, s, "mail", at(0), 3); ok || refusals != i {
			t.Fatalf("action %d past the limit: granted=%v refusals=%d, want refused as refusal %d", 3+i, ok, refusals, i)
		}
	}
	// A higher limit (the configuration changed) grants again.
	if ok, _ := take(t, s, "mail", at(0), 4); !ok {
		t.Fatal("a raised limit did not grant")
	}
}

func testWindowSeparate(t *testing.T, s store.Store) {
	if ok, _ := take(t, s, "mail", at(0), 1); !ok {
		t.Fatal("first action refused")
	}
	if ok, _ := take(t, s, "mail", at(0), 1); ok {
		t.Fatal("second action in a window of 1 granted")
	}
	if ok, _ := take(t, s, "mail", at(time.Hour), 1); !ok {
		t.Fatal("the next window shares the count")
	}
	if ok, _ := take(t, s, "other", at(0), 1); !ok {
		t.Fatal("another counter shares the count")
	}
}

func testRaceWindow(t *testing.T, s store.Store) {
	granted := make([]bool, parallel)
	refusals := make([]int, parallel)
	errs := race(parallel, func(i int) error {
		var err error
		granted[i], refusals[i], err = s.TakeFromWindow(t.Context(), "mail", at(0), 10)
		return err
	})
	n, first := 0, 0
	for i, err := range errs {
		wantNoErr(t, "TakeFromWindow", err)
		if granted[i] {
			n++
		}
		if refusals[i] == 1 {
			first++
		}
	}
	if n != 10 || first != 1 {
		t.Fatalf("%d of %d parallel actions granted and %d saw the first refusal, want 10 and 1", n, parallel, first)
	}
}

func testWindowExpiry(t *testing.T, s store.Store) {
	take(t, s, "mail", at(0), 1)
	take(t, s, "mail", at(23*time.Hour), 1)
	if _, err := s.DeleteExpired(t.Context(), at(24*time.Hour), at(0)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := take(t, s, "mail", at(23*time.Hour), 1); ok {
		t.Fatal("a window of the last day was deleted")
	}
	if _, err := s.DeleteExpired(t.Context(), at(24*time.Hour+time.Millisecond), at(0)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := take(t, s, "mail", at(0), 1); !ok {
		t.Fatal("a window that started more than a day ago was kept")
	}
}

// testWindowInTx takes inside parallel transactions, every other one of which rolls back
// after its take. A rolled-back take counts nothing: with a limit above the committed
// takes but below all takes, every committed one is granted, and the rest of the limit is
// still there to take, not a take more.
func testWindowInTx(t *testing.T, s store.Store) {
	errRollback := errors.New("rolled back on purpose")
	const limit = parallel/2 + 5
	granted := make([]bool, parallel)
	errs := race(parallel, func(i int) error {
		return s.WithTx(t.Context(), func(tx store.Store) error {
			ok, _, err := tx.TakeFromWindow(t.Context(), "mail", at(0), limit)
			if err != nil {
				return err
			}
			granted[i] = ok
			if i%2 == 1 {
				return errRollback
			}
			return nil
		})
	})
	committed := 0
	for i, err := range errs {
		if i%2 == 1 {
			if !errors.Is(err, errRollback) {
				t.Fatalf("transaction %d: %v, want the rollback", i, err)
			}
			continue
		}
		wantNoErr(t, "WithTx(TakeFromWindow)", err)
		if granted[i] {
			committed++
		}
	}
	if committed != parallel/2 {
		t.Fatalf("%d of %d committed takes granted under a limit of %d: rolled-back takes counted", committed, parallel/2, limit)
	}
	for i := committed; i < limit; i++ {
		if ok, _ := take(t, s, "mail", at(0), limit); !ok {
			t.Fatalf("take %d of %d refused after %d committed", i+1, limit, committed)
		}
	}
	if ok, _ := take(t, s, "mail", at(0), limit); ok {
		t.Fatalf("take %d of a limit of %d granted", limit+1, limit)
	}
}

package storetest

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var counterTests = []subtest{
	{"TakesUpToTheLimitThenCountsRefusals", testWindowLimit},
	{"WindowsAreSeparateByNameAndStart", testWindowSeparate},
	{"ParallelTakesStopAtTheLimitAndOneSeesTheFirstRefusal", testRaceWindow},
	{"DeleteExpiredForgetsWindowsOlderThanADay", testWindowExpiry},
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

package throttle_test

import (
	"context"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/throttle"
)

// windows counts like the store does: takes per name and window start.
type windows map[string]int

func (w windows) TakeFromWindow(_ context.Context, name string, start time.Time, limit int) (bool, int, error) {
	k := name + start.Format(time.RFC3339)
	w[k]++
	if w[k] <= limit {
		return true, 0, nil
	}
	return false, w[k] - limit, nil
}

func TestTakeHourly(t *testing.T) {
	w := windows{}
	now := time.Date(2026, 11, 30, 8, 20, 30, 0, time.FixedZone("CET", 3600))
	var got []throttle.Hourly
	for range 4 {
		h, err := throttle.TakeHourly(context.Background(), w, "x", now, 2)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h)
	}
	want := []struct{ granted, first bool }{{true, false}, {true, false}, {false, true}, {false, false}}
	for i, h := range got {
		if h.Granted != want[i].granted || h.FirstRefusal != want[i].first {
			t.Errorf("take %d: %+v, want granted=%v first refusal=%v", i+1, h, want[i].granted, want[i].first)
		}
	}
	if hour := got[0].Hour; !hour.Equal(time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("window starts %s, want the clock hour in UTC", hour)
	}
	if d := got[0].RetryAfter(now); d != 39*time.Minute+30*time.Second {
		t.Errorf("RetryAfter %s, want 39m30s", d)
	}
	if h, _ := throttle.TakeHourly(context.Background(), w, "x", now.Add(time.Hour), 2); !h.Granted {
		t.Error("the next hour's allowance was not granted")
	}
}

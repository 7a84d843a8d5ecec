package throttle

import (
	"strings"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, 0}, {4, 0},
		{5, 30 * time.Second},
		{6, time.Minute},
		{7, 2 * time.Minute},
		{8, 4 * time.Minute},
		{9, 8 * time.Minute},
		{10, 15 * time.Minute},
		{11, 15 * time.Minute},
		{99, 15 * time.Minute},
		{1000, 15 * time.Minute},
	} {
		if got := Default.Delay(tc.failures); got != tc.want {
			t.Errorf("Delay(%d) = %s, want %s", tc.failures, got, tc.want)
		}
	}
}

func TestDelayOfAConfiguredPolicy(t *testing.T) {
	p := Policy{FreeAttempts: 2, FirstDelay: 10 * time.Second, MaxDelay: 25 * time.Second, MaxFailures: 10}
	want := []time.Duration{0, 0, 10 * time.Second, 20 * time.Second, 25 * time.Second, 25 * time.Second}
	for n, w := range want {
		if got := p.Delay(n); got != w {
			t.Errorf("Delay(%d) = %s, want %s", n, got, w)
		}
	}
}

func TestZeroPolicyIsTheDefault(t *testing.T) {
	if (Policy{}).OrDefault() != Default {
		t.Fatalf("Policy{}.OrDefault() = %+v, want %+v", (Policy{}).OrDefault(), Default)
	}
	for n := range 120 {
		if (Policy{}).Delay(n) != Default.Delay(n) {
			t.Fatalf("zero policy Delay(%d) differs from the default's", n)
		}
	}
}

func TestCheck(t *testing.T) {
	last := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		failures int
		after    time.Duration // now - last
		want     Decision
	}{
		{"fresh_budget_is_allowed", 0, 0, Decision{Allowed: true}},
		{"fourth_failure_costs_no_wait", 4, 0, Decision{Allowed: true}},
		{"fifth_failure_makes_the_next_attempt_wait_30s", 5, 0, Decision{RetryAfter: 30 * time.Second}},
		{"one_second_before_the_wait_ends", 5, 29 * time.Second, Decision{RetryAfter: time.Second}},
		{"allowed_when_the_wait_is_over", 5, 30 * time.Second, Decision{Allowed: true}},
		{"the_wait_doubles", 6, 59 * time.Second, Decision{RetryAfter: time.Second}},
		{"capped_at_15_minutes", 50, 15 * time.Minute, Decision{Allowed: true}},
		{"99_failures_still_allow_the_100th", 99, 15 * time.Minute, Decision{Allowed: true}},
		{"100_failures_lock_for_good", 100, 1000 * time.Hour, Decision{Locked: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Default.Check(tc.failures, last, last.Add(tc.after)); got != tc.want {
				t.Fatalf("Check(%d, +%s) = %+v, want %+v", tc.failures, tc.after, got, tc.want)
			}
		})
	}
}

// TestNeverMoreThan100Failures walks an attacker who tries as soon as the policy allows,
// on a fake clock: exactly 100 attempts are ever evaluated, however long it keeps trying.
func TestNeverMoreThan100Failures(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	failures, last := 0, time.Time{}
	for range 100_000 {
		d := Default.Check(failures, last, now)
		switch {
		case d.Allowed:
			failures++
			last = now
		case d.Locked:
			now = now.Add(time.Hour)
		default:
			now = now.Add(d.RetryAfter)
		}
	}
	if failures != 100 {
		t.Fatalf("%d attempts evaluated, want 100", failures)
	}
}

func TestAttemptsWithin(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		want   int
	}{
		{0, 5},
		{30 * time.Second, 6},
		{time.Hour, 12},      // 5 at once, 5 more after 30s+1m+2m+4m+8m, then one per 15 min
		{22 * time.Hour, 96}, // the 100th attempt comes after 22h46m
		{23 * time.Hour, 100},
		{365 * 24 * time.Hour, 100}, // and never a 101st
	} {
		if got := Default.AttemptsWithin(tc.window); got != tc.want {
			t.Errorf("AttemptsWithin(%s) = %d, want %d", tc.window, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Policy)
		bad    string // the field named by the problem; empty when valid
	}{
		{"default", func(*Policy) {}, ""},
		{"no_free_attempt", func(p *Policy) { p.FreeAttempts = 0 }, "free_attempts: 0 is outside 1..100"},
		{"first_delay_under_a_second", func(p *Policy) { p.FirstDelay = time.Millisecond }, "first_delay"},
		{"max_below_first", func(p *Policy) { p.MaxDelay = time.Second }, "max_delay"},
		{"max_over_a_day", func(p *Policy) { p.MaxDelay = 25 * time.Hour }, "max_delay"},
		{"more_than_100_failures_NIST", func(p *Policy) { p.MaxFailures = 101 }, "max_failures: 101 is outside"},
		{"limit_below_the_free_attempts", func(p *Policy) { p.MaxFailures = 4 }, "max_failures"},
		{"forget_within_the_hour", func(p *Policy) { p.ForgetAfter = time.Minute }, "forget_after"},
		{"strict", func(p *Policy) {
			*p = Policy{FreeAttempts: 3, FirstDelay: time.Minute, MaxDelay: time.Hour, MaxFailures: 10, ForgetAfter: time.Hour}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Default
			tc.change(&p)
			errs := p.Validate()
			switch {
			case tc.bad == "" && len(errs) > 0:
				t.Fatalf("Validate = %v, want valid", errs)
			case tc.bad != "" && len(errs) != 1:
				t.Fatalf("Validate = %v, want one %s problem", errs, tc.bad)
			case tc.bad != "" && !strings.HasPrefix(errs[0].Error(), tc.bad):
				t.Fatalf("Validate = %v, want a %s problem", errs, tc.bad)
			}
		})
	}
}

func TestPerHour(t *testing.T) {
	r := PerHour(36)
	if r.Burst != 36 || r.PerSecond != 0.01 || !r.On() {
		t.Fatalf("PerHour(36) = %+v", r)
	}
	if (Rate{}).On() || (Rate{PerSecond: 1}).On() {
		t.Fatal("a rate without tokens limits something")
	}
}

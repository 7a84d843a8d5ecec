package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/throttle"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestLimiter(t *testing.T) {
	c := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := New(throttle.Rate{PerSecond: 1, Burst: 3}, c.now) // 1/s, burst 3
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	ok, retry := l.Allow("a")
	if ok || retry <= 0 || retry > time.Second {
		t.Fatalf("4th request: ok=%v retry=%v, want refused with retry in (0, 1s]", ok, retry)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key shares the bucket")
	}
	c.t = c.t.Add(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a token did not come back after 1s")
	}
}

func TestPerHour(t *testing.T) {
	c := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := New(throttle.PerHour(3), c.now)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("x@example.com"); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	ok, retry := l.Allow("x@example.com")
	if ok || retry < 19*time.Minute || retry > 21*time.Minute {
		t.Fatalf("4th: ok=%v retry=%v, want refused for about 20 minutes", ok, retry)
	}
}

func TestIdleBucketsAreDropped(t *testing.T) {
	c := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := New(throttle.Rate{PerSecond: 1, Burst: 2}, c.now)
	for i := 0; i < 1000; i++ {
		l.Allow(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	c.t = c.t.Add(2 * time.Minute)
	l.Allow("fresh")
	if n := len(l.buckets); n != 1 {
		t.Fatalf("%d buckets kept after they all refilled, want 1", n)
	}
}

func TestZeroRateNeverRefills(t *testing.T) {
	c := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := New(throttle.Rate{PerSecond: 0, Burst: 1}, c.now)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("the one request of the burst refused")
	}
	c.t = c.t.Add(24 * time.Hour)
	if ok, retry := l.Allow("a"); ok || retry != time.Hour {
		t.Fatalf("after a day: ok=%v retry=%v, want refused for an hour", ok, retry)
	}
}

// TestRefusalTakesNoToken: a refused request does not push the next allowed one further
// away, however often a client retries.
func TestRefusalTakesNoToken(t *testing.T) {
	c := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := New(throttle.Rate{PerSecond: 1, Burst: 1}, c.now)
	l.Allow("a")
	for range 10 {
		l.Allow("a")
	}
	c.t = c.t.Add(time.Second)
	if ok, retry := l.Allow("a"); !ok {
		t.Fatalf("refused %v after a full second of refused retries", retry)
	}
}

// TestAllowAllocatesNothing: a known key costs no allocation, so a busy limiter makes no
// garbage (and its buckets, holding no pointers, are never walked by the collector).
func TestAllowAllocatesNothing(t *testing.T) {
	l := New(throttle.Rate{PerSecond: 1000, Burst: 1000}, nil)
	l.Allow("10.1.2.3")
	if n := testing.AllocsPerRun(1000, func() { l.Allow("10.1.2.3") }); n != 0 {
		t.Fatalf("Allow of a known key allocates %v times", n)
	}
}

func BenchmarkAllowManyAddresses(b *testing.B) {
	l := New(throttle.Rate{PerSecond: 20, Burst: 40}, nil)
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = AddressKey(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		l.Allow(keys[i%len(keys)])
	}
}

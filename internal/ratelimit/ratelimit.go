package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/twofold-id/twofold/internal/throttle"
)

// Limiter holds one token bucket per key. Buckets idle long enough to be full again are
// dropped, so memory stays bounded by the number of recently active keys. Limits are per
// process: each instance of a scaled-out deployment enforces them on the traffic it sees.
type Limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	now     func() time.Time
	lastGC  time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New allows r.Burst actions at once per key, refilled at r.PerSecond tokens a second.
// now may be nil (time.Now); tests pass a fake clock.
func New(r throttle.Rate, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: rate.Limit(r.PerSecond), burst: r.Burst, buckets: map[string]*bucket{}, now: now}
}

// Allow takes a token for key. When none is left it returns false and how long until one is.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.gc(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Hour
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// gc drops buckets that have refilled completely, at most once a minute.
func (l *Limiter) gc(now time.Time) {
	if now.Sub(l.lastGC) < time.Minute {
		return
	}
	l.lastGC = now
	full := time.Duration(float64(l.burst) / float64(l.every) * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.seen) > full {
			delete(l.buckets, k)
		}
	}
}

package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/twofold-id/twofold/internal/throttle"
)

// Limiter holds one token bucket per key. Buckets idle long enough to be full again are
// dropped, so memory stays bounded by the number of recently active keys. Limits are per
// process: each instance of a scaled-out deployment enforces them on the traffic it sees.
//
// The buckets hold no pointers (a key is kept as its 64-bit hash under a seed of the
// process's own choosing, a bucket as two numbers), so the garbage collector never walks
// them: a limiter that has seen a hundred thousand client addresses in the last minute
// costs the collector nothing, where one small object graph per key made it walk them all
// on every cycle. Two keys whose hashes collide would share a bucket; with a random seed
// nobody can make that happen on purpose, and by chance it is 1 in 2^64 per pair.
type Limiter struct {
	mu      sync.Mutex
	every   float64 // tokens a second
	burst   float64
	seed    maphash.Seed
	buckets map[uint64]bucket
	now     func() time.Time
	lastGC  time.Time
}

// bucket is a token bucket: tokens left at the time at (Unix nanoseconds), when it was
// last used.
type bucket struct {
	tokens float64
	at     int64
}

// New allows r.Burst actions at once per key, refilled at r.PerSecond tokens a second.
// now may be nil (time.Now); tests pass a fake clock.
func New(r throttle.Rate, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: r.PerSecond, burst: float64(r.Burst), seed: maphash.MakeSeed(),
		buckets: map[uint64]bucket{}, now: now}
}

// Allow takes a token for key. When none is left it returns false and how long until one
// is (an hour when none ever comes back: a rate of zero).
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	h := maphash.String(l.seed, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.gc(now)
	b, found := l.buckets[h]
	if !found {
		b.tokens = l.burst
	} else if l.every > 0 {
		b.tokens = min(l.burst, b.tokens+time.Duration(now.UnixNano()-b.at).Seconds()*l.every)
	}
	b.at = now.UnixNano()
	if b.tokens >= 1 {
		b.tokens--
		l.buckets[h] = b
		return true, 0
	}
	l.buckets[h] = b
	if l.every <= 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / l.every * float64(time.Second))
}

// gc drops buckets that have refilled completely, at most once a minute.
func (l *Limiter) gc(now time.Time) {
	if now.Sub(l.lastGC) < time.Minute {
		return
	}
	l.lastGC = now
	if l.every <= 0 {
		return // they never refill: a bucket forgotten would be a fresh burst
	}
	full := time.Duration(l.burst / l.every * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(time.Unix(0, b.at)) > full {
			delete(l.buckets, k)
		}
	}
}

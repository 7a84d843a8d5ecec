package throttle

import (
	"fmt"
	"time"
)

// Policy is a failure budget: a number of free attempts, then a wait before each further
// attempt that doubles with every failure up to a cap, and a hard limit on consecutive
// failures (NIST SP 800-63B 5.2.2: no more than 100). A success forgets every failure.
// A zero field takes its Default value.
type Policy struct {
	FreeAttempts int           // failures that cost no wait (default 5)
	FirstDelay   time.Duration // wait after the first failure beyond the free ones (default 30 s)
	MaxDelay     time.Duration // the wait stops doubling here (default 15 min)
	MaxFailures  int           // consecutive failures after which no attempt is evaluated (default 100)
}

// Default is the policy when nothing is configured.
var Default = Policy{FreeAttempts: 5, FirstDelay: 30 * time.Second, MaxDelay: 15 * time.Minute, MaxFailures: 100}

// OrDefault returns p with every zero field replaced by Default's.
func (p Policy) OrDefault() Policy {
	if p.FreeAttempts <= 0 {
		p.FreeAttempts = Default.FreeAttempts
	}
	if p.FirstDelay <= 0 {
		p.FirstDelay = Default.FirstDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = Default.MaxDelay
	}
	if p.MaxFailures <= 0 {
		p.MaxFailures = Default.MaxFailures
	}
	return p
}

// Validate reports a policy that cannot work: it needs at least one free attempt, a first
// delay of at least a second, no larger than the maximum delay, and a failure limit from
// the free attempts up to 100.
func (p Policy) Validate() error {
	switch {
	case p.FreeAttempts < 1:
		return fmt.Errorf("free attempts %d: want at least 1", p.FreeAttempts)
	case p.FirstDelay < time.Second:
		return fmt.Errorf("first delay %s: want at least 1s", p.FirstDelay)
	case p.MaxDelay < p.FirstDelay:
		return fmt.Errorf("max delay %s is shorter than the first delay %s", p.MaxDelay, p.FirstDelay)
	case p.MaxDelay > 24*time.Hour:
		return fmt.Errorf("max delay %s: want at most 24h", p.MaxDelay)
	case p.MaxFailures < p.FreeAttempts || p.MaxFailures > 100:
		return fmt.Errorf("max failures %d: want %d..100", p.MaxFailures, p.FreeAttempts)
	}
	return nil
}

// Delay is how long the next attempt must wait after failures consecutive failures: nothing
// within the free attempts, then FirstDelay, doubling with each further failure up to
// MaxDelay. With the defaults: failures 1-4 wait 0, 5 waits 30 s, 6 waits 1 min, 7 2 min,
// 8 4 min, 9 8 min, 10 and more 15 min.
func (p Policy) Delay(failures int) time.Duration {
	p = p.OrDefault()
	if failures < p.FreeAttempts {
		return 0
	}
	d := p.FirstDelay
	for i := p.FreeAttempts; i < failures && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// Locked reports whether failures consecutive failures end every further attempt until a
// success is recorded some other way (an administrator's unlock).
func (p Policy) Locked(failures int) bool { return failures >= p.OrDefault().MaxFailures }

// Decision is the answer to "may an attempt be evaluated now?".
type Decision struct {
	Allowed    bool
	Locked     bool          // refused for good: the failure limit is reached
	RetryAfter time.Duration // refused for now: how long until an attempt is allowed
}

// Check decides whether an attempt at now may be evaluated after failures consecutive
// failures, the last of them at last.
func (p Policy) Check(failures int, last, now time.Time) Decision {
	if p.Locked(failures) {
		return Decision{Locked: true}
	}
	if wait := last.Add(p.Delay(failures)).Sub(now); wait > 0 {
		return Decision{RetryAfter: wait}
	}
	return Decision{Allowed: true}
}

// AttemptsWithin returns how many attempts an attacker can have evaluated in window,
// starting with a fresh budget and always trying as soon as allowed. Documentation and tests
// use it to state what the policy permits.
func (p Policy) AttemptsWithin(window time.Duration) int {
	p = p.OrDefault()
	n, elapsed := 0, time.Duration(0)
	for n < p.MaxFailures {
		if n > 0 {
			elapsed += p.Delay(n)
		}
		if elapsed > window {
			break
		}
		n++
	}
	return n
}

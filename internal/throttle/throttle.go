package throttle

import (
	"fmt"
	"time"
)

// Policy is a failure budget: a number of free attempts, then a wait before each further
// attempt that doubles with every failure up to a cap, and a hard limit on consecutive
// failures (NIST SP 800-63B 5.2.2: no more than 100). A success forgets every failure.
// A zero field takes its Default value. It is the one shape of the rule: the configuration
// decodes into it (under limits:), the services apply it and the store enforces it.
type Policy struct {
	FreeAttempts int           `yaml:"free_attempts"` // failures that cost no wait (default 5)
	FirstDelay   time.Duration `yaml:"first_delay"`   // wait after the first failure beyond the free ones (default 30 s)
	MaxDelay     time.Duration `yaml:"max_delay"`     // the wait stops doubling here (default 15 min)
	MaxFailures  int           `yaml:"max_failures"`  // consecutive failures after which no attempt is evaluated (default 100)
	// ForgetAfter is how long a password budget that is not locked is kept after its last
	// failure (default 24 h); second-factor budgets and locked ones are kept until a success
	// or an unlock.
	ForgetAfter time.Duration `yaml:"forget_after"`
}

// Default is the policy when nothing is configured.
var Default = Policy{FreeAttempts: 5, FirstDelay: 30 * time.Second, MaxDelay: 15 * time.Minute, MaxFailures: 100,
	ForgetAfter: 24 * time.Hour}

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
	if p.ForgetAfter <= 0 {
		p.ForgetAfter = Default.ForgetAfter
	}
	return p
}

// Validate reports every problem of a policy that cannot work, each naming its field as
// the configuration does: it needs 1..100 free attempts, a first delay of at least a second,
// no larger than the maximum delay (at most 24 h), a failure limit from the free attempts
// up to 100, and forgetting after an hour at the earliest.
func (p Policy) Validate() []error {
	var bad []error
	if p.FreeAttempts < 1 || p.FreeAttempts > 100 {
		bad = append(bad, fmt.Errorf("free_attempts: %d is outside 1..100", p.FreeAttempts))
	}
	if p.FirstDelay < time.Second {
		bad = append(bad, fmt.Errorf("first_delay: %s is shorter than 1s", p.FirstDelay))
	}
	if p.MaxDelay < p.FirstDelay || p.MaxDelay > 24*time.Hour {
		bad = append(bad, fmt.Errorf("max_delay: %s is outside first_delay (%s)..24h", p.MaxDelay, p.FirstDelay))
	}
	if p.MaxFailures < p.FreeAttempts || p.MaxFailures > 100 {
		bad = append(bad, fmt.Errorf("max_failures: %d is outside free_attempts (%d)..100", p.MaxFailures, p.FreeAttempts))
	}
	if p.ForgetAfter < time.Hour {
		bad = append(bad, fmt.Errorf("forget_after: %s is shorter than 1h", p.ForgetAfter))
	}
	return bad
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

// Rate is a token bucket kept per client key (an address or an e-mail address): Burst
// actions at once, refilled at PerSecond. A Rate that is not On limits nothing.
type Rate struct {
	PerSecond float64
	Burst     int
}

// PerHour allows n actions an hour, all of them at once at most.
func PerHour(n int) Rate { return Rate{PerSecond: float64(n) / 3600, Burst: n} }

// On reports whether the rate limits anything.
func (r Rate) On() bool { return r.PerSecond > 0 && r.Burst > 0 }

// The built-in per-client rates; the configuration starts from them (limits:).
var (
	DefaultSignIn = Rate{PerSecond: 10, Burst: 30}  // sign-in steps per client address
	DefaultAPI    = Rate{PerSecond: 50, Burst: 100} // other API requests per client address
)

// The built-in hourly limits on opening support cases (limits:).
const (
	DefaultSupportCasesPerIPHour    = 10 // per client address
	DefaultSupportCasesPerEmailHour = 3  // per e-mail address
	// DefaultSupportMailsPerHour caps the mail the public support form sends per hour, from
	// all clients and instances together.
	DefaultSupportMailsPerHour = 200
)

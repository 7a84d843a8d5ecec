package loadtest

import (
	"context"
	"sync"
	"time"

	"github.com/twofold-id/twofold/internal/totp"
)

// clock is the server's time, moved only by the harness, so TOTP steps advance when the
// harness has used every user's code in the current one.
type clock struct {
	mu sync.Mutex
	t  time.Time
	// follower is told of every move while a server process runs (its own clock).
	follower func(time.Time)
}

// newClock starts 1 s into the TOTP step that holds start.
func newClock(start time.Time) *clock {
	return &clock{t: time.Unix(totp.Step(start)*30+1, 0).UTC()}
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// advance moves the clock and the running server's with it; it returns once both moved.
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	if c.follower != nil {
		c.follower(c.t)
	}
}

// follow makes f learn of every move of the clock (nil: nobody).
func (c *clock) follow(f func(time.Time)) { c.mu.Lock(); c.follower = f; c.mu.Unlock() }

// nextStep moves the clock to the next TOTP step, which no code has been accepted in yet.
func (c *clock) nextStep() { c.advance(30 * time.Second) }

// rota hands out users for sign-in so that each signs in at most once per TOTP step: a
// code is never a replay. When every user has been used in the current step it advances
// the clock by one step; when every unused user is busy, callers wait.
type rota struct {
	mu      sync.Mutex
	cond    *sync.Cond
	clock   *clock
	step    int64
	used    []int64 // the last step each user was handed out in
	busy    []bool
	cursor  int
	advance int // steps the clock moved
}

// newRota starts in a fresh step, later than any code accepted so far.
func newRota(c *clock, users int) *rota {
	c.nextStep()
	r := &rota{clock: c, step: totp.Step(c.Now()), used: make([]int64, users), busy: make([]bool, users)}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// acquire returns a user that is free and not yet used in the current step, with that
// step, or ok false once ctx ends. Every call ends: the clock moves when all users are
// used, and a finished caller's release or the end of ctx wakes the waiters.
func (r *rota) acquire(ctx context.Context) (user int, step int64, ok bool) {
	stop := context.AfterFunc(ctx, func() { r.mu.Lock(); r.cond.Broadcast(); r.mu.Unlock() })
	defer stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for ctx.Err() == nil {
		usedNow := 0
		n := len(r.used)
		for k := range n {
			i := (r.cursor + k) % n
			if r.used[i] == r.step {
				usedNow++
				continue
			}
			if !r.busy[i] {
				r.busy[i], r.used[i], r.cursor = true, r.step, (i+1)%n
				return i, r.step, true
			}
		}
		if usedNow == n {
			// Everyone signed in (or is signing in) with this step's code. A user still busy
			// holds a code of the previous step, which the server's one-step skew accepts,
			// and cannot be handed out again before it is released, so the clock never
			// moves twice under it.
			r.clock.nextStep()
			r.step = totp.Step(r.clock.Now())
			r.advance++
			continue
		}
		r.cond.Wait()
	}
	return 0, 0, false
}

// release makes the user available again (for a later step).
func (r *rota) release(user int) {
	r.mu.Lock()
	r.busy[user] = false
	r.cond.Broadcast()
	r.mu.Unlock()
}

// steps returns how many times the clock moved.
func (r *rota) steps() int { r.mu.Lock(); defer r.mu.Unlock(); return r.advance }

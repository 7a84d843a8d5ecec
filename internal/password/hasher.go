package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/twofold-id/twofold/internal/password/argon2id"
)

// ErrBusy is returned when no hashing slot became free within the Hasher's
// wait. Callers answer 503 with Retry-After.
var ErrBusy = errors.New("password: too many concurrent hashes")

// Hasher hashes and verifies passwords with argon2id, running at most a fixed
// number of hashes at once so that memory stays bounded under load.
// Passwords are NFKC-normalised and never truncated. A Hasher is safe for
// concurrent use.
//
// Every running hash computes in argon2id memory the Hasher keeps for the next one: at
// most one Memory per slot, allocated when first needed and never handed back, so a
// Hasher holds up to slots × its parameters' memory for good and hashing allocates
// nothing large. A Verify of a stored hash that needs more memory than h's parameters
// (one made before they were lowered) computes in memory of its own, dropped after.
type Hasher struct {
	params Params
	wait   time.Duration
	sem    chan struct{}
	dummy  string // PHC string no password matches, for VerifyDummy

	// mu guards free: the Memory of each slot not hashing now, the most recently used
	// last, so that hashes one at a time keep using (and faulting in) one Memory.
	mu   sync.Mutex
	free []*argon2id.Memory
	// queue is how many callers may wait for a slot at once (0: no bound); waiting counts
	// them.
	queue   int64
	waiting atomic.Int64

	// testHookHashing, when set, runs while a hashing slot is held.
	testHookHashing func()
	// observe, when set, is told of every key derivation (Observe).
	observe func(Work)
	// observeWait, when set, is told how long each hash waited for a slot (ObserveWait).
	observeWait func(time.Duration)
	// observeCPU, when set, is told the CPU time of each key derivation (ObserveCPU).
	observeCPU func(time.Duration)
}

// ObserveCPU makes h call f with the CPU time of every key derivation, measured on the
// thread that computed it: the derivation keeps its goroutine on one thread meanwhile
// (runtime.LockOSThread), so the time is the hash's alone, whatever else the process
// does. The load harness uses it to tell a sign-in's hash from everything else a server
// spends on it. On a platform that cannot tell a thread's CPU time, f is never called.
// Call it before h is used.
func (h *Hasher) ObserveCPU(f func(time.Duration)) {
	if _, ok := threadCPU(); ok {
		h.observeCPU = f
	}
}

// ObserveWait makes h call f with how long each hash waited for a free slot (0 when one
// was free), also when it gave up with ErrBusy. Call it before h is used.
func (h *Hasher) ObserveWait(f func(time.Duration)) { h.observeWait = f }

// Queue reports how many hashes wait for a slot now and how many run.
func (h *Hasher) Queue() (waiting, running int) { return int(h.waiting.Load()), len(h.sem) }

// Work is one argon2id key derivation a Hasher ran: what a caller paid for.
type Work struct {
	Params Params
	KeyLen uint32
}

// Observe makes h call f after every key derivation, with its parameters. Tests use it to
// show that two paths (an unknown name and a wrong password) pay for the same work; a
// metric could count hashes. Call it before h is used.
func (h *Hasher) Observe(f func(Work)) { h.observe = f }

// LimitQueue lets at most n callers wait for a hashing slot at once: one more gets ErrBusy
// at once instead of waiting, so a burst costs neither memory nor time beyond the queue.
// n <= 0 leaves the queue unbounded. Call it before h is used.
func (h *Hasher) LimitQueue(n int) { h.queue = int64(max(n, 0)) }

// Saturated reports whether a hash asked for now would get ErrBusy without waiting: every
// slot is taken and no caller may queue (the queue is full, or h does not wait). Callers
// use it to refuse a burst before doing any other work; it is a snapshot, and Hash and
// Verify still decide.
func (h *Hasher) Saturated() bool {
	if len(h.sem) < cap(h.sem) {
		return false
	}
	return h.wait <= 0 || (h.queue > 0 && h.waiting.Load() >= h.queue)
}

// Slots is how many hashes run at once at most.
func (h *Hasher) Slots() int { return cap(h.sem) }

// NewHasher returns a Hasher using p for new hashes. At most maxConcurrent
// hashes (runtime.NumCPU() when maxConcurrent <= 0) run at once; a caller
// waits at most wait for a slot, then gets ErrBusy.
//
// NewHasher panics if p is invalid; validate configured parameters with
// Params.Validate first.
func NewHasher(p Params, maxConcurrent int, wait time.Duration) *Hasher {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	// The dummy hash has h's parameters and the standard sizes, so verifying
	// against it costs what verifying a real current hash costs. Its key is
	// random: no password matches it, and nothing needs to be computed.
	dummy := phc{params: p, salt: make([]byte, saltLen), key: make([]byte, keyLen)}
	rand.Read(dummy.salt)
	rand.Read(dummy.key)
	return &Hasher{
		params: p,
		wait:   wait,
		sem:    make(chan struct{}, maxConcurrent),
		dummy:  dummy.encode(),
	}
}

// Hash returns the argon2id PHC string of the NFKC form of password, with a
// fresh 16-byte salt and a 32-byte key, e.g.
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>". It returns ErrBusy when no
// slot became free in time, or ctx's error when ctx ended first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	key, err := h.derive(ctx, password, salt, h.params, keyLen)
	if err != nil {
		return "", err
	}
	return phc{params: h.params, salt: salt, key: key}.encode(), nil
}

// Verify reports whether password matches the stored PHC string, comparing in
// constant time. needsRehash is true only when ok is true and the stored hash
// was made with parameters (or salt or key sizes) other than h's; the caller
// then stores a fresh Hash.
//
// A stored hash that is not a usable argon2id PHC string, including one with
// parameters outside the limits of Params.Validate, yields an error wrapping
// ErrMalformedHash and is never run. Verify returns ErrBusy when no slot
// became free in time, or ctx's error when ctx ended first. It never panics.
func (h *Hasher) Verify(ctx context.Context, password, phcString string) (ok bool, needsRehash bool, err error) {
	stored, err := parsePHC(phcString)
	if err != nil {
		return false, false, err
	}
	key, err := h.derive(ctx, password, stored.salt, stored.params, uint32(len(stored.key)))
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(key, stored.key) != 1 {
		return false, false, nil
	}
	needsRehash = stored.params != h.params || len(stored.salt) != saltLen || len(stored.key) != keyLen
	return true, needsRehash, nil
}

// VerifyDummy does the work of a Verify against a hash with h's parameters
// and discards the result. Call it for unknown users so that they cost the
// same as known ones. It returns nil, ErrBusy, or ctx's error.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

// derive computes the argon2id key of the NFKC form of password while
// holding a hashing slot.
func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params, n uint32) ([]byte, error) {
	pw := []byte(norm.NFKC.String(password))
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	if h.testHookHashing != nil {
		h.testHookHashing()
	}
	if h.observeCPU != nil {
		runtime.LockOSThread()
		start, _ := threadCPU()
		defer func() {
			end, _ := threadCPU()
			runtime.UnlockOSThread()
			h.observeCPU(time.Duration(end - start))
		}()
	}
	var key []byte
	if p.MemoryKiB > h.params.MemoryKiB {
		key = argon2id.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, n)
	} else {
		// Never grows the Memory beyond h.params.MemoryKiB KiB: argon2id rounds the
		// memory down to a multiple of 4 × parallelism, and Validate keeps it at least 8 ×.
		m := h.takeMemory()
		key = m.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, n)
		h.putMemory(m)
	}
	if h.observe != nil {
		h.observe(Work{Params: p, KeyLen: n})
	}
	return key, nil
}

// acquire takes a hashing slot, waiting at most h.wait. It returns ErrBusy
// on timeout or when the queue of waiting callers is full, and ctx.Err() when
// ctx ends first.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
		if h.observeWait != nil {
			h.observeWait(0)
		}
		return nil
	default:
	}
	if h.wait <= 0 {
		if h.observeWait != nil {
			h.observeWait(0)
		}
		return ErrBusy
	}
	start := time.Now()
	if n := h.waiting.Add(1); h.queue > 0 && n > h.queue {
		h.waiting.Add(-1)
		if h.observeWait != nil {
			h.observeWait(0)
		}
		return ErrBusy
	}
	defer func() {
		h.waiting.Add(-1)
		if h.observeWait != nil {
			h.observeWait(time.Since(start))
		}
	}()
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// takeMemory returns the Memory of a free slot, new and empty when no slot has one yet.
// Call it while holding a slot: there are then never more Memory values than slots.
func (h *Hasher) takeMemory() *argon2id.Memory {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.free); n > 0 {
		m := h.free[n-1]
		h.free = h.free[:n-1]
		return m
	}
	return new(argon2id.Memory)
}

// putMemory gives m back for the next hash.
func (h *Hasher) putMemory(m *argon2id.Memory) {
	h.mu.Lock()
	h.free = append(h.free, m)
	h.mu.Unlock()
}

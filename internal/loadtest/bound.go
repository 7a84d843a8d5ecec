package loadtest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/password/argon2id"
)

// Bound is the raw argon2id bound of the machine: as many hashes with the measured
// parameters as one goroutine per CPU computes, with nothing else of the harness running.
// A server that signs in at the bound spends its CPU on nothing but the hash. Each
// goroutine computes in memory it keeps (argon2id.Memory), as the server's hashing slots
// do: the bare key derivation, without x/crypto's allocation, zeroing and collection of
// 19 MiB per hash, which in this process cost half again the hash's CPU and would flatter
// the server.
type Bound struct {
	Hashes  int           `json:"hashes"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// CPU is the CPU time the harness process used meanwhile (user and system), System
	// the part of it in the kernel.
	CPU    time.Duration `json:"cpu_ns"`
	System time.Duration `json:"system_ns"`
}

// PerSecond is hashes per second.
func (b *Bound) PerSecond() float64 { return float64(b.Hashes) / max(b.Elapsed.Seconds(), 1e-9) }

// CPUPerHash is the CPU time of one hash.
func (b *Bound) CPUPerHash() time.Duration {
	if b.Hashes == 0 {
		return 0
	}
	return b.CPU / time.Duration(b.Hashes)
}

func (b *Bound) String() string {
	s := fmt.Sprintf("%.1f hashes/s (%d in %s), %s CPU per hash", b.PerSecond(), b.Hashes,
		b.Elapsed.Round(time.Millisecond), cpu(b.CPUPerHash()))
	if b.Hashes > 0 {
		s += fmt.Sprintf(" (%s of it system)", cpu(b.System/time.Duration(b.Hashes)))
	}
	return s
}

// measureBound hashes with p on every CPU for d.
func measureBound(ctx context.Context, p password.Params, d time.Duration) (*Bound, error) {
	deadline, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cpu0, sys0, err := selfUsage()
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m argon2id.Memory
			for deadline.Err() == nil {
				m.IDKey([]byte(userPassword), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, sys1, err := selfUsage()
	if err != nil {
		return nil, err
	}
	return &Bound{Hashes: int(n.Load()), Elapsed: elapsed, CPU: cpu1 - cpu0, System: sys1 - sys0}, ctx.Err()
}

// selfCPU is the CPU time the harness process has used.
func selfCPU() (time.Duration, error) {
	cpu, _, err := selfUsage()
	return cpu, err
}

// selfUsage is the CPU time (user and system) the harness process has used, and the
// system part of it.
func selfUsage() (cpu, system time.Duration, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano()), nil
}

package app

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/twofold-id/twofold/internal/config"
)

// memoryBase is what a server needs besides its password hashes: the heap of an idle
// server, request buffers, connection goroutines and room for the garbage collector.
const memoryBase = 40 << 20

// MemoryLimit is the soft memory limit of the Go runtime for cfg: memoryBase plus the
// argon2id memory of every hash that may run at once (password.max_concurrent_hashes).
// Every argon2id hash allocates its memory afresh, so a burst of sign-ins turns over that
// much garbage every few milliseconds; the limit makes the garbage collector reclaim it
// before the heap grows, instead of letting it double first.
func MemoryLimit(cfg *config.Config) int64 {
	slots := cfg.Password.MaxConcurrentHashes
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	return memoryBase + int64(slots)*int64(cfg.Password.Argon2.MemoryKiB)<<10
}

// SetMemoryLimit applies MemoryLimit to the process, unless the GOMEMLIMIT environment
// variable sets one: the operator's choice wins. It is a soft limit: the runtime exceeds
// it rather than fail, and the hash queue (password.hash_queue) is what bounds the work.
func SetMemoryLimit(cfg *config.Config, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := MemoryLimit(cfg)
	debug.SetMemoryLimit(limit)
	log.Debug("memory limit set", "bytes", limit)
}

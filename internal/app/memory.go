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

// hashRoom is how many hashes' argon2id memory the limit holds per hash slot: the block
// being hashed, the one just finished and not yet collected, and the next. With room for
// one only, the runtime collected at every hash and its scavenger handed each freed block
// back to the operating system only to fault the next one in again: a full sign-in then
// cost 36–48 ms of CPU against a raw hash of 21–26 ms (the hash 0.54–0.66 of it); with
// room for three it cost 25.9 ms (0.97), for about 100 MB more at the peak
// (docs/performance.md).
const hashRoom = 3

// MemoryLimit is the soft memory limit of the Go runtime for cfg: memoryBase plus hashRoom
// times the argon2id memory of every hash that may run at once
// (password.max_concurrent_hashes). Every argon2id hash allocates its memory afresh, so a
// burst of sign-ins turns over that much garbage every few milliseconds; the limit makes
// the garbage collector reclaim it before the heap grows further.
func MemoryLimit(cfg *config.Config) int64 {
	slots := cfg.Password.MaxConcurrentHashes
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	return memoryBase + hashRoom*int64(slots)*int64(cfg.Password.Argon2.MemoryKiB)<<10
}

// gcPercent is the garbage collector's target while the memory limit is set: the heap may
// grow to five times what is live before a collection, unless the limit comes first. An
// idle server's live heap is mostly the password strength dictionaries (about 7 MB of
// pointers the collector walks every cycle), so with the default of 100 every 7 MB of
// request garbage cost a full cycle; this way a session check pays a quarter of that,
// and under a burst of sign-ins the limit decides.
const gcPercent = 400

// TuneMemory applies MemoryLimit to the process and lets the heap grow to five times its
// live size below it (gcPercent). The GOMEMLIMIT and GOGC environment variables, when set,
// replace either: the operator's choice wins. The limit is soft: the runtime exceeds it
// rather than fail, and the hash queue (password.hash_queue) is what bounds the work.
//
// Call it once the server is wired, before it serves: it also hands the memory that
// starting up used and freed (building the password strength dictionaries, reading the
// templates) back to the operating system, which the runtime would otherwise keep.
func TuneMemory(cfg *config.Config, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") == "" {
		limit := MemoryLimit(cfg)
		debug.SetMemoryLimit(limit)
		log.Debug("memory limit set", "bytes", limit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	debug.FreeOSMemory()
}

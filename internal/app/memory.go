package app

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/twofold-id/twofold/internal/config"
)

// memoryBase is what a server needs besides its password hashes' memory: the live heap
// of a running server (about 3 MB: the default language's page templates, 0.8 MB, the
// message catalog, 0.6 MB, and the rest; 0.8 MB more per other language a page was shown
// in, 3 MB once a new password was checked), goroutine stacks, request buffers and room
// for the garbage between collections (a sign-in leaves some tens of kilobytes, a session check
// about 9 kB). 28 MiB keeps a 2-core server under 100 MB resident in a burst of 64
// concurrent sign-ins (docs/performance.md).
const memoryBase = 28 << 20

// MemoryLimit is the soft memory limit of the Go runtime for cfg: memoryBase plus the
// argon2id memory of every hash that may run at once (password.max_concurrent_hashes).
// Each hashing slot keeps its argon2id memory for good (password.Hasher), so that memory
// is live, not garbage; the limit makes the garbage collector reclaim the rest before the
// heap grows beyond it. (When every hash allocated its memory afresh, the limit needed
// room for three hashes per slot, or the scavenger handed each freed block back to the
// operating system only to fault the next one in again.)
func MemoryLimit(cfg *config.Config) int64 {
	slots := cfg.Password.MaxConcurrentHashes
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	return memoryBase + int64(slots)*int64(cfg.Password.Argon2.MemoryKiB)<<10
}

// gcPercent is the garbage collector's target while the memory limit is set: the heap may
// grow to five times what is live before a collection, unless the limit comes first. Once
// the hashing slots hold their argon2id memory (live, but without pointers to walk), the
// limit comes first; before that, an idle server's live heap is mostly page templates and
// the message catalog (pointers the collector walks every cycle), and with
// the default of 100 every few MB of request garbage would cost a full cycle.
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

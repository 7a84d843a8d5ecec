package app

import (
	"runtime"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
)

func TestMemoryLimitFollowsTheHashSlots(t *testing.T) {
	cfg := config.Default()
	cfg.Password.MaxConcurrentHashes = 3
	cfg.Password.Argon2.MemoryKiB = 65536
	if got, want := MemoryLimit(cfg), int64(28<<20+3*64<<20); got != want {
		t.Errorf("MemoryLimit = %d, want %d (32 MiB + 3 slots × 64 MiB)", got, want)
	}
	cfg.Password.MaxConcurrentHashes = 0 // one slot per core
	if got, want := MemoryLimit(cfg), int64(28<<20)+int64(runtime.NumCPU())*64<<20; got != want {
		t.Errorf("MemoryLimit with a slot per core = %d, want %d", got, want)
	}
}

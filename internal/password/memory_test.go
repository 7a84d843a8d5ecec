package password

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// xcryptoPHC is the PHC string of password with p, salt and a keyLen-byte key computed by
// golang.org/x/crypto/argon2, which the Hasher used before it kept its memory.
func xcryptoPHC(password string, salt []byte, p Params, keyLen uint32) string {
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	return phc{params: p, salt: salt, key: key}.encode()
}

// heldMemory is how many bytes of argon2id memory h's free slots hold, and how many
// Memory values there are.
func heldMemory(h *Hasher) (bytes, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.free {
		bytes += m.Size()
	}
	return bytes, len(h.free)
}

// TestHashesAreXCryptosHashes: what Hash stores is what x/crypto's argon2 computes for
// the same salt, also once the memory has been used for other passwords.
func TestHashesAreXCryptosHashes(t *testing.T) {
	h := NewHasher(fast, 1, time.Second)
	for i := range 20 {
		pw := fmt.Sprintf("password number %d", i)
		stored := mustHash(t, h, pw)
		parsed, err := parsePHC(stored)
		if err != nil {
			t.Fatal(err)
		}
		if want := xcryptoPHC(pw, parsed.salt, fast, keyLen); stored != want {
			t.Fatalf("Hash(%q) = %s, x/crypto computes %s", pw, stored, want)
		}
	}
}

// TestVerifyInReusedMemory verifies hashes made by x/crypto with parameters other than
// the Hasher's, interleaved so that each runs in memory another left dirty: smaller
// memory (in the slot's memory), larger memory (in memory of its own, which the slot
// never grows to), other passes and lanes, longer and shorter keys and salts.
func TestVerifyInReusedMemory(t *testing.T) {
	configured := Params{MemoryKiB: 128, Iterations: 1, Parallelism: 1}
	h := NewHasher(configured, 1, time.Second)
	hashes := []struct {
		name   string
		p      Params
		salt   []byte
		keyLen uint32
	}{
		{"configured", configured, bytes.Repeat([]byte{1}, saltLen), keyLen},
		{"less_memory", Params{MemoryKiB: 64, Iterations: 2, Parallelism: 1}, bytes.Repeat([]byte{2}, saltLen), keyLen},
		{"more_memory", Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, bytes.Repeat([]byte{3}, saltLen), keyLen},
		{"more_lanes", Params{MemoryKiB: 128, Iterations: 3, Parallelism: 4}, bytes.Repeat([]byte{4}, 8), 64},
		{"odd_memory", Params{MemoryKiB: 99, Iterations: 1, Parallelism: 3}, bytes.Repeat([]byte{5}, 64), 16},
	}
	for round := range 3 {
		for i, hc := range hashes {
			pw := fmt.Sprintf("password %d", i)
			stored := xcryptoPHC(pw, hc.salt, hc.p, hc.keyLen)
			t.Run(fmt.Sprintf("%s/round_%d", hc.name, round), func(t *testing.T) {
				ok, rehash := verify(t, h, pw, stored)
				wantRehash := hc.name != "configured"
				if !ok || rehash != wantRehash {
					t.Errorf("Verify = %v, %v; want true, %v", ok, rehash, wantRehash)
				}
				if ok, _ := verify(t, h, pw+"!", stored); ok {
					t.Error("a wrong password verifies")
				}
			})
		}
	}
	if got, n := heldMemory(h); n != 1 || got > int(configured.MemoryKiB)<<10 {
		t.Errorf("the Hasher holds %d Memory values of %d bytes in all, want 1 of at most %d", n, got, configured.MemoryKiB<<10)
	}
}

// TestMemoryPerSlot: hashes one at a time keep using one Memory; hashes at once use at
// most one per slot, and the Hasher keeps them for the next.
func TestMemoryPerSlot(t *testing.T) {
	const slots = 3
	h := NewHasher(fast, slots, time.Minute)
	ctx := context.Background()
	stored := mustHash(t, h, "pw")
	for range 10 {
		if _, _, err := h.Verify(ctx, "pw", stored); err != nil {
			t.Fatal(err)
		}
	}
	if got, n := heldMemory(h); n != 1 || got != int(fast.MemoryKiB)<<10 {
		t.Errorf("after hashes one at a time: %d Memory values of %d bytes in all, want 1 of %d", n, got, fast.MemoryKiB<<10)
	}

	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if _, _, err := h.Verify(ctx, "pw", stored); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, n := heldMemory(h); n < 1 || n > slots || got != n*int(fast.MemoryKiB)<<10 {
		t.Errorf("after 40 hashes at once: %d Memory values of %d bytes in all, want 1..%d of %d each", n, got, slots, fast.MemoryKiB<<10)
	}
}

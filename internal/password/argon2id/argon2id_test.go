package argon2id

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/argon2"
)

// withEachKernel runs f with the SSE4.1 assembly (when the CPU has it) and with the
// generic Go code.
func withEachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer func(sse4 bool) { useSSE4 = sse4 }(useSSE4)
	if useSSE4 {
		t.Run("sse4", f)
		useSSE4 = false
	}
	t.Run("generic", f)
}

// dirty fills every block m holds with pseudo-random words, as a previous derivation
// would have left them.
func dirty(m *Memory, r *rand.Rand) {
	for i := range m.blocks {
		for j := range m.blocks[i] {
			m.blocks[i][j] = r.Uint64()
		}
	}
}

// TestRFC9106TestVector derives the argon2id test vector of RFC 9106 section 5.3 (with
// secret and associated data), in fresh memory, in dirty memory and in memory larger
// than the parameters need.
func TestRFC9106TestVector(t *testing.T) {
	password := bytes.Repeat([]byte{0x01}, 32)
	salt := bytes.Repeat([]byte{0x02}, 16)
	secret := bytes.Repeat([]byte{0x03}, 8)
	data := bytes.Repeat([]byte{0x04}, 12)
	want := "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"

	withEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, tc := range []struct {
			name string
			mem  *Memory
		}{
			{"fresh memory", new(Memory)},
			{"dirty memory of the same size", &Memory{blocks: make([]block, 32)}},
			{"dirty memory larger than needed", &Memory{blocks: make([]block, 1000)}},
		} {
			dirty(tc.mem, r)
			for i := range 2 { // the second time in the memory the first one left
				got := tc.mem.deriveKey(password, salt, secret, data, 3, 32, 4, 32)
				if hex.EncodeToString(got) != want {
					t.Errorf("%s, derivation %d: tag %x, want %s", tc.name, i+1, got, want)
				}
			}
		}
	})
}

// params is one random set of argon2id inputs.
type params struct {
	password, salt []byte
	time, memory   uint32
	threads        uint8
	keyLen         uint32
}

func (p params) String() string {
	return fmt.Sprintf("password %x salt %x t=%d m=%d p=%d keyLen=%d", p.password, p.salt, p.time, p.memory, p.threads, p.keyLen)
}

func randomParams(r *rand.Rand) params {
	bytesN := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	threads := uint8(1 + r.IntN(8))
	p := params{
		password: bytesN(r.IntN(80)),
		salt:     bytesN(r.IntN(40)),
		time:     uint32(1 + r.IntN(4)),
		threads:  threads,
		keyLen:   uint32(1 + r.IntN(140)), // beyond 64 bytes, BLAKE2b's variable-length output
	}
	switch r.IntN(4) {
	case 0: // below the minimum of 8 blocks per lane, which argon2 rounds up to
		p.memory = uint32(r.IntN(8 * int(threads)))
	default: // not a multiple of 4 blocks per lane, which argon2 rounds down
		p.memory = uint32(8*int(threads) + r.IntN(600))
	}
	return p
}

// TestIDKeyIsXCryptosIDKey derives keys for random inputs in one Memory that each
// derivation leaves dirty for the next, whose parameters differ (more memory, less, other
// lanes), and compares each with x/crypto's argon2.IDKey in fresh memory.
func TestIDKeyIsXCryptosIDKey(t *testing.T) {
	withEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		var m Memory
		for i := range 300 {
			p := randomParams(r)
			if i%50 == 0 {
				dirty(&m, r) // besides what the derivations leave, words no derivation would
			}
			want := argon2.IDKey(p.password, p.salt, p.time, p.memory, p.threads, p.keyLen)
			if got := m.IDKey(p.password, p.salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
				t.Fatalf("derivation %d (%v): key %x, x/crypto's %x", i, p, got, want)
			}
			if got := IDKey(p.password, p.salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
				t.Fatalf("derivation %d (%v) in memory of its own: key %x, x/crypto's %x", i, p, got, want)
			}
		}
	})
}

// TestIDKeyAtTheDefaultParameters compares the parameters twofold hashes with (19 MiB,
// two passes, one lane) in memory reused dirty, for a few passwords.
func TestIDKeyAtTheDefaultParameters(t *testing.T) {
	if testing.Short() {
		t.Skip("19 MiB derivations")
	}
	m := Memory{blocks: make([]block, 19456)}
	dirty(&m, rand.New(rand.NewPCG(5, 6)))
	for i, pw := range []string{"correct horse battery staple 9", "", "x"} {
		salt := []byte(fmt.Sprintf("salt of hash %02d", i))
		want := argon2.IDKey([]byte(pw), salt, 2, 19456, 1, 32)
		if got := m.IDKey([]byte(pw), salt, 2, 19456, 1, 32); !bytes.Equal(got, want) {
			t.Errorf("password %q: key %x, x/crypto's %x", pw, got, want)
		}
	}
	if got, want := m.Size(), 19456<<10; got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
}

// TestMemoryGrowsOnlyWhenNeeded: a Memory keeps its blocks for smaller parameters and
// grows to what larger ones need.
func TestMemoryGrowsOnlyWhenNeeded(t *testing.T) {
	var m Memory
	steps := []struct {
		memory   uint32
		threads  uint8
		wantSize int
	}{
		{64, 1, 64 << 10},
		{32, 1, 64 << 10},   // smaller: the same blocks
		{4, 1, 64 << 10},    // rounded up to 8 blocks, still fits
		{130, 1, 128 << 10}, // rounded down to a multiple of 4
		{100, 8, 128 << 10}, // rounded down to 96 blocks (4 × 8 lanes), fits
		{300, 2, 296 << 10},
	}
	for _, s := range steps {
		m.IDKey([]byte("pw"), []byte("salt"), 1, s.memory, s.threads, 16)
		if got := m.Size(); got != s.wantSize {
			t.Errorf("after m=%d p=%d: Size = %d, want %d", s.memory, s.threads, got, s.wantSize)
		}
	}
	m.Release()
	if m.Size() != 0 {
		t.Errorf("after Release: Size = %d, want 0", m.Size())
	}
}

// fuzzMemory is shared by every input of FuzzIDKey, so each derivation runs in the
// memory the previous one left.
var fuzzMemory Memory

// FuzzIDKey compares IDKey in reused memory with x/crypto's argon2.IDKey for any
// password, salt and (bounded) parameters.
func FuzzIDKey(f *testing.F) {
	f.Add([]byte("password"), []byte("somesalt"), uint8(2), uint16(64), uint8(1), uint8(32))
	f.Add([]byte{}, []byte{}, uint8(1), uint16(0), uint8(4), uint8(1))
	f.Add(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16), uint8(3), uint16(32), uint8(4), uint8(100))
	f.Fuzz(func(t *testing.T, password, salt []byte, time uint8, memory uint16, threads uint8, keyLen uint8) {
		tm := uint32(time%4) + 1
		p := threads%8 + 1
		m := uint32(memory % 1024)
		kl := uint32(keyLen%128) + 1
		want := argon2.IDKey(password, salt, tm, m, p, kl)
		if got := fuzzMemory.IDKey(password, salt, tm, m, p, kl); !bytes.Equal(got, want) {
			t.Fatalf("t=%d m=%d p=%d keyLen=%d: key %x, x/crypto's %x", tm, m, p, kl, got, want)
		}
	})
}

func BenchmarkIDKeyDefault(b *testing.B) {
	var m Memory
	for b.Loop() {
		m.IDKey([]byte("correct horse battery staple 9"), []byte("0123456789abcdef"), 2, 19456, 1, 32)
	}
}

func BenchmarkXCryptoIDKeyDefault(b *testing.B) {
	for b.Loop() {
		argon2.IDKey([]byte("correct horse battery staple 9"), []byte("0123456789abcdef"), 2, 19456, 1, 32)
	}
}

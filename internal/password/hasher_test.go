package password

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fast are cheap parameters so that tests run quickly.
var fast = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func newFastHasher(t *testing.T) *Hasher {
	t.Helper()
	return NewHasher(fast, 4, time.Second)
}

func mustHash(t *testing.T, h *Hasher, pw string) string {
	t.Helper()
	s, err := h.Hash(context.Background(), pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return s
}

func verify(t *testing.T, h *Hasher, pw, stored string) (ok, rehash bool) {
	t.Helper()
	ok, rehash, err := h.Verify(context.Background(), pw, stored)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return ok, rehash
}

func TestHashVerify(t *testing.T) {
	h := newFastHasher(t)
	stored := mustHash(t, h, "correct horse battery staple")

	t.Run("right_password_verifies", func(t *testing.T) {
		ok, rehash := verify(t, h, "correct horse battery staple", stored)
		if !ok || rehash {
			t.Errorf("Verify = %v, %v; want true, false", ok, rehash)
		}
	})
	t.Run("wrong_password_is_refused", func(t *testing.T) {
		for _, pw := range []string{"", "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "} {
			if ok, rehash := verify(t, h, pw, stored); ok || rehash {
				t.Errorf("Verify(%q) = %v, %v; want false, false", pw, ok, rehash)
			}
		}
	})
	t.Run("salt_is_fresh_each_time", func(t *testing.T) {
		if again := mustHash(t, h, "correct horse battery staple"); again == stored {
			t.Error("two hashes of the same password are equal")
		}
	})
}

func TestHashDefaultParams(t *testing.T) {
	h := NewHasher(DefaultParams, 0, time.Second)
	stored := mustHash(t, h, "correct horse battery staple")
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q, want default parameters", stored)
	}
	if ok, rehash := verify(t, h, "correct horse battery staple", stored); !ok || rehash {
		t.Errorf("Verify = %v, %v; want true, false", ok, rehash)
	}
}

func TestHashFormat(t *testing.T) {
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	h := newFastHasher(t)
	for range 20 {
		if s := mustHash(t, h, "pw"); !re.MatchString(s) {
			t.Fatalf("Hash = %q, does not match %v", s, re)
		}
	}
}

// TestVerifyReferenceVectors checks interoperability with PHC strings from
// the reference implementation's test suite (phc-winner-argon2 src/test.c).
func TestVerifyReferenceVectors(t *testing.T) {
	tests := []struct {
		name, phc string
		p         Params
	}{
		{"m=65536_t=2_p=1", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", Params{MemoryKiB: 65536, Iterations: 2, Parallelism: 1}},
		{"m=256_t=2_p=1", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", Params{MemoryKiB: 256, Iterations: 2, Parallelism: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHasher(tc.p, 1, time.Second)
			if ok, _ := verify(t, h, "password", tc.phc); !ok {
				t.Error("reference hash of \"password\" does not verify")
			}
			if ok, _ := verify(t, h, "passwore", tc.phc); ok {
				t.Error("reference hash verifies a wrong password")
			}
		})
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	old := NewHasher(fast, 1, time.Second)
	stored := mustHash(t, old, "correct horse battery staple")

	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same_params", fast, false},
		{"memory_changed", Params{MemoryKiB: 128, Iterations: 1, Parallelism: 1}, true},
		{"iterations_changed", Params{MemoryKiB: 64, Iterations: 2, Parallelism: 1}, true},
		{"parallelism_changed", Params{MemoryKiB: 64, Iterations: 1, Parallelism: 2}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHasher(tc.p, 1, time.Second)
			ok, rehash := verify(t, h, "correct horse battery staple", stored)
			if !ok || rehash != tc.want {
				t.Errorf("Verify = %v, %v; want true, %v", ok, rehash, tc.want)
			}
			if ok, rehash := verify(t, h, "wrong", stored); ok || rehash {
				t.Errorf("Verify(wrong) = %v, %v; want false, false", ok, rehash)
			}
		})
	}

	t.Run("shorter_salt_than_ours", func(t *testing.T) {
		// Same parameters but an 8-byte salt: verifies, wants a rehash.
		const stored = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
		h := NewHasher(Params{MemoryKiB: 256, Iterations: 2, Parallelism: 1}, 1, time.Second)
		if ok, rehash := verify(t, h, "password", stored); !ok || !rehash {
			t.Errorf("Verify = %v, %v; want true, true (8-byte salt)", ok, rehash)
		}
	})
}

func TestVerifyMalformed(t *testing.T) {
	h := newFastHasher(t)
	good := mustHash(t, h, "pw")
	fields := strings.Split(good, "$")
	salt, key := fields[4], fields[5]
	with := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }

	tests := []struct {
		name, phc string
	}{
		{"empty", ""},
		{"just_dollar", "$"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"plain_text", "hunter2"},
		{"no_leading_dollar", strings.TrimPrefix(good, "$")},
		{"trailing_dollar", good + "$"},
		{"old_version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing_version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing_hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"missing_salt_and_hash", "$argon2id$v=19$m=64,t=1,p=1"},
		{"empty_hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"empty_salt", "$argon2id$v=19$m=64,t=1,p=1$$" + key},
		{"missing_param", with("m=64,t=1")},
		{"params_out_of_order", with("t=1,m=64,p=1")},
		{"extra_param", with("m=64,t=1,p=1,k=2")},
		{"param_not_number", with("m=abc,t=1,p=1")},
		{"param_negative", with("m=-64,t=1,p=1")},
		{"param_with_plus", with("m=+64,t=1,p=1")},
		{"memory_huge", with("m=99999999999,t=1,p=1")},
		{"memory_over_4GiB", with("m=4194305,t=1,p=1")},
		{"memory_below_8p", with("m=7,t=1,p=1")},
		{"iterations_zero", with("m=64,t=0,p=1")},
		{"iterations_over_100", with("m=64,t=101,p=1")},
		{"parallelism_zero", with("m=64,t=1,p=0")},
		{"parallelism_huge", with("m=64,t=1,p=256")},
		{"salt_bad_base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!notbase64!!!!$" + key},
		{"hash_bad_base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:42] + "*"},
		{"hash_padded_base64", good + "="},
		{"hash_too_short", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10]},
		{"salt_too_short", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"one_megabyte", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 1<<20)},
		{"one_megabyte_of_dollars", strings.Repeat("$", 1<<20)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "pw", tc.phc)
			if !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify error = %v, want ErrMalformedHash", err)
			}
			if ok || rehash {
				t.Errorf("Verify = %v, %v; want false, false", ok, rehash)
			}
		})
	}
}

func TestNFKC(t *testing.T) {
	h := newFastHasher(t)
	tests := []struct {
		name, set, enter string
	}{
		{"ligature_set_plain_entered", "ﬁle cabinet", "file cabinet"},
		{"plain_set_ligature_entered", "file cabinet", "ﬁle cabinet"},
		{"fullwidth_letters", "ｐａｓｓｗｏｒｄ", "password"},
		{"composed_and_decomposed_e_acute", "caf\u00e9", "cafe\u0301"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stored := mustHash(t, h, tc.set)
			if ok, _ := verify(t, h, tc.enter, stored); !ok {
				t.Errorf("%q set, %q entered: not verified", tc.set, tc.enter)
			}
		})
	}
}

func TestLongPasswordIsNotTruncated(t *testing.T) {
	h := newFastHasher(t)
	long := strings.Repeat("abcdefghij", 100) // 1000 characters
	stored := mustHash(t, h, long)
	if ok, _ := verify(t, h, long, stored); !ok {
		t.Fatal("1000-character password does not verify")
	}
	differs := long[:900] + "X" + long[901:]
	if ok, _ := verify(t, h, differs, stored); ok {
		t.Error("password differing at character 900 verifies")
	}
	if ok, _ := verify(t, h, long+"k", stored); ok {
		t.Error("password with a character appended verifies")
	}
}

// hold makes h's next hash block inside its slot until release is called.
func hold(h *Hasher) (entered <-chan struct{}, release func()) {
	in := make(chan struct{})
	out := make(chan struct{})
	h.testHookHashing = func() {
		in <- struct{}{}
		<-out
	}
	return in, func() { close(out) }
}

func TestConcurrencyLimit(t *testing.T) {
	t.Run("second_caller_gets_ErrBusy", func(t *testing.T) {
		h := NewHasher(fast, 1, 5*time.Millisecond)
		entered, release := hold(h)
		first := make(chan error, 1)
		go func() { _, err := h.Hash(context.Background(), "pw"); first <- err }()
		<-entered

		if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
			t.Errorf("Hash while busy: err = %v, want ErrBusy", err)
		}
		if _, _, err := h.Verify(context.Background(), "pw", h.dummy); !errors.Is(err, ErrBusy) {
			t.Errorf("Verify while busy: err = %v, want ErrBusy", err)
		}
		if err := h.VerifyDummy(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
			t.Errorf("VerifyDummy while busy: err = %v, want ErrBusy", err)
		}
		release()
		if err := <-first; err != nil {
			t.Errorf("first Hash: %v", err)
		}
		h.testHookHashing = nil
		if _, err := h.Hash(context.Background(), "pw"); err != nil {
			t.Errorf("Hash after release: %v", err)
		}
	})

	t.Run("zero_wait_fails_at_once", func(t *testing.T) {
		h := NewHasher(fast, 1, 0)
		entered, release := hold(h)
		defer release()
		go h.Hash(context.Background(), "pw")
		<-entered
		if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
			t.Errorf("err = %v, want ErrBusy", err)
		}
	})

	t.Run("waiting_caller_gets_the_freed_slot", func(t *testing.T) {
		h := NewHasher(fast, 1, time.Minute)
		entered, release := hold(h)
		go h.Hash(context.Background(), "pw")
		<-entered
		h2 := make(chan error, 1)
		go func() { _, err := h.Hash(context.Background(), "pw"); h2 <- err }()
		release()
		<-entered // the second hash now holds the slot
		if err := <-h2; err != nil {
			t.Errorf("waiting Hash: %v", err)
		}
	})

	t.Run("cancelled_context_stops_waiting", func(t *testing.T) {
		h := NewHasher(fast, 1, time.Minute)
		entered, release := hold(h)
		defer release()
		go h.Hash(context.Background(), "pw")
		<-entered
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		if _, _, err := h.Verify(ctx, "pw", h.dummy); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("caller_beyond_the_queue_gets_ErrBusy_at_once", func(t *testing.T) {
		// One slot held, one caller waiting (the queue is 1): the next caller is refused
		// without waiting, although the wait is a minute.
		h := NewHasher(fast, 1, time.Minute)
		h.LimitQueue(1)
		entered, release := hold(h)
		first := make(chan error, 1)
		go func() { _, err := h.Hash(context.Background(), "pw"); first <- err }()
		<-entered
		second := make(chan error, 1)
		go func() { _, err := h.Hash(context.Background(), "pw"); second <- err }()
		for h.waiting.Load() != 1 {
			runtime.Gosched()
		}
		if !h.Saturated() {
			t.Error("Saturated = false with the slot taken and the queue full")
		}
		if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
			t.Errorf("Hash beyond the queue: err = %v, want ErrBusy", err)
		}
		release()
		<-entered // the waiting caller got the slot
		if err := errors.Join(<-first, <-second); err != nil {
			t.Errorf("queued hashes: %v", err)
		}
		if n := h.waiting.Load(); n != 0 {
			t.Errorf("%d callers still counted as waiting", n)
		}
		if h.Saturated() {
			t.Error("Saturated = true with the slot free")
		}
	})

	t.Run("default_limit_is_NumCPU", func(t *testing.T) {
		h := NewHasher(fast, 0, 0)
		if cap(h.sem) < 1 {
			t.Errorf("cap = %d, want NumCPU", cap(h.sem))
		}
	})
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(DefaultParams, 1, time.Second)
	for range 2 {
		if err := h.VerifyDummy(context.Background(), "anything at all"); err != nil {
			t.Fatalf("VerifyDummy: %v", err)
		}
	}

	// The dummy is a real, well-formed hash with h's parameters and the
	// standard sizes, verified through Verify: the same work as a real user.
	d, err := parsePHC(h.dummy)
	if err != nil {
		t.Fatalf("dummy hash is malformed: %v", err)
	}
	if d.params != h.params || len(d.salt) != saltLen || len(d.key) != keyLen {
		t.Errorf("dummy hash = %+v/%d/%d, want %+v/%d/%d", d.params, len(d.salt), len(d.key), h.params, saltLen, keyLen)
	}
	calls := 0
	h.testHookHashing = func() { calls++ }
	if err := h.VerifyDummy(context.Background(), ""); err != nil {
		t.Fatalf("VerifyDummy: %v", err)
	}
	if calls != 1 {
		t.Errorf("VerifyDummy ran %d argon2id computations, want 1", calls)
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"defaults", DefaultParams, true},
		{"smallest", Params{MemoryKiB: 8, Iterations: 1, Parallelism: 1}, true},
		{"largest", Params{MemoryKiB: 4 << 20, Iterations: 100, Parallelism: 255}, true},
		{"zero", Params{}, false},
		{"zero_iterations", Params{MemoryKiB: 64, Iterations: 0, Parallelism: 1}, false},
		{"zero_parallelism", Params{MemoryKiB: 64, Iterations: 1, Parallelism: 0}, false},
		{"memory_below_8_per_lane", Params{MemoryKiB: 31, Iterations: 1, Parallelism: 4}, false},
		{"memory_over_4GiB", Params{MemoryKiB: 4<<20 + 1, Iterations: 1, Parallelism: 1}, false},
		{"iterations_over_100", Params{MemoryKiB: 64, Iterations: 101, Parallelism: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestNewHasherPanicsOnInvalidParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewHasher(Params{}) did not panic")
		}
	}()
	NewHasher(Params{}, 1, 0)
}

func FuzzVerify(f *testing.F) {
	h := NewHasher(fast, 1, time.Second)
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		good, "", "$", "$argon2id$", "$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
	} {
		f.Add("pw", s)
	}
	f.Fuzz(func(t *testing.T, pw, stored string) {
		// Keep the fuzzer from running expensive but valid hashes.
		if p, err := parsePHC(stored); err == nil && (p.params.MemoryKiB > 1024 || p.params.Iterations > 2) {
			t.Skip("valid but expensive parameters")
		}
		ok, rehash, err := h.Verify(context.Background(), pw, stored)
		if err != nil && (ok || rehash) {
			t.Errorf("Verify = %v, %v, %v: true with an error", ok, rehash, err)
		}
		if err != nil && !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify error = %v, want ErrMalformedHash", err)
		}
	})
}

// TestObserveCPU checks that an observer of CPU time hears of every key derivation, and
// of none that did not run (a busy refusal).
func TestObserveCPU(t *testing.T) {
	if _, ok := threadCPU(); !ok {
		t.Skip("this platform does not tell a thread's CPU time")
	}
	h := NewHasher(fast, 1, 0)
	var calls int
	var total time.Duration
	h.ObserveCPU(func(d time.Duration) { calls++; total += d })
	ctx := context.Background()
	stored, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, "correct horse", stored); !ok || err != nil {
		t.Fatalf("Verify: %v %v", ok, err)
	}
	if err := h.VerifyDummy(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if calls != 3 || total <= 0 {
		t.Fatalf("%d calls, %v in all; want 3 calls and some CPU time", calls, total)
	}
	h.sem <- struct{}{} // the only slot is taken: the next hash is refused at once
	if _, err := h.Hash(ctx, "correct horse"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with every slot taken: %v, want ErrBusy", err)
	}
	<-h.sem
	if calls != 3 {
		t.Errorf("%d calls after a refused hash, want 3", calls)
	}
}

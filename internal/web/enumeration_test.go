package web_test

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestNoEnumeration checks that a sign-in tells nothing about the account before a correct
// password: an unknown name, a wrong password (with and without an authenticator set up) and
// a disabled account get the same status and the same bytes, and take the same time.
//
// Timing is compared the only way that does not flake on a loaded 2-core CI machine: with the
// real argon2id parameters (19 MiB, t=2: about 40 ms a hash, so the hashing dominates and
// skipping it would show as a factor of ten or more), 41 samples per case taken interleaved
// in a shuffled order (so background load and drift hit every case alike), compared by
// their medians (so the odd sample delayed by the scheduler or the garbage collector does not
// count), with a generous tolerance of 50% relative difference. A leak such as not hashing
// for unknown users is far beyond it; noise is far below it. The test never runs in parallel
// with the package's other tests, and is skipped with -short.
func TestNoEnumeration(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison with real argon2 parameters skipped in -short mode")
	}
	const samples = 41
	defaults := password.Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}
	srv := testserver.New(t, testserver.Options{Argon2: &defaults, Throttle: manyAttempts})
	enrolled(t, srv, "alice") // has an authenticator
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	srv.CreateUser(t, "carol", "carol@example.com", "user")
	disable(t, srv, "carol")

	cases := []struct{ name, username, password string }{
		{"wrong_password_with_MFA", "alice", "not the password at all 1"},
		{"wrong_password_without_MFA", "bob@example.com", "not the password at all 2"},
		{"unknown_user", "mallory", "not the password at all 3"},
		{"disabled_account_right_password", "carol", testserver.Password},
	}
	c := srv.Client(t)
	try := func(i int) (time.Duration, *testserver.Response) {
		start := time.Now()
		r := login(c, cases[i].username, cases[i].password)
		return time.Since(start), r
	}
	for i := range cases { // warm up: first hashes allocate, first queries prepare
		try(i)
	}

	durations := make([][]time.Duration, len(cases))
	var first *testserver.Response
	rng := rand.New(rand.NewPCG(5, 5))
	order := []int{0, 1, 2, 3}
	for range samples {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, i := range order {
			d, r := try(i)
			durations[i] = append(durations[i], d)
			wantProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
			if first == nil {
				first = r
			} else if !bytes.Equal(r.Body, first.Body) {
				t.Fatalf("%s answered differently:\n%s\n%s", cases[i].name, r.Body, first.Body)
			}
			if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
				t.Fatalf("%s set a cookie: %v", cases[i].name, sc)
			}
		}
	}

	medians := make([]time.Duration, len(cases))
	for i := range cases {
		medians[i] = median(durations[i])
		t.Logf("%-32s median %v", cases[i].name, medians[i])
	}
	base := medians[0]
	for i := 1; i < len(cases); i++ {
		lo, hi := min(base, medians[i]), max(base, medians[i])
		if float64(hi-lo) > 0.5*float64(lo) {
			t.Errorf("%s takes %v against %v for a wrong password: more than 50%% apart, the time tells them apart",
				cases[i].name, medians[i], base)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

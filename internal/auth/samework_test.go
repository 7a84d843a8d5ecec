package auth_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// recorder logs the work a sign-in attempt does: each key derivation with its parameters,
// and each call into the store on the sign-in path (audit events by name).
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(call string) { r.mu.Lock(); r.calls = append(r.calls, call); r.mu.Unlock() }

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// recordingStore records the store calls a failed sign-in can make; a call made in a
// transaction is recorded as "tx." and its name.
type recordingStore struct {
	store.Store
	r  *recorder
	tx bool
}

func (s recordingStore) add(call string) {
	if s.tx {
		call = "tx." + call
	}
	s.r.add(call)
}

func (s recordingStore) GetUserByLogin(ctx context.Context, norm string) (*store.User, error) {
	s.add("GetUserByLogin")
	return s.Store.GetUserByLogin(ctx, norm)
}

func (s recordingStore) GetUser(ctx context.Context, id string) (*store.User, error) {
	s.add("GetUser")
	return s.Store.GetUser(ctx, id)
}

func (s recordingStore) ReserveAttempt(ctx context.Context, kind, key string, p throttle.Policy, now time.Time) (*store.ThrottleBudget, bool, error) {
	s.add("ReserveAttempt(" + kind + ")")
	return s.Store.ReserveAttempt(ctx, kind, key, p, now)
}

func (s recordingStore) ResetBudget(ctx context.Context, kind, key string) error {
	s.add("ResetBudget(" + kind + ")")
	return s.Store.ResetBudget(ctx, kind, key)
}

func (s recordingStore) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	s.add("AppendAudit(" + e.Event + ")")
	return s.Store.AppendAudit(ctx, e)
}

func (s recordingStore) GetTOTP(ctx context.Context, userID string) (*store.TOTPCredential, error) {
	s.add("GetTOTP")
	return s.Store.GetTOTP(ctx, userID)
}

// LockAccount is recorded: on PostgreSQL it is a statement of its own, which every path
// of a request that must not tell whether the account exists has to make alike.
func (s recordingStore) LockAccount(ctx context.Context, userID string) error {
	s.add("LockAccount")
	return s.Store.LockAccount(ctx, userID)
}

func (s recordingStore) WithTx(ctx context.Context, fn func(store.Store) error) error {
	s.add("WithTx")
	return s.Store.WithTx(ctx, func(tx store.Store) error { return fn(recordingStore{Store: tx, r: s.r, tx: true}) })
}

// TestSignInFailuresDoTheSameWork: a sign-in that fails tells nothing about the account,
// in its answer or in its cost. Every failing path (an unknown name or e-mail address, a
// name that is not text, a wrong password, a disabled account's right password) makes the
// same store calls in the same order and exactly one argon2id derivation with the
// configured parameters. This is the check that holds on any machine; the timing itself
// is measured by BenchmarkSignInFailures in internal/web.
func TestSignInFailuresDoTheSameWork(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	params := password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}
	hasher := password.NewHasher(params, 2, time.Second)
	hasher.Observe(func(w password.Work) {
		rec.add(fmt.Sprintf("argon2id(m=%d,t=%d,p=%d,len=%d)", w.Params.MemoryKiB, w.Params.Iterations, w.Params.Parallelism, w.KeyLen))
	})
	plain, _ := newService(t, auth.Options{})
	svc, _ := newService(t, auth.Options{Store: recordingStore{Store: fullStore(plain), r: rec}, Hasher: hasher})
	for _, name := range []string{"alice", "carol"} {
		if _, err := svc.CreateUser(ctx, auth.NewUser{Username: name, Email: name + "@example.com", Password: "correct horse battery staple 9"}, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	carol, err := svc.FindUser(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetDisabled(ctx, carol, true, auth.Meta{}); err != nil {
		t.Fatal(err)
	}

	cases := []struct{ name, identifier, password string }{
		{"wrong_password", "alice", "not the password at all 1"},
		{"unknown_name", "mallory", "not the password at all 2"},
		{"unknown_e-mail", "mallory@example.com", "not the password at all 3"},
		{"name_that_is_not_text", "mal\x00lory", "not the password at all 4"},
		{"disabled_account_right_password", "carol", "correct horse battery staple 9"},
	}
	var want []string
	for _, tc := range cases {
		rec.take()
		_, err := svc.Login(ctx, tc.identifier, tc.password, auth.Meta{IP: "192.0.2.1"})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeInvalidCredentials {
			t.Fatalf("%s: Login = %v, want invalid_credentials", tc.name, err)
		}
		got := rec.take()
		if n := len(slices.DeleteFunc(slices.Clone(got), func(c string) bool { return c[:3] != "arg" })); n != 1 {
			t.Fatalf("%s: %d argon2id derivations %v, want exactly 1", tc.name, n, got)
		}
		if want == nil {
			want = got
			t.Logf("a failed sign-in: %v", want)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s does other work than %s:\n got  %v\n want %v", tc.name, cases[0].name, got, want)
		}
	}
	if !slices.Contains(want, fmt.Sprintf("argon2id(m=%d,t=%d,p=%d,len=32)", params.MemoryKiB, params.Iterations, params.Parallelism)) {
		t.Fatalf("the derivation does not use the configured parameters: %v", want)
	}
}

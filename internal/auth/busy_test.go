package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestBusyIsNoFailedAttempt: a sign-in refused because every hashing slot is taken (503
// busy) was never checked, so it must not count against the account's failure budget; a
// burst of sign-ins would otherwise throttle the very users it kept waiting.
func TestBusyIsNoFailedAttempt(t *testing.T) {
	hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 1, 0)
	svc, _ := newService(t, auth.Options{Hasher: hasher})
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com", Password: testserver.Password}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	// Hold the only slot: the next hash blocks inside it until released.
	entered, release := make(chan struct{}), make(chan struct{})
	hasher.Observe(func(password.Work) { entered <- struct{}{}; <-release })
	done := make(chan error, 1)
	go func() { _, err := svc.Login(ctx, "bob-unknown", "whatever it is 123", auth.Meta{}); done <- err }()
	<-entered

	for i := range 10 { // twice the free attempts
		if _, err := svc.Login(ctx, "alice", testserver.Password, auth.Meta{}); !errors.Is(err, apperr.ErrBusy) {
			t.Fatalf("sign-in %d while the hasher is full: err = %v, want busy", i, err)
		}
	}
	if b, err := fullStore(svc).GetBudget(ctx, store.BudgetPassword, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("budget after busy answers: %+v, %v; want none (no failure)", b, err)
	}
	close(release)
	<-done
	hasher.Observe(nil)
	if _, err := svc.Login(ctx, "alice", testserver.Password, auth.Meta{}); err != nil {
		t.Fatalf("sign-in once the hasher is free: %v", err)
	}
}

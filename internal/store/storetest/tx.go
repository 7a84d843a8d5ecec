package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var txTests = []subtest{
	{"Commit", testTxCommit},
	{"ErrorRollsBackEveryWrite", testTxRollback},
	{"StoreErrorRollsBack", testTxStoreErrorRollback},
	{"NestedJoinsOuter", testTxNestedJoins},
	{"NestedErrorRollsBackAll", testTxNestedError},
	{"PanicRollsBack", testTxPanic},
	{"AccountLockComesFirst", testTxAccountLockOrder},
}

// testTxAccountLockOrder: LockAccount is a transaction's first lock and its only one. After
// reads it may come; outside a transaction, after a write, or for a second account it is
// ErrLockOrder; for the account it holds, a no-op.
func testTxAccountLockOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	wantErr(t, "LockAccount outside a transaction", s.LockAccount(ctx, alice.ID), store.ErrLockOrder)
	err := s.WithTx(ctx, func(tx store.Store) error {
		if _, err := tx.GetUser(ctx, alice.ID); err != nil {
			return err
		}
		if err := tx.LockAccount(ctx, alice.ID); err != nil {
			return fmt.Errorf("after a read: %w", err)
		}
		if err := tx.SetUserDisplayName(ctx, alice.ID, "Alice", at(time.Minute)); err != nil {
			return err
		}
		if err := tx.LockAccount(ctx, alice.ID); err != nil {
			return fmt.Errorf("the same account again: %w", err)
		}
		// Nested transactions join the outer one, and its lock.
		if err := tx.WithTx(ctx, func(inner store.Store) error { return inner.LockAccount(ctx, alice.ID) }); err != nil {
			return fmt.Errorf("the same account in a nested transaction: %w", err)
		}
		wantErr(t, "LockAccount of a second account", tx.LockAccount(ctx, bob.ID), store.ErrLockOrder)
		return nil
	})
	wantNoErr(t, "WithTx", err)
	err = s.WithTx(ctx, func(tx store.Store) error {
		if err := tx.SetUserDisplayName(ctx, bob.ID, "Bob", at(time.Minute)); err != nil {
			return err
		}
		return tx.LockAccount(ctx, bob.ID)
	})
	wantErr(t, "LockAccount after a write", err, store.ErrLockOrder)
	if got, err := s.GetUser(ctx, bob.ID); err != nil || got.DisplayName == "Bob" {
		t.Errorf("the transaction whose lock came too late committed: %v, %+v", err, got)
	}
}

func testTxCommit(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := userFixture(t, "alice")
	c := totpFixture(t, u.ID)
	err := s.WithTx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		// A transaction reads its own writes.
		if _, err := tx.GetUser(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.PutTOTP(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEvent{At: at(0), Event: "user.created", SubjectID: u.ID})
	})
	wantNoErr(t, "WithTx", err)
	got, err := s.GetUser(ctx, u.ID)
	wantNoErr(t, "GetUser after commit", err)
	wantSame(t, "user after commit", got, u)
	wantSame(t, "credential after commit", getTOTP(t, s, u.ID), c)
	if n := len(listAudit(t, s, store.AuditFilter{})); n != 1 {
		t.Errorf("audit events after commit = %d, want 1", n)
	}
}

// snapshot is what the rollback tests expect to find unchanged.
type snapshot struct {
	Users    []store.User
	Sessions []store.SessionRecord
	Events   []store.AuditEvent
}

func takeSnapshot(t testing.TB, s store.Store, userID string) snapshot {
	t.Helper()
	users, err := s.ListUsers(t.Context())
	wantNoErr(t, "ListUsers", err)
	sessions, err := s.ListUserSessions(t.Context(), userID, base)
	wantNoErr(t, "ListUserSessions", err)
	return snapshot{users, sessions, listAudit(t, s, store.AuditFilter{})}
}

func testTxRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	mustCreateSession(t, s, alice.ID, at(-time.Minute))
	rc := mustPutRecovery(t, s, alice.ID)
	mustAppend(t, s, store.AuditEvent{At: at(0), Event: "user.created", SubjectID: alice.ID})
	before := takeSnapshot(t, s, alice.ID)

	bob := userFixture(t, "bob")
	setupToken := randomBytes(t, 32)
	err := s.WithTx(ctx, func(tx store.Store) error {
		steps := []struct {
			name string
			err  error
		}{
			{"CreateUser", tx.CreateUser(ctx, bob)},
			{"SetUserRole", tx.SetUserRole(ctx, alice.ID, store.RoleAdmin, at(time.Hour))},
			{"SetUserDisabled", tx.SetUserDisabled(ctx, alice.ID, true, at(time.Hour))},
			{"PutTOTP", tx.PutTOTP(ctx, totpFixture(t, alice.ID))},
			{"PutPendingTOTP", tx.PutPendingTOTP(ctx, pendingFixture(t, alice.ID))},
			{"ConsumeRecoveryCode", tx.ConsumeRecoveryCode(ctx, alice.ID, rc.CodeHash, randomBytes(t, 32), at(time.Hour))},
			{"CreateSession", tx.CreateSession(ctx, sessionFixture(t, alice.ID, at(0)))},
			{"AppendAudit", tx.AppendAudit(ctx, &store.AuditEvent{At: at(time.Hour), Event: "user.role_changed", SubjectID: alice.ID})},
			{"CreateSetupToken", tx.CreateSetupToken(ctx, setupToken, at(time.Hour))},
		}
		for _, st := range steps {
			if st.err != nil {
				t.Errorf("%s inside WithTx: %v", st.name, st.err)
			}
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx returned %v, want fn's error %v", err, errBoom)
	}

	wantSame(t, "store after rollback", takeSnapshot(t, s, alice.ID), before)
	_, err = s.GetTOTP(ctx, alice.ID)
	wantErr(t, "GetTOTP after rollback", err, store.ErrNotFound)
	_, err = s.GetPendingTOTP(ctx, alice.ID, base)
	wantErr(t, "GetPendingTOTP after rollback", err, store.ErrNotFound)
	wantSame(t, "recovery code after rollback", getRecovery(t, s, alice.ID), rc)
	wantErr(t, "CheckSetupToken after rollback", s.CheckSetupToken(ctx, setupToken, base), store.ErrNotFound)
}

func testTxStoreErrorRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := userFixture(t, "bob")
	dup := userFixture(t, "alice2")
	dup.UsernameNorm = alice.UsernameNorm
	err := s.WithTx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, bob); err != nil {
			return err
		}
		return tx.CreateUser(ctx, dup)
	})
	wantConflict(t, err, "username")
	_, err = s.GetUser(ctx, bob.ID)
	wantErr(t, "GetUser(bob) after the transaction failed", err, store.ErrNotFound)

	// The store still works after a failed transaction.
	wantNoErr(t, "CreateUser(bob) afterwards", s.CreateUser(ctx, bob))
}

func testTxNestedJoins(t *testing.T, s store.Store) {
	ctx := t.Context()
	outer, inner := userFixture(t, "outer"), userFixture(t, "inner")
	err := s.WithTx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, outer); err != nil {
			return err
		}
		if err := tx.WithTx(ctx, func(tx2 store.Store) error {
			// The nested call sees the outer transaction's writes.
			if _, err := tx2.GetUser(ctx, outer.ID); err != nil {
				return err
			}
			return tx2.CreateUser(ctx, inner)
		}); err != nil {
			return err
		}
		// The inner write is not committed on its own: fn fails afterwards.
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx returned %v, want %v", err, errBoom)
	}
	for _, u := range []*store.User{outer, inner} {
		_, err := s.GetUser(ctx, u.ID)
		wantErr(t, "GetUser("+u.Username+") after the outer transaction rolled back", err, store.ErrNotFound)
	}

	err = s.WithTx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, outer); err != nil {
			return err
		}
		return tx.WithTx(ctx, func(tx2 store.Store) error { return tx2.CreateUser(ctx, inner) })
	})
	wantNoErr(t, "WithTx(nested, both succeed)", err)
	for _, u := range []*store.User{outer, inner} {
		_, err := s.GetUser(ctx, u.ID)
		wantNoErr(t, "GetUser("+u.Username+") after commit", err)
	}
}

func testTxNestedError(t *testing.T, s store.Store) {
	ctx := t.Context()
	outer, inner := userFixture(t, "outer"), userFixture(t, "inner")
	err := s.WithTx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, outer); err != nil {
			return err
		}
		return tx.WithTx(ctx, func(tx2 store.Store) error {
			if err := tx2.CreateUser(ctx, inner); err != nil {
				return err
			}
			return errBoom
		})
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx returned %v, want %v", err, errBoom)
	}
	for _, u := range []*store.User{outer, inner} {
		_, err := s.GetUser(ctx, u.ID)
		wantErr(t, "GetUser("+u.Username+") after the nested error", err, store.ErrNotFound)
	}
}

// testTxPanic checks that a panic in fn rolls the transaction back and releases it: the
// panic propagates, the write is gone, and the next writes are not blocked by a
// transaction left open.
func testTxPanic(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := userFixture(t, "alice")
	func() {
		defer func() {
			if p := recover(); p != errBoom {
				t.Errorf("recovered %v, want WithTx to let fn's panic through", p)
			}
		}()
		_ = s.WithTx(ctx, func(tx store.Store) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			panic(errBoom)
		})
	}()
	_, err := s.GetUser(ctx, u.ID)
	wantErr(t, "GetUser after a panic in WithTx", err, store.ErrNotFound)

	done := make(chan error, 1)
	go func() {
		done <- s.WithTx(ctx, func(tx store.Store) error { return tx.CreateUser(ctx, u) })
	}()
	select {
	case err := <-done:
		wantNoErr(t, "WithTx after a panicking one", err)
	case <-time.After(5 * time.Second):
		t.Fatal("a write after a panicking transaction is still blocked after 5s: the transaction was left open")
	}
}

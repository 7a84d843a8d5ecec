package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/throttle"
)

// callStore records the store calls of the sign-in path, inside transactions too.
type callStore struct {
	store.Store
	calls *[]string
}

func (c callStore) WithTx(ctx context.Context, fn func(store.Store) error) error {
	*c.calls = append(*c.calls, "WithTx")
	return c.Store.WithTx(ctx, func(tx store.Store) error { return fn(callStore{tx, c.calls}) })
}

func (c callStore) GetUserByLogin(ctx context.Context, norm string) (*store.User, error) {
	*c.calls = append(*c.calls, "GetUserByLogin")
	return c.Store.GetUserByLogin(ctx, norm)
}

func (c callStore) ReserveAttempt(ctx context.Context, kind, key string, p throttle.Policy, now time.Time) (*store.ThrottleBudget, bool, error) {
	*c.calls = append(*c.calls, "ReserveAttempt "+kind)
	return c.Store.ReserveAttempt(ctx, kind, key, p, now)
}

func (c callStore) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	*c.calls = append(*c.calls, "AppendAudit "+e.Event+" "+e.Detail)
	return c.Store.AppendAudit(ctx, e)
}

// TestNonTextNameDoesTheWorkOfAnUnknownOne: a sign-in name with a NUL or bytes that are not
// UTF-8 answers like an unknown name after the same store calls (and so the same hashing),
// on a store that would refuse the raw name.
func TestNonTextNameDoesTheWorkOfAnUnknownOne(t *testing.T) {
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var calls []string
	svc, _ := newService(t, auth.Options{Store: callStore{db, &calls}})
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com", Password: "violet tangerine quarry ledger 7"}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	login := func(name, pw string) []string {
		t.Helper()
		calls = nil
		_, err := svc.Login(ctx, name, pw, auth.Meta{IP: "192.0.2.1"})
		if !errors.Is(err, apperr.ErrInvalidCredentials) {
			t.Fatalf("Login(%q) = %v, want invalid credentials", name, err)
		}
		return slices.Clone(calls)
	}
	unknown := login("nobody", "violet tangerine quarry ledger 7")
	t.Logf("store calls for an unknown name: %v", unknown)
	for _, name := range []string{"alice\x00", "\x00", "alice\xff", "\xff\xfe"} {
		if got := login(name, "violet tangerine quarry ledger 7"); !slices.Equal(got, unknown) {
			t.Errorf("store calls for %q:\n  %v\nwant those for an unknown name:\n  %v", name, got, unknown)
		}
	}
	// A password that is not text is a wrong password for a real account.
	wrong := login("alice", "a wrong password 123")
	for _, pw := range []string{"violet tangerine quarry ledger 7\x00", "violet tangerine quarry ledger 7\xff"} {
		if got := login("alice", pw); !slices.Equal(got, wrong) {
			t.Errorf("store calls for a password %q:\n  %v\nwant those for a wrong password:\n  %v", pw, got, wrong)
		}
	}
}

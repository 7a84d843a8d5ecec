package sqlstore_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// TestBackupReadsWhatTellsTheKey: a backup file answers KeyCheck, AnyTOTPSecret and
// NewestOIDCSigningKey as the store does, read-only; one from before the key check (no key_check table) has no value.
func TestBackupReadsWhatTellsTheKey(t *testing.T) {
	db, path := openTemp(t)
	ctx := t.Context()
	now := time.Now()
	check, secret := []byte("sealed key check value"), []byte("sealed authenticator secret")
	if err := db.CreateUser(ctx, plainUser("alice")); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTOTP(ctx, &store.TOTPCredential{UserID: "alice", SecretEnc: secret, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutKeyCheck(ctx, check, now); err != nil {
		t.Fatal(err)
	}
	key := &store.OIDCSigningKey{ID: "kid-1", Alg: "ES256", PrivateEnc: []byte("sealed signing key"), CreatedAt: now.Truncate(time.Millisecond)}
	if err := db.CreateOIDCSigningKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	read := func(t *testing.T) *sqlstore.Backup {
		t.Helper()
		b, err := sqlstore.OpenBackup(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}

	b := read(t)
	if got, err := b.KeyCheck(ctx); err != nil || !bytes.Equal(got, check) {
		t.Errorf("KeyCheck = %q, %v; want %q", got, err, check)
	}
	if user, got, err := b.AnyTOTPSecret(ctx); err != nil || user != "alice" || !bytes.Equal(got, secret) {
		t.Errorf("AnyTOTPSecret = %s, %q, %v; want alice, %q", user, got, err, secret)
	}
	if got, err := b.NewestOIDCSigningKey(ctx); err != nil || got.ID != key.ID || got.Alg != key.Alg ||
		!bytes.Equal(got.PrivateEnc, key.PrivateEnc) || !got.CreatedAt.Equal(key.CreatedAt) {
		t.Errorf("NewestOIDCSigningKey = %+v, %v; want %+v", got, err, key)
	}

	if _, err := rawDB(t, path).ExecContext(ctx, `DROP TABLE key_check`); err != nil {
		t.Fatal(err)
	}
	if _, err := read(t).KeyCheck(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KeyCheck of a file from before the key check: %v, want store.ErrNotFound", err)
	}
}

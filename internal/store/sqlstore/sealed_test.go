package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// TestHoldsSealedData: a database holds sealed data once it has a key check value, an
// authenticator, a recovery code, a signing key or an unsent mail; users alone and a
// pending setup do not count. It runs on SQLite and, when TWOFOLD_TEST_POSTGRES_DSN is set, on PostgreSQL.
func TestHoldsSealedData(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	sealed := []byte("sealed under some key")
	for _, tc := range []struct {
		name string
		put  func(ctx context.Context, db *sqlstore.DB) error
		want bool
	}{
		{"a user alone", func(context.Context, *sqlstore.DB) error { return nil }, false},
		{"an authenticator setup not confirmed", func(ctx context.Context, db *sqlstore.DB) error {
			return db.PutPendingTOTP(ctx, &store.PendingTOTP{UserID: "alice", SecretEnc: sealed, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		}, false},
		{"an authenticator", func(ctx context.Context, db *sqlstore.DB) error {
			return db.PutTOTP(ctx, &store.TOTPCredential{UserID: "alice", SecretEnc: sealed, CreatedAt: now})
		}, true},
		{"a recovery code", func(ctx context.Context, db *sqlstore.DB) error {
			return db.PutRecoveryCode(ctx, &store.RecoveryCode{UserID: "alice", CodeHash: sealed, CreatedAt: now})
		}, true},
		{"a signing key", func(ctx context.Context, db *sqlstore.DB) error {
			return db.CreateOIDCSigningKey(ctx, &store.OIDCSigningKey{ID: "k1", Alg: "ES256", PrivateEnc: sealed, CreatedAt: now})
		}, true},
		{"a key check value", func(ctx context.Context, db *sqlstore.DB) error {
			return db.PutKeyCheck(ctx, sealed, now)
		}, true},
		{"a mail not sent yet", func(ctx context.Context, db *sqlstore.DB) error {
			return db.EnqueueMail(ctx, &store.QueuedMail{Kind: "notice", To: "alice@example.com", Message: sealed,
				Status: store.MailPending, CreatedAt: now, NextAttemptAt: now, GiveUpAt: now.Add(time.Hour)})
		}, true},
	} {
		for _, backend := range []struct {
			name string
			open func(t *testing.T) *sqlstore.DB
		}{
			{"sqlite", func(t *testing.T) *sqlstore.DB { db, _ := openTemp(t); return db }},
			{"postgres", func(t *testing.T) *sqlstore.DB { db, _ := openPostgresRaw(t, 2); return db }}, // skips without a server
		} {
			t.Run(backend.name+"/"+tc.name, func(t *testing.T) {
				db := backend.open(t)
				ctx := t.Context()
				if err := db.CreateUser(ctx, plainUser("alice")); err != nil {
					t.Fatal(err)
				}
				if err := tc.put(ctx, db); err != nil {
					t.Fatal(err)
				}
				if got, err := db.HoldsSealedData(ctx); err != nil || got != tc.want {
					t.Errorf("HoldsSealedData = %v, %v; want %v", got, err, tc.want)
				}
			})
		}
	}
}

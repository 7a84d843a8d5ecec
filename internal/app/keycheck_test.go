package app_test

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testutil"
)

// backends are the databases an installation can live in; postgres skips without a server.
var backends = []struct {
	name   string
	config func(t *testing.T) *config.Config
}{
	{"sqlite", func(t *testing.T) *config.Config { return newConfig(t, "") }},
	{"postgres", func(t *testing.T) *config.Config { return newConfig(t, testutil.PostgresURL(t)) }},
}

// newConfig is a new installation's configuration: a fresh data directory, and the
// PostgreSQL database at url ("" for SQLite in the data directory).
func newConfig(t *testing.T, url string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Database.URL = url
	return cfg
}

// newKey is a random master key in the text form of TWOFOLD_MASTER_KEY.
func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, secrets.KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// open opens the installation with the master key in TWOFOLD_MASTER_KEY (env; "" for the
// key file).
func open(t *testing.T, cfg *config.Config, env string) (*app.App, error) {
	t.Helper()
	a, err := app.Open(t.Context(), cfg, app.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MasterKeyEnv: env})
	if err == nil {
		t.Cleanup(func() { a.Close() })
	}
	return a, err
}

func mustOpen(t *testing.T, cfg *config.Config, env string) *app.App {
	t.Helper()
	a, err := open(t, cfg, env)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return a
}

// addAuthenticator stores a user alice with an authenticator secret sealed with a's key.
func addAuthenticator(t *testing.T, a *app.App) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	u := &store.User{Account: store.Account{ID: "u-alice", Username: "alice", Email: "alice@example.com", Role: store.RoleUser},
		UsernameNorm: "alice", EmailNorm: "alice@example.com", CreatedAt: now, UpdatedAt: now}
	if err := a.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sealed, err := a.Keys.Box(auth.TOTPSecretPurpose).Seal([]byte("12345678901234567890"), []byte(u.ID))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.PutTOTP(ctx, &store.TOTPCredential{UserID: u.ID, SecretEnc: sealed, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

// rawDB opens the installation's database with database/sql, past the store.
func rawDB(t *testing.T, cfg *config.Config) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+cfg.DatabasePath()+"?_pragma=busy_timeout(10000)"
	if cfg.Database.Postgres() {
		driver, dsn = "pgx", cfg.Database.URL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// keyCheck returns the stored key check value; nil when there is none.
func keyCheck(t *testing.T, db *sql.DB) []byte {
	t.Helper()
	var sealed []byte
	err := db.QueryRowContext(t.Context(), `SELECT sealed FROM key_check`).Scan(&sealed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	return sealed
}

// count counts the rows of table.
func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantWrongKey fails unless err is a *WrongKeyError naming source.
func wantWrongKey(t *testing.T, err error, source string) {
	t.Helper()
	var wrong *app.WrongKeyError
	if !errors.As(err, &wrong) {
		t.Fatalf("open with another key: %v, want a *WrongKeyError", err)
	}
	for _, w := range []string{"the master key from " + source + " does not open", "made with another key", "docs/operations.md"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q: %v", w, err)
		}
	}
}

// TestWrongMasterKeyIsRefused: an installation opened with another valid key, from
// TWOFOLD_MASTER_KEY or a replaced key file, is refused with a *WrongKeyError and nothing
// is written; its own key, either way, opens it.
func TestWrongMasterKeyIsRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg := b.config(t)
			own := newKey(t)
			addAuthenticator(t, mustOpen(t, cfg, own))
			db := rawDB(t, cfg)
			check, audit := keyCheck(t, db), count(t, db, "audit_events")
			if check == nil {
				t.Fatal("the first open stored no key check value")
			}

			t.Run("another key in TWOFOLD_MASTER_KEY", func(t *testing.T) {
				_, err := open(t, cfg, newKey(t))
				wantWrongKey(t, err, "TWOFOLD_MASTER_KEY")
			})
			t.Run("another key file", func(t *testing.T) {
				if err := os.WriteFile(cfg.MasterKeyPath(), []byte(newKey(t)+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := open(t, cfg, "")
				wantWrongKey(t, err, apperr.QuotePath(cfg.MasterKeyPath()))
			})
			if got := keyCheck(t, db); !bytes.Equal(got, check) {
				t.Errorf("the key check value changed: %x, was %x", got, check)
			}
			if got := count(t, db, "audit_events"); got != audit {
				t.Errorf("%d audit events, were %d before the refused opens", got, audit)
			}

			t.Run("its own key in TWOFOLD_MASTER_KEY", func(t *testing.T) {
				mustOpen(t, cfg, own)
			})
			t.Run("its own key file", func(t *testing.T) {
				if err := os.WriteFile(cfg.MasterKeyPath(), []byte(own+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				mustOpen(t, cfg, "")
			})
		})
	}
}

// TestFirstOpensWithDifferentKeysRaceOnPostgres: instances starting at once on a new
// PostgreSQL database, each with a key of its own: exactly one starts; the others are
// refused with a *WrongKeyError, not left to seal with a key the database does not know.
func TestFirstOpensWithDifferentKeysRaceOnPostgres(t *testing.T) {
	for round := range 3 {
		url := testutil.PostgresURL(t)
		const n = 3
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			cfg := newConfig(t, url)
			key := newKey(t)
			wg.Go(func() { _, errs[i] = open(t, cfg, key) })
		}
		wg.Wait()
		started := 0
		for i, err := range errs {
			var wrong *app.WrongKeyError
			switch {
			case err == nil:
				started++
			case !errors.As(err, &wrong):
				t.Errorf("round %d, instance %d: %v, want a *WrongKeyError or none", round, i, err)
			}
		}
		if started != 1 {
			t.Errorf("round %d: %d instances started, want exactly 1 (errors: %v)", round, started, errs)
		}
	}
}

// TestKeyCheckAddedOnUpgrade: a database from before the key check (its value deleted) is
// checked against its newest authenticator secret: another key is refused and recorded
// nowhere; its own key opens it and records the value.
func TestKeyCheckAddedOnUpgrade(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg := b.config(t)
			own := newKey(t)
			addAuthenticator(t, mustOpen(t, cfg, own))
			upgradeRefusesAnotherKey(t, cfg, own)
		})
	}
}

// upgradeRefusesAnotherKey takes the key check value out of the installation made with
// the key own, as a database from before the key check has none; then another key is
// refused and not recorded, and own opens it and is recorded.
func upgradeRefusesAnotherKey(t *testing.T, cfg *config.Config, own string) {
	t.Helper()
	db := rawDB(t, cfg)
	if _, err := db.ExecContext(t.Context(), `DELETE FROM key_check`); err != nil {
		t.Fatal(err)
	}

	_, err := open(t, cfg, newKey(t))
	wantWrongKey(t, err, "TWOFOLD_MASTER_KEY")
	if got := keyCheck(t, db); got != nil {
		t.Fatalf("the refused key's value was stored: %x", got)
	}

	a := mustOpen(t, cfg, own)
	if _, err := a.Keys.Box(app.KeyCheckPurpose).Open(keyCheck(t, db), []byte(app.KeyCheckPurpose)); err != nil {
		t.Errorf("the stored key check value does not open with the database's key: %v", err)
	}
}

// TestKeyCheckAddedOnUpgradeWithOnlySigningKeys: a database from before the key check
// that holds no authenticator secret (its users sign in with passkeys, or not yet) but
// signs ID tokens is checked against its newest signing key: another key is refused and
// not recorded; its own key opens it and is recorded.
func TestKeyCheckAddedOnUpgradeWithOnlySigningKeys(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg := b.config(t)
			own := newKey(t)
			if _, err := mustOpen(t, cfg, own).OIDCAdmin.SigningKeys(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := count(t, rawDB(t, cfg), "oidc_signing_keys"); n != 1 {
				t.Fatalf("%d signing keys, want 1", n)
			}
			upgradeRefusesAnotherKey(t, cfg, own)
		})
	}
}

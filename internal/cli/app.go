package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/support"
)

// app is the wired program: configuration, database, keys and the auth service.
type app struct {
	cfg   *config.Config
	store *sqlstore.DB
	auth  *auth.Service
	keys  *secrets.Keyring // sub-keys of the master key (OIDC signing keys, issue 6)
	// support is the support desk (issue 4, support.go).
	support *support.Service
}

// openApp opens the database (creating the data directory and applying migrations) and
// loads or creates the master key.
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, masterKeyEnv string) (*app, error) {
	key, created, err := secrets.LoadOrCreateMasterKey(masterKeyEnv, cfg.MasterKeyPath())
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("generated a new master key; back it up with the database", "file", cfg.MasterKeyPath())
	}
	keyring, err := secrets.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	params := password.Params{
		MemoryKiB:   cfg.Password.Argon2.MemoryKiB,
		Iterations:  cfg.Password.Argon2.Iterations,
		Parallelism: cfg.Password.Argon2.Parallelism,
	}
	if err := params.Validate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("password.argon2: %w", err)
	}
	policy := password.DefaultPolicy
	policy.MinLength = cfg.Password.MinLength
	mailer, err := newMailer(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	svc := auth.New(auth.Options{
		Notifier:           mail.NewNotifier(mailer, log, cfg.MFA.Issuer),
		Store:              db,
		Hasher:             password.NewHasher(params, cfg.Password.MaxConcurrentHashes, 2*time.Second),
		PasswordPolicy:     policy,
		Keyring:            keyring,
		MFARequiredForRole: cfg.MFA.Required.RequiredFor,
		Issuer:             cfg.MFA.Issuer,
		IdleTimeout:        cfg.Session.IdleTimeout,
		Lifetime:           cfg.Session.Lifetime,
		Throttle:           throttlePolicy(cfg),
		ForgetBudgetsAfter: cfg.Limits.ForgetAfter,
	})
	return &app{cfg: cfg, store: db, auth: svc, keys: keyring, support: newSupport(cfg, db, svc, mailer, log)}, nil
}

func (a *app) Close() error { return a.store.Close() }

// openStore opens PostgreSQL when database.url is set, else the embedded SQLite file.
func openStore(ctx context.Context, cfg *config.Config) (*sqlstore.DB, error) {
	if cfg.Database.Postgres() {
		return sqlstore.OpenPostgres(ctx, cfg.Database.URL, sqlstore.PoolOptions{
			MaxOpenConns:    cfg.Database.MaxOpenConns,
			MaxIdleConns:    cfg.Database.MaxIdleConns,
			ConnMaxLifetime: cfg.Database.ConnMaxLifetime,
		})
	}
	return sqlstore.OpenSQLite(ctx, cfg.DatabasePath())
}

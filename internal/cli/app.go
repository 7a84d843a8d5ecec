package cli

import (
	"context"
	"log/slog"

	twofold "github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/config"
)

// app is the wired program the commands work on.
type app = twofold.App

// openApp opens the database (applying migrations) and loads the master key, wired for
// production by internal/app. Where there is no database yet it starts a new installation:
// the data directory, the master key and the database. It never makes a new key for an
// existing database (twofold.MissingKeyError).
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, masterKeyEnv string) (*app, error) {
	return twofold.Open(ctx, cfg, twofold.Options{Log: log, MasterKeyEnv: masterKeyEnv})
}

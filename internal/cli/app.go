package cli

import (
	"context"
	"log/slog"

	twofold "github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/config"
)

// app is the wired program the commands work on.
type app = twofold.App

// openApp opens the database (creating the data directory and applying migrations) and
// loads or creates the master key, wired for production by internal/app.
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, masterKeyEnv string) (*app, error) {
	return twofold.Open(ctx, cfg, twofold.Options{Log: log, MasterKeyEnv: masterKeyEnv})
}

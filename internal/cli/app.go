package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	twofold "github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/config"
)

// app is the wired program the commands work on.
type app = twofold.App

// openApp opens the database (applying migrations) and loads the master key, wired for
// production by internal/app. Where there is no database yet it starts a new installation:
// the data directory, the master key and the database. It never makes a new key for an
// existing database (twofold.MissingKeyError), and it refuses a key that does not open
// the database (twofold.WrongKeyError).
//
// serving is true for `twofold serve` alone: on PostgreSQL only a server makes a new master
// key (twofold.KeyRequiredError for the others).
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, masterKeyEnv string, serving bool) (*app, error) {
	return twofold.Open(ctx, cfg, twofold.Options{Log: log, MasterKeyEnv: masterKeyEnv, NewKeyOnPostgres: serving})
}

// mayCreateAnnotation marks the commands that may start a new installation (mayCreate).
const mayCreateAnnotation = "twofold:may-create"

// mayCreate marks cmd, a command opened through runApp, as one that may start a new
// installation: one of the first things an operator does (add a user, invite one, register
// an application, create an API token). Where there is no database yet it creates the data
// directory, the master key and the database, as serve, migrate and restore also do. Every
// other command works on an existing installation and refuses without one
// (requireDatabase).
func mayCreate(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[mayCreateAnnotation] = "yes"
	return cmd
}

// createsMissing reports whether cmd was marked with mayCreate.
func createsMissing(cmd *cobra.Command) bool { return cmd.Annotations[mayCreateAnnotation] == "yes" }

// requireDatabase refuses a command that works on an existing installation, before
// anything is created, when the data directory holds no SQLite database: a mistyped
// --data-dir must not leave a new master key and an empty database behind and answer
// "no users". On PostgreSQL there is no file to look for (database.url names it).
func requireDatabase(cfg *config.Config) error {
	if cfg.Database.Postgres() {
		return nil
	}
	if _, err := os.Stat(cfg.DatabasePath()); !errors.Is(err, fs.ErrNotExist) {
		return apperr.QuotePathError(err) // nil when the database is there
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		dir = cfg.DataDir
	}
	return fmt.Errorf("no twofold database in %s, and nothing was created: run \"twofold serve\" once to start a new "+
		"installation there, or point --data-dir (or TWOFOLD_DATA_DIR, or data_dir in the config file) at an existing one",
		apperr.QuotePath(dir))
}

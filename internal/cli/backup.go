package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	twofold "github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

const pgBackupAdvice = "the database is PostgreSQL: back it up with pg_dump (pg_dump -Fc -f twofold.dump DBNAME) " +
	"and restore with pg_restore; see docs/operations.md, \"Backups\""

// errNoFile answers an empty FILE argument (`twofold backup ""`), which the system would
// refuse as "open : no such file or directory".
var errNoFile = errors.New("FILE is empty: give the backup file's path, such as twofold-backup.db")

func (e *env) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the SQLite database to FILE, also while the server runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig(nil)
			if err != nil {
				return err
			}
			if cfg.Database.Postgres() {
				return errors.New(pgBackupAdvice)
			}
			if args[0] == "" {
				return errNoFile
			}
			if err := requireDatabase(cfg); err != nil {
				return err
			}
			version, err := sqlstore.BackupSQLite(cmd.Context(), cfg.DatabasePath(), args[0])
			if err != nil {
				return err
			}
			fi, err := os.Stat(args[0])
			if err != nil {
				return apperr.QuotePathError(err)
			}
			fmt.Fprintf(e.stdout, "backed up %s to %s (schema version %d, %d bytes)\n",
				apperr.QuotePath(cfg.DatabasePath()), apperr.QuotePath(args[0]), version, fi.Size())
			fmt.Fprintln(e.stdout, "The master key is not in the backup: without it the authenticators and recovery codes in it are useless. Keep it backed up separately.")
			return nil
		},
	}
}

func (e *env) restoreCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the SQLite database with a backup (the server must be stopped)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig(nil)
			if err != nil {
				return err
			}
			if cfg.Database.Postgres() {
				return errors.New(pgBackupAdvice)
			}
			file := args[0]
			if file == "" {
				return errNoFile
			}
			version, err := sqlstore.CheckSQLite(cmd.Context(), file)
			if err != nil {
				return fmt.Errorf("will not restore %s: %w", apperr.QuotePath(file), err)
			}
			keyFound, err := e.checkMasterKey(cmd.Context(), cfg, file)
			if err != nil {
				return err
			}
			unlock, err := twofold.LockDataDir(cfg.DataDir, true)
			if errors.Is(err, twofold.ErrDataDirInUse) {
				return fmt.Errorf("a twofold server is using %s: stop it before restoring", apperr.QuotePath(cfg.DataDir))
			}
			if err != nil {
				return err
			}
			defer unlock()
			dbPath := cfg.DatabasePath()
			if _, err := os.Stat(dbPath); err == nil && !force {
				return fmt.Errorf("%s already holds a database: add --force to replace it", apperr.QuotePath(cfg.DataDir))
			}
			if err := replaceDatabase(file, dbPath); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "restored %s into %s (schema version %d)\n", apperr.QuotePath(file), apperr.QuotePath(dbPath), version)
			if !keyFound {
				fmt.Fprintf(e.stdout, "There is no master key at %s: put the key this backup was made with there "+
					"(or in TWOFOLD_MASTER_KEY) before starting the server: it refuses to start without it.\n", apperr.QuotePath(cfg.MasterKeyPath()))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace the database the data directory holds")
	return cmd
}

// checkMasterKey reports whether a master key is in place (TWOFOLD_MASTER_KEY or the key
// file), and when one is, that it opens the backup (twofold.KeyOpens: its key check value,
// else one of its authenticators): a backup restored beside another key could not check
// any code, and the server would refuse to start on it. It never creates a key.
func (e *env) checkMasterKey(ctx context.Context, cfg *config.Config, file string) (bool, error) {
	env := e.getenv("TWOFOLD_MASTER_KEY")
	key, err := secrets.LoadMasterKey(env, cfg.MasterKeyPath())
	if errors.Is(err, secrets.ErrNoMasterKey) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	keys, err := secrets.NewKeyring(key)
	if err != nil {
		return true, err
	}
	backup, err := sqlstore.OpenBackup(file)
	if err != nil {
		return true, err
	}
	defer backup.Close()
	opens, err := twofold.KeyOpens(ctx, backup, keys)
	if err != nil {
		return true, err
	}
	if !opens {
		return true, fmt.Errorf("will not restore %s: the master key in place (%s) does not open it: it was made with another key; "+
			"put the key the backup was made with in place first", apperr.QuotePath(file), keySource(env, cfg))
	}
	return true, nil
}

// keySource names where the master key came from.
func keySource(env string, cfg *config.Config) string {
	if env != "" {
		return "TWOFOLD_MASTER_KEY"
	}
	return apperr.QuotePath(cfg.MasterKeyPath())
}

// replaceDatabase copies src beside dst and renames it over dst, so dst is either the old
// database or the whole copy. The old database's -wal and -shm files go first: they belong
// to the old database and would corrupt the new one.
func replaceDatabase(src, dst string) error {
	tmp := dst + ".restoring"
	if err := copyFile(src, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("copy %s: %w", apperr.QuotePath(src), apperr.QuotePathError(err))
	}
	for _, p := range []string{dst + "-wal", dst + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(tmp)
			return apperr.QuotePathError(err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return apperr.QuotePathError(err)
	}
	if d, err := os.Open(filepath.Dir(dst)); err == nil {
		_ = d.Sync() // the rename reaches the disk
		d.Close()
	}
	return nil
}

// copyFile writes src to a new file dst with mode 0600 and syncs it. Its errors are the os
// package's, unwrapped.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/store"
)

// env is the process environment as the commands see it (tests replace it).
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// flags shared by every command
	configPath  string
	dataDir     string
	databaseURL string
}

// Main runs the twofold command line with args and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := e.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		msg := err.Error()
		// An application error's message is what a user may see; the operator at the console
		// needs the cause of an unreachable database, so that one keeps its full text.
		if ae, ok := apperr.As(err); ok && !errors.Is(err, store.ErrUnavailable) {
			msg = ae.Message
		} else if errors.Is(err, store.ErrInvalidText) {
			msg = "a value given is not valid UTF-8 text or holds a NUL character: give it as UTF-8 text"
		}
		fmt.Fprintln(stderr, "twofold:", msg)
		return 1
	}
	return 0
}

// Run is Main on the real process environment.
func Run(ctx context.Context) int {
	return Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
}

func (e *env) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "twofold",
		Short:         "twofold: a self-hosted identity server with multi-factor authentication done right",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.configPath, "config", "", "YAML config file (env TWOFOLD_CONFIG)")
	root.PersistentFlags().StringVar(&e.dataDir, "data-dir", "", "data directory (env TWOFOLD_DATA_DIR, default ./twofold-data)")
	root.PersistentFlags().StringVar(&e.databaseURL, "database", "", "PostgreSQL URL postgres://... (env TWOFOLD_DATABASE_URL; default: SQLite in the data directory)")
	root.AddCommand(e.serveCommand(), e.migrateCommand(), e.userCommand(), e.auditCommand(), e.clientCommand(), e.keysCommand(), e.caseCommand(), e.backupCommand(), e.restoreCommand(), e.mailCommand(), e.tokenCommand())
	guardUsage(root)
	return root
}

// loadConfig reads defaults, file, environment and then the flags, and validates.
func (e *env) loadConfig(apply func(*config.Config)) (*config.Config, error) {
	cfg, loadErr := config.Load(e.configFile(), e.getenv)
	if cfg == nil {
		return nil, loadErr
	}
	if e.dataDir != "" {
		cfg.DataDir = e.dataDir
	}
	if e.databaseURL != "" {
		cfg.Database.URL = e.databaseURL
	}
	if apply != nil {
		apply(cfg)
	}
	if err := errors.Join(loadErr, cfg.Validate()); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", indent(err))
	}
	return cfg, nil
}

// configFile is the config file's path (--config, else TWOFOLD_CONFIG); "" when none.
func (e *env) configFile() string {
	if e.configPath != "" {
		return e.configPath
	}
	return e.getenv("TWOFOLD_CONFIG")
}

// indent prints each joined error, also of joins within joins, on its own line.
func indent(err error) error {
	var out []error
	var flat func(error)
	flat = func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				flat(e)
			}
			return
		}
		out = append(out, fmt.Errorf("  - %w", err))
	}
	flat(err)
	return errors.Join(out...)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	twofold "github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/logging"
	"github.com/twofold-id/twofold/internal/store"
)

func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	return logging.New(w, cfg.Log.Level, cfg.Log.Format)
}

func (e *env) serveCommand() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (SQLite in ./twofold-data by default)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig(func(c *config.Config) {
				if addr != "" {
					c.Server.Addr = addr
				}
			})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return e.serve(ctx, cfg, nil)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (env TWOFOLD_ADDR, default 127.0.0.1:8080)")
	return cmd
}

// serve runs the server until ctx ends, then shuts down gracefully. When ready is not nil
// it receives the base URL once the listener is open (tests use it with addr :0).
func (e *env) serve(ctx context.Context, cfg *config.Config, ready func(baseURL string)) error {
	log := newLogger(e.stderr, cfg)
	e.warnExposedConfig(log)
	if !cfg.Database.Postgres() {
		// Held while serving, so that `twofold restore` refuses to replace the database.
		unlock, err := twofold.LockDataDir(cfg.DataDir, false)
		if errors.Is(err, twofold.ErrDataDirInUse) {
			return fmt.Errorf("%s is being restored (twofold restore): start the server when that is done", apperr.QuotePath(cfg.DataDir))
		}
		if err != nil {
			return err
		}
		defer unlock()
	}
	a, err := openApp(ctx, cfg, log, e.getenv("TWOFOLD_MASTER_KEY"), true)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := twofold.Listen(cfg.Server.Addr, cfg.Server.MaxConnections, log)
	if err != nil {
		return err
	}
	prov, err := a.OIDC(cfg.Issuer(ln.Addr().String())) // the issuer may need the port
	if err != nil {
		ln.Close()
		return err
	}
	srv, err := a.Handler(prov)
	if err != nil {
		ln.Close()
		return err
	}
	base := cfg.Server.PublicURL
	if base == "" {
		base = cfg.Server.Scheme() + "://" + ln.Addr().String()
	}
	base = strings.TrimRight(base, "/")
	if err := e.announceSetup(ctx, a, base, log); err != nil {
		ln.Close()
		return err
	}
	hs := twofold.HTTPServer(srv, log, cfg.Server.IdleTimeout)
	twofold.TuneMemory(cfg, log)
	if h := a.MetricsHandler(); h != nil {
		stopMetrics, err := serveMetrics(cfg, h, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopMetrics()
	}
	var certs *twofold.CertReloader
	if cfg.Server.TLS() {
		if certs, err = twofold.NewCertReloader(cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile, log); err != nil {
			ln.Close()
			return err
		}
		hs.TLSConfig = certs.TLSConfig()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnHangup(ctx, hup, certs, log)
	errc := make(chan error, 1)
	go func() {
		if certs != nil {
			errc <- hs.ServeTLS(ln, "", "") // HTTP/2 and HTTP/1.1
			return
		}
		errc <- hs.Serve(ln)
	}()
	hkCtx, stopHK := context.WithCancel(ctx)
	hkDone := make(chan struct{})
	go func() { defer close(hkDone); a.Housekeep(hkCtx, prov, twofold.HousekeepingInterval) }()
	defer func() { stopHK(); <-hkDone }() // before the store closes
	mailDone := make(chan struct{})
	go func() { defer close(mailDone); a.SendMail(hkCtx) }()
	defer func() { stopHK(); <-mailDone }()
	log.Info("twofold is listening", "url", base, "database", describeDatabase(cfg))
	if ready != nil {
		ready(base)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveMetrics serves h on the listener of server.metrics_addr until the returned function
// stops it. It is a listener of its own: the metrics (and pprof) never reach the public one.
func serveMetrics(cfg *config.Config, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := twofold.Listen(cfg.Server.MetricsAddr, 64, log)
	if err != nil {
		return nil, fmt.Errorf("server.metrics_addr: %w", err)
	}
	hs := twofold.HTTPServer(h, log, cfg.Server.IdleTimeout)
	hs.WriteTimeout = 0 // a CPU profile or trace takes as long as it was asked to
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	attrs := []any{"addr", ln.Addr().String()}
	if cfg.Server.Pprof {
		attrs = append(attrs, "pprof", "/debug/pprof/")
	}
	log.Info("serving metrics at /metrics", attrs...)
	if host, _, _ := net.SplitHostPort(cfg.Server.MetricsAddr); host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		log.Warn("server.metrics_addr listens on every network: let only the Prometheus server reach it (a firewall, or a private address)",
			append([]any{"addr", cfg.Server.MetricsAddr}, attrs[2:]...)...)
	}
	return func() { _ = hs.Close() }, nil
}

// reloadOnHangup loads the TLS certificate again at every SIGHUP until ctx ends. Without
// TLS a SIGHUP is logged and otherwise ignored (it would end the process by default).
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, certs *twofold.CertReloader, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if certs == nil {
				log.Info("SIGHUP: nothing to reload (no server.tls_cert_file)")
				continue
			}
			_ = certs.Reload() // logs the outcome
		}
	}
}

// warnExposedConfig warns when the config file holds secrets and group or others may read
// it. It names the settings, never their values.
func (e *env) warnExposedConfig(log *slog.Logger) {
	path := e.configFile()
	if path == "" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o044 == 0 {
		return
	}
	names, err := config.SecretsInFile(path)
	if err != nil || len(names) == 0 {
		return
	}
	log.Warn("the configuration file holds secrets and group or others can read it: chmod 600 it, or pass the secrets in TWOFOLD_* variables",
		"file", path, "mode", fi.Mode().Perm().String(), "secrets", strings.Join(names, ", "))
}

// announceSetup prints a one-time link to create the first administrator when none has
// ever existed. Once one has, it only warns when no enabled administrator is left.
func (e *env) announceSetup(ctx context.Context, a *app, base string, log *slog.Logger) error {
	need, err := a.Auth.NeedsSetup(ctx)
	if err != nil {
		return err
	}
	if !need {
		if n, err := a.Store.CountUsersWithRole(ctx, store.RoleAdmin); err == nil && n == 0 {
			log.Warn("no enabled administrator is left: run 'twofold user enable NAME' or 'twofold user add NAME --role admin' (setup links work only before the first administrator)")
		}
		return nil
	}
	tok, err := a.Auth.IssueSetupToken(ctx)
	if err != nil {
		return err
	}
	link := base + "/setup?token=" + tok
	// The link is a credential: it goes to standard output only, never into the log.
	log.Warn("no administrator exists yet: open the setup link printed on standard output within 1 hour to create one",
		"url", base+"/setup")
	fmt.Fprintf(e.stdout, "\nNo administrator exists yet. Create the first one within 1 hour at:\n\n    %s\n\n(or run: twofold user add NAME --email ADDR --role admin)\n\n", link)
	return nil
}

func (e *env) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations and exit",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig(nil)
			if err != nil {
				return err
			}
			if cfg.Database.Postgres() {
				// A migration job has no master key to give; the servers check theirs.
				if err := twofold.Migrate(cmd.Context(), cfg); err != nil {
					return err
				}
			} else {
				// On SQLite the key lives beside the database: a new installation gets both.
				a, err := openApp(cmd.Context(), cfg, newLogger(e.stderr, cfg), e.getenv("TWOFOLD_MASTER_KEY"), false)
				if err != nil {
					return err
				}
				a.Close()
			}
			fmt.Fprintln(e.stdout, "database is up to date:", describeDatabase(cfg))
			return nil
		},
	}
}

// describeDatabase names the database without its password.
func describeDatabase(cfg *config.Config) string {
	if !cfg.Database.Postgres() {
		return cfg.DatabasePath()
	}
	u, err := url.Parse(cfg.Database.URL)
	if err != nil {
		return "postgres"
	}
	return u.Redacted()
}

package loadtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	twofold "github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// listenAddr is the only address the harness serves on: the load never leaves the host.
const listenAddr = "127.0.0.1:0"

// raisedRate is the per-client-address rate limit of the harness. Every harness client is
// 127.0.0.1, so the production limits (10 sign-in requests a second) would measure the
// limiter; raised, the limiter still runs on every request but never refuses.
var raisedRate = throttle.Rate{PerSecond: 1_000_000, Burst: 1_000_000}

// raisedLimits are the per-client limits of every harness instance (see raisedRate).
var raisedLimits = web.RateLimits{SignIn: raisedRate, API: raisedRate}

// backend is what the scenarios share: the configuration, the master key, the clock and the
// database. Each scenario runs its own instance over it, wired by internal/app exactly as
// `twofold serve` is, with the harness clock and limits.
type backend struct {
	cfg    *config.Config
	key    []byte
	clock  *clock
	log    *slog.Logger
	params password.Params
	setup  *twofold.App // creates the users, with the production failure budgets
}

// openBackend opens the database as `twofold serve` does (SQLite under dir, or the
// PostgreSQL databaseURL) with a fresh random master key.
func openBackend(ctx context.Context, dir, databaseURL string, params password.Params, log *slog.Logger) (*backend, error) {
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("argon2 parameters: %w", err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Database.URL = databaseURL
	if databaseURL != "" && !cfg.Database.Postgres() {
		return nil, errors.New("-database: want a postgres:// URL (empty means SQLite in a temporary directory)")
	}
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	b := &backend{cfg: cfg, key: key, clock: newClock(time.Now()), log: log, params: params}
	var err error
	if b.setup, err = b.open(ctx, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// open wires one twofold process over the backend with failure budgets p (nil: the
// configured ones, 5 free attempts by default).
func (b *backend) open(ctx context.Context, p *throttle.Policy) (*twofold.App, error) {
	return twofold.Open(ctx, b.cfg, twofold.Options{Log: b.log, MasterKey: b.key, Now: b.clock.Now,
		Argon2: &b.params, Throttle: p, RateLimits: &raisedLimits})
}

func (b *backend) Close() error { return b.setup.Close() }

// describe names the database without its password.
func (b *backend) describe() string {
	if !b.cfg.Database.Postgres() {
		return "SQLite " + b.cfg.DatabasePath()
	}
	return "PostgreSQL " + redact(b.cfg.Database.URL)
}

// instance is one running server: an auth service and the HTTP handler over the backend.
type instance struct {
	URL  string
	Auth *auth.Service
	app  *twofold.App
	hs   *http.Server
	errc chan error
}

// start serves a new instance on 127.0.0.1 with the failure budget policy p (nil: the
// configured one), wired as `twofold serve` wires it (the same handler, middleware and
// server timeouts).
func (b *backend) start(p *throttle.Policy) (*instance, error) {
	a, err := b.open(context.Background(), p)
	if err != nil {
		return nil, err
	}
	ln, err := twofold.Listen(listenAddr, a.Config.Server.MaxConnections, b.log)
	if err != nil {
		a.Close()
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	prov, err := a.OIDC(base)
	if err == nil {
		var h http.Handler
		if h, err = a.Handler(prov); err == nil {
			in := &instance{URL: base, Auth: a.Auth, app: a, hs: twofold.HTTPServer(h, b.log, a.Config.Server.IdleTimeout), errc: make(chan error, 1)}
			go func() { in.errc <- in.hs.Serve(ln) }()
			return in, nil
		}
	}
	ln.Close()
	a.Close()
	return nil, err
}

// stop shuts the instance down, waiting at most 15 s for requests in flight.
func (in *instance) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := in.hs.Shutdown(ctx)
	if serr := <-in.errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if cerr := in.app.Close(); err == nil {
		err = cerr
	}
	return err
}

// redact hides the password of a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres"
	}
	return u.Redacted()
}

package loadtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, also registered by the store
	_ "modernc.org/sqlite"             // the "sqlite" driver, also registered by the store

	twofold "github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// listenAddr is the only address the harness serves on: the load never leaves the host.
const listenAddr = "127.0.0.1:0"

// raisedRate is the per-client-address rate limit of the harness where it does not
// measure the limits: every such client is 127.0.0.1, so the production limits (10
// sign-in requests a second) would measure the limiter; raised, the limiter still runs on
// every request but never refuses.
var raisedRate = throttle.Rate{PerSecond: 1_000_000, Burst: 1_000_000}

// raisedLimits are the per-client limits of those servers (see raisedRate).
var raisedLimits = web.RateLimits{SignIn: raisedRate, API: raisedRate}

// backend is what the scenarios share: the configuration, the master key, the clock and the
// database. Each scenario runs a server process of its own over it (child.go), wired as
// `twofold serve` wires it; the harness process keeps a setup App on the same database
// that creates the users and the OpenID Connect client.
type backend struct {
	cfg    *config.Config
	key    []byte
	clock  *clock
	log    *slog.Logger
	stderr io.Writer
	params password.Params
	// seedUser is a user with audit rows, for the audit listing.
	seedUser string
	// profiles is a directory the servers write CPU profiles of the scenarios to ("": none).
	profiles string
	// setup works on the database from the harness process, with cheap hashing: the
	// users' password hash is then replaced by one made with params.
	setup *twofold.App
	// raw is the harness's own connection to the database, for what the store does not
	// do: bulk seeding (seed.go) and PostgreSQL's per-connection CPU time (pgcpu.go).
	raw *sql.DB
}

// openBackend opens the database as `twofold serve` does (SQLite under dir, or the
// PostgreSQL databaseURL) with a fresh random master key.
func openBackend(ctx context.Context, dir, databaseURL string, params password.Params, log *slog.Logger, stderr io.Writer) (*backend, error) {
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
	b := &backend{cfg: cfg, key: key, clock: newClock(time.Now()), log: log, stderr: stderr, params: params}
	cheap := CheapArgon2
	var err error
	b.setup, err = twofold.Open(ctx, b.cfg, twofold.Options{Log: b.log, MasterKey: b.key, Now: b.clock.Now,
		Argon2: &cheap, RateLimits: &raisedLimits})
	if err != nil {
		return nil, err
	}
	// The store has made the database and its schema; the connection opens it as the store
	// does (SQLite: WAL mode and a busy timeout, so it writes beside the store's).
	if cfg.Database.Postgres() {
		b.raw, err = sql.Open("pgx", databaseURL)
	} else {
		b.raw, err = sql.Open("sqlite", "file:"+cfg.DatabasePath()+
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	}
	if err != nil {
		b.setup.Close()
		return nil, err
	}
	b.raw.SetMaxOpenConns(1)
	return b, nil
}

func (b *backend) Close() error { return errors.Join(b.raw.Close(), b.setup.Close()) }

// describe names the database without its password.
func (b *backend) describe() string {
	if !b.cfg.Database.Postgres() {
		return "SQLite " + b.cfg.DatabasePath()
	}
	return "PostgreSQL " + redact(b.cfg.Database.URL)
}

// serverOptions are what a scenario changes of the server it runs.
type serverOptions struct {
	name             string           // the scenario's, for its profile
	throttle         *throttle.Policy // nil: the configured failure budgets
	productionLimits bool             // the configured per-address limits, and X-Forwarded-For from 127.0.0.1 believed
}

// instance is one running server process over the backend.
type instance struct {
	URL      string
	proc     *process
	clock    *clock
	profiled bool // the server writes a CPU profile of the measured part
	// clientProfile is the file the harness writes a CPU profile of its own clients over
	// the measured part to ("": none).
	clientProfile string
	// pg reads the CPU time of the PostgreSQL backends serving the server (nil: SQLite,
	// or a PostgreSQL on another host).
	pg *pgBackends
}

// start runs a server process over the backend with o, its clock following the harness's.
func (b *backend) start(o serverOptions) (*instance, error) {
	pg, dbURL, err := newPGBackends(b)
	if err != nil {
		return nil, err
	}
	spec := &childSpec{DataDir: b.cfg.DataDir, DatabaseURL: dbURL, MasterKey: b.key, Argon2: b.params,
		Throttle: o.throttle, ProductionLimits: o.productionLimits, TrustLoopbackProxy: o.productionLimits,
		ClockMS: b.clock.Now().UnixMilli()}
	var clientProfile string
	spec.Profile, clientProfile = b.profileFiles(o.name)
	p, err := startProcess(spec, b.stderr)
	if err != nil {
		return nil, err
	}
	b.clock.follow(func(t time.Time) {
		if err := p.setClock(t); err != nil {
			b.log.Error("moving the server's clock failed", "err", err)
		}
	})
	// The clock may have moved between the spec and follow.
	if err := p.setClock(b.clock.Now()); err != nil {
		b.clock.follow(nil)
		p.stop()
		return nil, err
	}
	return &instance{URL: p.URL, proc: p, clock: b.clock, profiled: spec.Profile != "",
		clientProfile: clientProfile, pg: pg}, nil
}

// profileFiles are the files of scenario name's CPU profiles, the server's and the
// harness's clients' ("": none).
func (b *backend) profileFiles(name string) (server, clients string) {
	if b.profiles == "" {
		return "", ""
	}
	return filepath.Join(b.profiles, name+".pprof"), filepath.Join(b.profiles, name+"-clients.pprof")
}

// stop ends the server process.
func (in *instance) stop() error {
	in.clock.follow(nil)
	return in.proc.stop()
}

// redact hides the password of a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres"
	}
	return u.Redacted()
}

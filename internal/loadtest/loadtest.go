package loadtest

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/totp"
)

// Scenario names, in the order they run.
const (
	ScenarioSignIn        = "signin"
	ScenarioSession       = "session"
	ScenarioWrongPassword = "wrong-password"
)

// AllScenarios is every scenario, in order.
var AllScenarios = []string{ScenarioSignIn, ScenarioSession, ScenarioWrongPassword}

// ProductionArgon2 are the argon2id parameters twofold ships with (config.Default).
var ProductionArgon2 = password.Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}

// CheapArgon2 are parameters for smoke tests of the harness itself; numbers measured with
// them say nothing about a real server.
var CheapArgon2 = password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}

// Config is one run of the harness.
type Config struct {
	Users       int           // accounts with an authenticator (default 64)
	Duration    time.Duration // per scenario (default 10 s)
	Concurrency int           // workers per scenario (default 2 × cores)
	// DatabaseURL selects PostgreSQL (postgres://...; add ?search_path=SCHEMA for a
	// schema of its own); empty means SQLite in a temporary directory.
	DatabaseURL string
	Scenarios   []string         // default AllScenarios
	Argon2      *password.Params // default ProductionArgon2
	// MaxRequests bounds each worker's requests per scenario (default 10 million), so every
	// loop ends by count as well as by time.
	MaxRequests int
	Out         io.Writer    // the report (default os.Stdout)
	Log         *slog.Logger // the server's log (default: warnings to os.Stderr)
}

func (c *Config) defaults() error {
	if c.Users <= 0 {
		c.Users = 64
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 2 * runtime.NumCPU()
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = AllScenarios
	}
	for _, s := range c.Scenarios {
		if !known(s) {
			return fmt.Errorf("unknown scenario %q: want %s", s, strings.Join(AllScenarios, ", "))
		}
	}
	if c.Argon2 == nil {
		p := ProductionArgon2
		c.Argon2 = &p
	}
	if c.MaxRequests <= 0 {
		c.MaxRequests = 10_000_000
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return nil
}

func known(s string) bool {
	for _, k := range AllScenarios {
		if s == k {
			return true
		}
	}
	return false
}

// Run sets up the server and the users, runs each scenario for c.Duration, prints the
// report to c.Out and returns the results. The error is about the harness (setup failed,
// ctx ended); unexpected statuses show in the results (Result.Failed).
func Run(ctx context.Context, c Config) ([]*Result, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "twofold-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	b, err := openBackend(ctx, dir, c.DatabaseURL, *c.Argon2, c.Log)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	p := c.Argon2
	fmt.Fprintf(c.Out, "twofold-load: %s; %d users, %d workers, %s per scenario; argon2id m=%d t=%d p=%d; %d CPUs\n",
		b.describe(), c.Users, c.Concurrency, c.Duration, p.MemoryKiB, p.Iterations, p.Parallelism, runtime.NumCPU())
	fmt.Fprintf(c.Out, "per-address rate limits raised to %g/s (every client is 127.0.0.1); load generator runs in the same process\n", raisedRate.PerSecond)

	start := time.Now()
	users, err := createUsers(ctx, b.setup.Auth, b.clock, c.Users, c.Concurrency)
	if err != nil {
		return nil, fmt.Errorf("set up users: %w", err)
	}
	fmt.Fprintf(c.Out, "set up %d users with TOTP in %s\n\n", len(users), time.Since(start).Round(time.Millisecond))

	var results []*Result
	for _, name := range c.Scenarios {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		r, err := runScenario(ctx, name, b, users, c)
		if err != nil {
			return results, fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	printResults(c.Out, results)
	return results, nil
}

// user is an account of the harness with its authenticator secret.
type user struct {
	name   string
	secret []byte
}

// userPassword passes the password policy; every harness account has it.
const userPassword = "quiet harbor lantern 48 violet"

var setupMeta = auth.Meta{IP: "127.0.0.1", UserAgent: "twofold-load setup"}

// createUsers creates n accounts and enrolls an authenticator for each through the auth
// service (not HTTP: setup is not what is measured), workers at a time.
func createUsers(ctx context.Context, svc *auth.Service, c *clock, n, workers int) ([]user, error) {
	users := make([]user, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				users[i], errs[i] = createUser(ctx, svc, c, i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return users, errors.Join(errs...)
}

func createUser(ctx context.Context, svc *auth.Service, c *clock, i int) (user, error) {
	name := fmt.Sprintf("load%05d", i)
	if _, err := svc.CreateUser(ctx, auth.NewUser{Username: name, Email: name + "@example.com", Password: userPassword}, setupMeta); err != nil {
		return user{}, fmt.Errorf("create %s: %w", name, err)
	}
	res, err := svc.Login(ctx, name, userPassword, setupMeta)
	if err != nil {
		return user{}, fmt.Errorf("sign in %s: %w", name, err)
	}
	setup, err := svc.BeginTOTPSetup(ctx, res.Current, "", setupMeta)
	if err != nil {
		return user{}, fmt.Errorf("begin TOTP setup of %s: %w", name, err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup.Secret)
	if err != nil {
		return user{}, fmt.Errorf("TOTP secret of %s: %w", name, err)
	}
	if _, _, err := svc.ConfirmTOTPSetup(ctx, res.Current, totp.Code(secret, totp.Step(c.Now())), setupMeta); err != nil {
		return user{}, fmt.Errorf("confirm TOTP setup of %s: %w", name, err)
	}
	return user{name: name, secret: secret}, nil
}

// newTransport is the connection pool all clients of a scenario share: enough idle
// connections to keep one per worker, so the load measures requests, not TCP handshakes.
func newTransport(workers int) *http.Transport {
	return &http.Transport{MaxIdleConns: 2 * workers, MaxIdleConnsPerHost: 2 * workers, IdleConnTimeout: time.Minute}
}

// newClient is a browser-like client with its own cookie jar that does not follow redirects.
func newClient(t *http.Transport) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: t, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

package loadtest

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"runtime"
	"slices"
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
	ScenarioBurst         = "burst" // sign-ins at each of Config.BurstLevels
	ScenarioFloor         = "floor" // the session scenario against a bare net/http server
	ScenarioSession       = "session"
	ScenarioSessionTouch  = "session-touch" // the session scenario, each session's last-seen time due every second
	ScenarioWrongPassword = "wrong-password"
	ScenarioRefresh       = "refresh"
	ScenarioCodeFlow      = "code-flow"
	ScenarioCodeExchange  = "code-exchange" // codes obtained first, then exchanged: two results
	ScenarioAudit         = "audit"         // audit listings, in the harness process
)

// AllScenarios is every scenario, in order.
var AllScenarios = []string{ScenarioSignIn, ScenarioBurst, ScenarioFloor, ScenarioSession, ScenarioSessionTouch, ScenarioWrongPassword, ScenarioRefresh, ScenarioCodeFlow, ScenarioCodeExchange, ScenarioAudit}

// ProductionArgon2 are the argon2id parameters twofold ships with (config.Default).
var ProductionArgon2 = password.Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}

// CheapArgon2 are parameters for smoke tests of the harness itself; numbers measured with
// them say nothing about a real server.
var CheapArgon2 = password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}

// Config is one run of the harness.
type Config struct {
	Users       int           // accounts with an authenticator (default 512)
	Duration    time.Duration // per scenario (default 10 s)
	Concurrency int           // sign-in and wrong-password clients (default 2 × cores)
	Clients     int           // floor, session, refresh, code-flow and code-exchange clients (default 16)
	BurstLevels []int         // concurrent sign-ins of the burst scenarios (default 8, 64, 400)
	// BoundDuration is how long the raw argon2id bound is measured each time (default 3 s):
	// before the first scenario and after the last, and right before and right after each
	// sign-in scenario (one measurement serves both sign-in scenarios it lies between).
	BoundDuration time.Duration
	// DatabaseURL selects PostgreSQL (postgres://...; add ?search_path=SCHEMA for a
	// schema of its own); empty means SQLite in a temporary directory.
	DatabaseURL string
	Scenarios   []string         // default AllScenarios
	Argon2      *password.Params // default ProductionArgon2
	// MaxRequests bounds each worker's requests per scenario (default 10 million), so every
	// loop ends by count as well as by time.
	MaxRequests int
	Out         io.Writer    // the report (default os.Stdout)
	Log         *slog.Logger // the harness's log (default: warnings to os.Stderr)
	Stderr      io.Writer    // the server processes' log (default os.Stderr)
	JSON        string       // a file the report is written to as JSON too ("": none)
	// SeedUsers and SeedAudit add accounts that cannot sign in and audit rows before the
	// scenarios run, to measure how the costs grow with the database.
	SeedUsers, SeedAudit int
	// Profiles is a directory each scenario's server writes a CPU profile of the measured
	// part to, as SCENARIO.pprof ("": none).
	Profiles string
}

func (c *Config) defaults() error {
	if c.Users <= 0 {
		c.Users = 512
	}
	if c.Clients <= 0 {
		c.Clients = 16
	}
	if len(c.BurstLevels) == 0 {
		c.BurstLevels = []int{8, 64, 400}
	}
	if c.BoundDuration <= 0 {
		c.BoundDuration = 3 * time.Second
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
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

// Report is a run of the harness: what ran where, the raw argon2id bound before the first
// scenario and after the last (when sign-ins ran), and every scenario's result (a sign-in
// scenario's with the bound measured right before and right after it).
type Report struct {
	Database    string    `json:"database"`
	CPUs        int       `json:"cpus"`
	Users       int       `json:"users"`
	SeedUsers   int       `json:"seed_users"`
	SeedAudit   int       `json:"seed_audit"`
	Argon2      string    `json:"argon2"`
	Started     time.Time `json:"started"`
	BoundBefore *Bound    `json:"bound_before,omitempty"`
	BoundAfter  *Bound    `json:"bound_after,omitempty"`
	Results     []*Result `json:"results"`
}

// Run sets up the database and the users, runs each scenario for c.Duration on a server
// process of its own, prints the report to c.Out (and as JSON to c.JSON) and returns the
// results. The error is about the harness (setup failed, ctx ended); unexpected statuses
// show in the results (Result.Failed).
func Run(ctx context.Context, c Config) ([]*Result, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "twofold-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	b, err := openBackend(ctx, dir, c.DatabaseURL, *c.Argon2, c.Log, c.Stderr)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	b.profiles = c.Profiles
	p := c.Argon2
	rep := &Report{Database: b.describe(), CPUs: runtime.NumCPU(), Users: c.Users, Started: time.Now().UTC(),
		SeedUsers: c.SeedUsers, SeedAudit: c.SeedAudit,
		Argon2: fmt.Sprintf("m=%d t=%d p=%d", p.MemoryKiB, p.Iterations, p.Parallelism)}
	fmt.Fprintf(c.Out, "twofold-load: %s; %d users; %s per scenario; argon2id %s; %d CPUs\n",
		rep.Database, c.Users, c.Duration, rep.Argon2, rep.CPUs)
	fmt.Fprintf(c.Out, "each scenario runs a server process of its own; server CPU and peak RSS are that process's, from /proc\n")

	start := time.Now()
	users, err := createUsers(ctx, b, c.Users, c.Concurrency)
	if err != nil {
		return nil, fmt.Errorf("set up users: %w", err)
	}
	fmt.Fprintf(c.Out, "set up %d users with TOTP in %s\n", len(users), time.Since(start).Round(time.Millisecond))
	if b.seedUser, err = seed(ctx, b, c.SeedUsers, c.SeedAudit, c.Out); err != nil {
		return nil, err
	}
	if b.seedUser == "" {
		b.seedUser = users[0].id
	}
	fmt.Fprintln(c.Out)

	signIns := slices.ContainsFunc(c.Scenarios, signInScenario)
	// last is the bound measured most recently with nothing run since: the bound right
	// before the next sign-in scenario, if one follows.
	var last *Bound
	if signIns {
		if rep.BoundBefore, err = measureBound(ctx, *c.Argon2, c.BoundDuration); err != nil {
			return nil, err
		}
		fmt.Fprintf(c.Out, "raw argon2id bound before: %s\n", rep.BoundBefore)
		last = rep.BoundBefore
	}
	for _, name := range c.Scenarios {
		if err := ctx.Err(); err != nil {
			return rep.Results, err
		}
		if !signInScenario(name) {
			rs, err := runScenario(ctx, name, b, users, c)
			rep.Results = append(rep.Results, rs...)
			if err != nil {
				return rep.Results, fmt.Errorf("%s: %w", name, err)
			}
			last = nil
			continue
		}
		for _, run := range signInRuns(name, c) {
			if last == nil {
				if last, err = measureBound(ctx, *c.Argon2, c.BoundDuration); err != nil {
					return rep.Results, err
				}
				fmt.Fprintf(c.Out, "raw argon2id bound before %s: %s\n", run.name, last)
			}
			r, err := signIn(ctx, b, users, c, run.name, run.clients)
			if err != nil {
				return rep.Results, fmt.Errorf("%s: %w", run.name, err)
			}
			rep.Results = append(rep.Results, r)
			after, err := measureBound(ctx, *c.Argon2, c.BoundDuration)
			if err != nil {
				return rep.Results, err
			}
			r.AdjacentBefore, r.AdjacentAfter = last, after
			r.AdjacentBound, r.AdjacentCPUBound = r.shareOf(last, after)
			fmt.Fprintf(c.Out, "raw argon2id bound after %s: %s\n", run.name, after)
			last = after
		}
	}
	if signIns {
		if rep.BoundAfter = last; last == nil {
			if rep.BoundAfter, err = measureBound(ctx, *c.Argon2, c.BoundDuration); err != nil {
				return rep.Results, err
			}
		}
		fmt.Fprintf(c.Out, "raw argon2id bound after:  %s\n", rep.BoundAfter)
		for _, r := range rep.Results {
			if r.AdjacentBefore != nil {
				r.Bound, r.CPUBound = r.shareOf(rep.BoundBefore, rep.BoundAfter)
			}
		}
	}
	fmt.Fprintln(c.Out)
	printResults(c.Out, rep.Results)
	if c.JSON != "" {
		if err := writeJSON(c.JSON, rep); err != nil {
			return rep.Results, err
		}
	}
	return rep.Results, nil
}

// signInScenario reports whether name's results are sign-ins, measured against the raw
// argon2id bound.
func signInScenario(name string) bool { return name == ScenarioSignIn || name == ScenarioBurst }

// signInRun is one sign-in scenario's run: its result's name and its concurrent clients.
type signInRun struct {
	name    string
	clients int
}

// signInRuns are the runs of sign-in scenario name: one for signin, one per level for
// burst, each on a server process of its own.
func signInRuns(name string, c Config) []signInRun {
	if name == ScenarioSignIn {
		return []signInRun{{ScenarioSignIn, c.Concurrency}}
	}
	var runs []signInRun
	for _, n := range c.BurstLevels {
		runs = append(runs, signInRun{fmt.Sprintf("%s-%d", ScenarioBurst, n), n})
	}
	return runs
}

func writeJSON(path string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// user is an account of the harness with its authenticator secret.
type user struct {
	id     string
	name   string
	secret []byte
}

// userPassword passes the password policy; every harness account has it.
const userPassword = "quiet harbor lantern 48 violet"

var setupMeta = auth.Meta{IP: "127.0.0.1", UserAgent: "twofold-load setup"}

// createUsers creates n accounts and enrolls an authenticator for each through the auth
// service of the harness process (not HTTP: setup is not what is measured), workers at a
// time, with cheap hashing; then it gives every account one password hash made with the
// measured parameters, so each sign-in pays for the real hash.
func createUsers(ctx context.Context, b *backend, n, workers int) ([]user, error) {
	users := make([]user, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				users[i], errs[i] = createUser(ctx, b, i)
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
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	hash, err := password.NewHasher(b.params, 1, time.Minute).Hash(ctx, userPassword)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if err := b.setup.Store.SetUserPasswordHash(ctx, u.id, hash, b.clock.Now()); err != nil {
			return nil, err
		}
	}
	return users, nil
}

func createUser(ctx context.Context, b *backend, i int) (user, error) {
	svc := b.setup.Auth
	name := fmt.Sprintf("load%05d", i)
	u, err := svc.CreateUser(ctx, auth.NewUser{Username: name, Email: name + "@example.com", Password: userPassword}, setupMeta)
	if err != nil {
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
	if _, _, err := svc.ConfirmTOTPSetup(ctx, res.Current, totp.Code(secret, totp.Step(b.clock.Now())), setupMeta); err != nil {
		return user{}, fmt.Errorf("confirm TOTP setup of %s: %w", name, err)
	}
	return user{id: u.ID, name: name, secret: secret}, nil
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

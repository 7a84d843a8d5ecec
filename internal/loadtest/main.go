package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Main is the twofold-load command: it parses args, runs the harness and returns the exit
// code: 0, 1 when a scenario saw a status it does not expect (a 5xx, a transport error,
// anything else), 2 for bad flags or a failed setup.
func Main(args []string, stdout, stderr io.Writer) int {
	if spec := os.Getenv(childEnv); spec != "" {
		return runChild(spec, os.Stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("twofold-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	var scenarios string
	var cheap bool
	var burst string
	fs.IntVar(&c.Users, "users", 512, "accounts with an authenticator (at least the largest burst level)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long each scenario runs")
	fs.IntVar(&c.Concurrency, "concurrency", 2*runtime.NumCPU(), "concurrent clients of the signin and wrong-password scenarios")
	fs.IntVar(&c.Clients, "clients", 16, "concurrent clients of the floor, session, refresh, code-flow and code-exchange scenarios")
	fs.StringVar(&burst, "burst", "8,64,400", "comma-separated concurrent sign-ins of the burst scenario, one server process each")
	fs.DurationVar(&c.BoundDuration, "bound-duration", 3*time.Second, "how long the raw argon2id bound is measured each time: before the first scenario, after the last, and right before and after each sign-in scenario")
	fs.StringVar(&c.JSON, "json", "", "also write the report to this file as JSON")
	fs.IntVar(&c.SeedUsers, "seed-users", 0, "add this many accounts that cannot sign in before the scenarios (to measure growth)")
	fs.IntVar(&c.SeedAudit, "seed-audit", 0, "add this many audit rows before the scenarios (to measure growth)")
	fs.StringVar(&c.Profiles, "cpuprofile-dir", "", "directory for a CPU profile of each scenario's server (SCENARIO.pprof), of the measured part only")
	fs.StringVar(&c.DatabaseURL, "database", "", "postgres://... (add search_path=SCHEMA to use a schema of its own); empty: SQLite in a temporary directory")
	fs.StringVar(&scenarios, "scenarios", strings.Join(AllScenarios, ","), "comma-separated scenarios to run, in order")
	fs.BoolVar(&cheap, "cheap-hash", false, "argon2id m=1024 t=1 p=1 instead of the production m=19456 t=2 p=1 (to test the harness, not the server)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: twofold-load [flags]\n\nStarts a twofold server on 127.0.0.1 and measures it over HTTP. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twofold-load: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	for _, s := range strings.Split(scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Scenarios = append(c.Scenarios, s)
		}
	}
	for _, v := range strings.Split(burst, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "twofold-load: -burst: %q is not a positive number\n", v)
			return 2
		}
		c.BurstLevels = append(c.BurstLevels, n)
	}
	if cheap {
		p := CheapArgon2
		c.Argon2 = &p
	}
	c.Out = stdout
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	results, err := Run(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "twofold-load: %v\n", err)
		return 2
	}
	for _, r := range results {
		if r.Failed() {
			fmt.Fprintf(stderr, "twofold-load: %s saw unexpected statuses\n", r.Name)
			return 1
		}
	}
	return 0
}

package loadtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testutil"
)

// TestMain makes the test binary a server process when the harness starts one (child.go).
func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestRun runs every scenario briefly with cheap hashing and checks that each did work and
// saw only the statuses it expects. It asserts nothing about speed.
func TestRun(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			var out bytes.Buffer
			p := CheapArgon2
			results, err := Run(context.Background(), Config{Users: 6, Duration: time.Second, Concurrency: 4, Clients: 3,
				BurstLevels: []int{2, 8}, BoundDuration: 200 * time.Millisecond, SeedUsers: 20, SeedAudit: 50,
				DatabaseURL: db.url, Argon2: &p, Out: &out, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			if want := len(AllScenarios) + 2; len(results) != want { // burst runs twice, code-exchange has two phases
				t.Fatalf("got %d results, want %d:\n%s", len(results), want, out.String())
			}
			for _, r := range results {
				for _, e := range r.Endpoints {
					if r.Throughput(e) <= 0 {
						t.Errorf("%s %s: no throughput", r.Name, e.Name)
					}
					if n := e.ServerErrors(); n > 0 {
						t.Errorf("%s %s: %d 5xx or transport errors", r.Name, e.Name, n)
					}
					if n := e.Unexpected(); n > 0 {
						t.Errorf("%s %s: %d unexpected statuses %v", r.Name, e.Name, n, e.Statuses)
					}
				}
				if r.Completed == 0 {
					t.Errorf("%s completed nothing", r.Name)
				}
				if r.Name != ScenarioAudit && r.ClientCPU <= 0 {
					t.Errorf("%s: no CPU time of the harness's clients", r.Name)
				}
				switch {
				case r.Name == ScenarioSignIn || strings.HasPrefix(r.Name, ScenarioBurst+"-") || r.Name == ScenarioWrongPassword:
					// Every sign-in hashes; on Linux the server measures each hash's CPU time.
					if r.ServerHashes == 0 || r.ServerHashCPU <= 0 || r.BesidesHashPerOp() == 0 {
						t.Errorf("%s: %d hashes in %v of the server's CPU", r.Name, r.ServerHashes, r.ServerHashCPU)
					}
				case r.Name == ScenarioSession || r.Name == ScenarioSessionTouch || r.Name == ScenarioFloor:
					if r.ServerHashes != 0 || r.ServerHashCPU != 0 {
						t.Errorf("%s: %d hashes in %v of the server's CPU, want none", r.Name, r.ServerHashes, r.ServerHashCPU)
					}
				}
			}
			checkAdjacentBounds(t, results)
			if t.Failed() {
				t.Log(out.String())
			}
		})
	}
}

// checkAdjacentBounds checks that each sign-in result has a raw bound measured right before
// and right after it, that consecutive sign-in scenarios share the one between them, and
// that its shares of the bound are filled in.
func checkAdjacentBounds(t *testing.T, results []*Result) {
	t.Helper()
	var prev *Result
	for _, r := range results {
		if r.Name != ScenarioSignIn && !strings.HasPrefix(r.Name, ScenarioBurst+"-") {
			if r.AdjacentBefore != nil || r.Bound != 0 {
				t.Errorf("%s is not a sign-in scenario but has a bound", r.Name)
			}
			prev = nil
			continue
		}
		if r.AdjacentBefore == nil || r.AdjacentAfter == nil || r.AdjacentBefore == r.AdjacentAfter {
			t.Errorf("%s: adjacent bound before %v, after %v", r.Name, r.AdjacentBefore, r.AdjacentAfter)
			continue
		}
		if r.AdjacentBefore.Hashes == 0 || r.AdjacentAfter.Hashes == 0 {
			t.Errorf("%s: an adjacent bound without hashes", r.Name)
		}
		if prev != nil && r.AdjacentBefore != prev.AdjacentAfter {
			t.Errorf("%s does not start from the bound measured after %s", r.Name, prev.Name)
		}
		if r.AdjacentBound <= 0 || r.AdjacentCPUBound <= 0 || r.Bound <= 0 || r.CPUBound <= 0 {
			t.Errorf("%s: shares of the bound %v %v (adjacent), %v %v (the run's)", r.Name, r.AdjacentBound, r.AdjacentCPUBound, r.Bound, r.CPUBound)
		}
		prev = r
	}
}

// databases is SQLite, and PostgreSQL in a schema of its own when TWOFOLD_TEST_POSTGRES_DSN
// names a server (testutil.PostgresURL makes and drops the schema).
func databases(t *testing.T) []struct{ name, url string } {
	dbs := []struct{ name, url string }{{"sqlite", ""}}
	if os.Getenv("TWOFOLD_TEST_POSTGRES_DSN") != "" {
		dbs = append(dbs, struct{ name, url string }{"postgres", testutil.PostgresURL(t)})
	}
	return dbs
}

func TestMainRejectsUnknownScenario(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"-scenarios", "nope", "-cheap-hash"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "unknown scenario") {
		t.Errorf("stderr %q does not name the problem", errOut.String())
	}
}

// TestProfiles checks that -cpuprofile-dir gives a profile of the server and one of the
// harness's clients for a scenario.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	p := CheapArgon2
	var out bytes.Buffer
	_, err := Run(context.Background(), Config{Users: 4, Duration: 300 * time.Millisecond, Concurrency: 2,
		BoundDuration: 100 * time.Millisecond, Scenarios: []string{ScenarioSignIn}, Argon2: &p, Profiles: dir,
		Out: &out, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	for _, name := range []string{"signin.pprof", "signin-clients.pprof"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

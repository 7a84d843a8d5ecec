package testutil_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testutil"
)

// recorder is a testing.TB that records how a test was stopped.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runRecorded runs f in its own goroutine, as the testing package does, so
// that Skipf and Fatalf can stop it.
func runRecorded(t *testing.T, f func(tb testing.TB) string) (rec *recorder, result string) {
	t.Helper()
	rec = &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		result = f(rec)
	}()
	<-done
	return rec, result
}

func TestRequireTool(t *testing.T) {
	const missing = "twofold-no-such-tool"

	t.Run("present_tool_returns_its_path", func(t *testing.T) {
		t.Setenv(testutil.RequireAllEnv, "")
		rec, path := runRecorded(t, func(tb testing.TB) string { return testutil.RequireTool(tb, "go") })
		if rec.skipped || rec.failed || path == "" {
			t.Errorf("RequireTool(go) = %q, skipped=%v failed=%v %s", path, rec.skipped, rec.failed, rec.msg)
		}
	})

	t.Run("missing_tool_skips_by_default", func(t *testing.T) {
		t.Setenv(testutil.RequireAllEnv, "")
		rec, _ := runRecorded(t, func(tb testing.TB) string { return testutil.RequireTool(tb, missing) })
		if !rec.skipped || rec.failed {
			t.Errorf("skipped=%v failed=%v, want a skip", rec.skipped, rec.failed)
		}
		if !strings.HasPrefix(rec.msg, missing+" not installed: ") {
			t.Errorf("message %q does not say the tool is not installed", rec.msg)
		}
	})

	t.Run("missing_tool_fails_when_all_are_required", func(t *testing.T) {
		t.Setenv(testutil.RequireAllEnv, "1")
		rec, _ := runRecorded(t, func(tb testing.TB) string { return testutil.RequireTool(tb, missing) })
		if rec.skipped || !rec.failed {
			t.Errorf("skipped=%v failed=%v, want a failure", rec.skipped, rec.failed)
		}
		if !strings.Contains(rec.msg, testutil.RequireAllEnv+"=1") {
			t.Errorf("message %q does not name %s", rec.msg, testutil.RequireAllEnv)
		}
	})
}

func TestRequireAll(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{{"1", true}, {"", false}, {"0", false}, {"true", false}} {
		t.Run(fmt.Sprintf("%q", tc.value), func(t *testing.T) {
			t.Setenv(testutil.RequireAllEnv, tc.value)
			if got := testutil.RequireAll(); got != tc.want {
				t.Errorf("RequireAll() with %s=%q = %v, want %v", testutil.RequireAllEnv, tc.value, got, tc.want)
			}
		})
	}
}

package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// RequireAllEnv is the environment variable that turns a missing test
// dependency from a skip into a failure. CI sets it to "1" so that no test is
// skipped silently.
const RequireAllEnv = "TWOFOLD_TEST_REQUIRE_ALL"

// RequireAll reports whether every test dependency must be present, that is
// whether RequireAllEnv is set to "1".
func RequireAll() bool {
	return os.Getenv(RequireAllEnv) == "1"
}

// Unavailable stops the test because a dependency it needs (a binary, a
// database, a browser) is missing: it skips with the formatted reason, or fails
// with it when RequireAll is true. It does not return.
//
// Use it for any dependency, for example:
//
//	dsn := os.Getenv("TWOFOLD_TEST_POSTGRES_DSN")
//	if dsn == "" {
//		testutil.Unavailable(t, "PostgreSQL not configured: set TWOFOLD_TEST_POSTGRES_DSN")
//	}
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if RequireAll() {
		t.Fatalf(format+" (required because "+RequireAllEnv+"=1)", args...)
	}
	t.Skipf(format, args...)
}

// RequireTool returns the path of the executable name found in PATH. When it
// is missing, the test is skipped with a message such as "oathtool not
// installed: ...", or fails when RequireAll is true.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not installed: %v", name, err)
	}
	return path
}

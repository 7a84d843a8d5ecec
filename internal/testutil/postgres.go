package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// PostgresDSNEnv names the variable holding the test PostgreSQL URL, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresDSNEnv = "TWOFOLD_TEST_POSTGRES_DSN"

// PostgresURL returns a URL to a fresh, empty schema on the test PostgreSQL server, dropped
// when the test ends, so parallel tests and packages never collide. Without
// TWOFOLD_TEST_POSTGRES_DSN, or when the server does not answer, the test is skipped (or
// fails under TWOFOLD_TEST_REQUIRE_ALL=1).
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		Unavailable(t, "PostgreSQL tests need %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresDSNEnv)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL, got %q", PostgresDSNEnv, dsn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresDSNEnv, err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		Unavailable(t, "PostgreSQL at %s does not answer: %v", u.Redacted(), err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "twofold_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema) // lets TerminatePostgresConnections find them
	u.RawQuery = q.Encode()
	return u.String()
}

// TerminatePostgresConnections kills, from outside, every server connection opened with a
// URL from PostgresURL (as an operator's pg_terminate_backend would), and returns how many.
func TerminatePostgresConnections(t testing.TB, testURL string) int {
	t.Helper()
	u, err := url.Parse(testURL)
	if err != nil {
		t.Fatal(err)
	}
	app := u.Query().Get("application_name")
	if app == "" {
		t.Fatal("URL has no application_name: not made by PostgresURL")
	}
	admin, err := sql.Open("pgx", os.Getenv(PostgresDSNEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	err = admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n)
	if err != nil {
		t.Fatalf("terminate connections: %v", err)
	}
	return n
}

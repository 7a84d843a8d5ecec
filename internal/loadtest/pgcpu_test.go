package loadtest

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"

	"github.com/twofold-id/twofold/internal/testutil"
)

func TestLocalDatabase(t *testing.T) {
	for raw, want := range map[string]bool{
		"postgres://u@127.0.0.1:5432/db":             true,
		"postgres://u@[::1]/db":                      true,
		"postgres://u@localhost/db?sslmode=disable":  true,
		"postgres:///db?host=/var/run/postgresql":    true,
		"postgres://u@db.example.com:5432/db":        false,
		"postgres://u@10.0.0.5/db":                   false,
		"postgres://u@127.0.0.1.example.com:5432/db": false,
	} {
		if got := localDatabase(raw); got != want {
			t.Errorf("localDatabase(%q) = %v, want %v", raw, got, want)
		}
	}
}

// TestPGBackendsFindTheServersConnections starts a server process on PostgreSQL and finds
// the backends serving it by its application_name, keeping the rest of the URL.
func TestPGBackendsFindTheServersConnections(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	ctx := context.Background()
	b, err := openBackend(ctx, t.TempDir(), dsn, CheapArgon2, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in, err := b.start(serverOptions{name: "pgcpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer in.stop()
	if in.pg == nil {
		t.Fatalf("no backends for %s", redact(dsn))
	}
	cpu, err := in.pg.cpu(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cpu) == 0 {
		t.Errorf("no backend process has application_name %q", in.pg.appName)
	}
	u, err := withAppName(dsn, in.pg.appName)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := url.Parse(dsn)
	got, _ := url.Parse(u)
	if got.Query().Get("search_path") != want.Query().Get("search_path") || got.Host != want.Host || got.Path != want.Path {
		t.Errorf("withAppName(%s) = %s: lost a part", redact(dsn), redact(u))
	}
}

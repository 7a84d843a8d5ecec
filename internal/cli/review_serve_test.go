package cli

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
)

// TestSetupTokenStaysOutOfTheLog: the first-administrator link is a credential. It is
// printed once on standard output for the operator; the log (shipped to aggregators, kept
// for months) only says that a link was printed.
func TestSetupTokenStaysOutOfTheLog(t *testing.T) {
	s := startServe(t, testConfig(t))
	link := setupLink.FindString(s.stdout.String())
	if link == "" {
		t.Fatalf("no setup link on stdout:\n%s", s.stdout)
	}
	token := link[strings.Index(link, "token=")+len("token="):]
	if strings.Contains(s.stderr.String(), token) {
		t.Fatalf("the setup token is in the log:\n%s", s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "no administrator exists yet") {
		t.Errorf("the log does not say that a setup link was printed:\n%s", s.stderr)
	}
}

// TestNoSetupLinkAfterTheOnlyAdminIsDisabled: once an administrator has existed, serve
// prints no setup link, even when none is enabled; it warns and names the commands.
func TestNoSetupLinkAfterTheOnlyAdminIsDisabled(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler), "", false)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Auth.CreateUser(ctx, auth.NewUser{Username: "root", Email: "root@example.com", Role: "admin",
		Password: "violet tangerine quarry ledger 7"}, auth.Meta{})
	if err == nil {
		err = a.Auth.SetDisabled(ctx, u, true, auth.Meta{})
	}
	a.Close()
	if err != nil {
		t.Fatal(err)
	}

	s := startServe(t, cfg)
	if strings.Contains(s.stdout.String(), "/setup?token=") {
		t.Errorf("a setup link was printed although an administrator existed:\n%s", s.stdout)
	}
	if !strings.Contains(s.stderr.String(), "no enabled administrator is left") {
		t.Errorf("no warning that no enabled administrator is left:\n%s", s.stderr)
	}
}

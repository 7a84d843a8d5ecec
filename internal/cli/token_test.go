package cli_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/store"
)

var secretLine = regexp.MustCompile(`(?m)^tf_[A-Za-z0-9_-]{43}$`)

func TestTokenCommands(t *testing.T) {
	c := newConsole(t)
	out := c.ok("", "token", "create", "ci deploy", "--scope", "users:read", "--scope", "audit:read,users:read", "--expires", "90d")
	secret := secretLine.FindString(out)
	if secret == "" || !strings.Contains(out, "not shown again") || !strings.Contains(out, "scopes users:read audit:read") {
		t.Fatalf("token create printed %q: want the scopes, the secret once on its own line and a warning", out)
	}
	db := c.openStore()
	ctx := context.Background()
	tok, err := db.GetAPITokenByHash(ctx, apitoken.Hash(secret))
	if err != nil || tok.Name != "ci deploy" || tok.CreatedBy != "" || tok.ExpiresAt.IsZero() {
		t.Fatalf("stored %+v, %v: want the console's token with an expiry", tok, err)
	}

	list := c.ok("", "token", "list")
	if strings.Contains(list, secret) || !regexp.MustCompile(tok.ID+`\s+ci deploy\s+users:read,audit:read\s+active\s+\S+\s+console\s+\S+\s+never`).MatchString(list) {
		t.Fatalf("token list printed %q: want the token's row without its secret", list)
	}
	c.fails("", []string{"token", "create", "x"}, "at least one scope")
	c.fails("", []string{"token", "create", "x", "--scope", "root"}, `Unknown scope "root"`)
	c.fails("", []string{"token", "create", "x", "--scope", "users:read", "--expires", "soon"}, `--expires: expiry "soon"`)
	c.fails("", []string{"token", "revoke", "nope"}, "no API token with this id")

	if out := c.ok("", "token", "revoke", tok.ID); !strings.Contains(out, "Revoked API token "+tok.ID) {
		t.Fatalf("token revoke printed %q", out)
	}
	c.fails("", []string{"token", "revoke", tok.ID}, "revoked already")
	if list := c.ok("", "token", "list"); !strings.Contains(list, "revoked") {
		t.Fatalf("token list after revoke: %q", list)
	}
	events, err := db.ListAudit(ctx, store.AuditFilter{Event: "api_token.*"})
	if err != nil || len(events) != 2 || events[0].Event != "api_token.revoked" || events[1].IP != "console" {
		t.Fatalf("audit %+v, %v: want api_token.created and api_token.revoked from the console", events, err)
	}
}

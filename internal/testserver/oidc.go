package testserver

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
)

// newOIDC builds the OpenID Connect provider of a test server (issue 6) on the server's
// clock. Its issuer is Options.PublicURL, else the server's own URL base.
func newOIDC(t testing.TB, o Options, st store.Store, svc *auth.Service, kr *secrets.Keyring, base string, now func() time.Time) *oidc.Provider {
	t.Helper()
	issuer := o.PublicURL
	if issuer == "" {
		issuer = base
	}
	p, err := oidc.New(oidc.Options{Store: st, Auth: svc, Keyring: kr, Issuer: issuer, Now: now, Log: o.Log})
	if err != nil {
		t.Fatalf("oidc provider: %v", err)
	}
	return p
}

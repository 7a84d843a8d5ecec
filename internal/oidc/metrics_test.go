package oidc_test

import (
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// TestTokenMetrics: token responses count by grant, and a used refresh token that comes
// back counts as a reuse.
func TestTokenMetrics(t *testing.T) {
	srv := testserver.New(t, testserver.Options{Metrics: true})
	app := newRP(t, srv, "tenant-app", offline)
	plain := newRP(t, srv, "plain-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")
	first, _ := app.tokens(b, app.newRequest())
	plain.tokens(b, plain.newRequest())
	if _, err := app.refresh(first.RefreshToken); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := tokenError(t, mustFail(app.refresh(first.RefreshToken))); got != "invalid_grant" {
		t.Fatalf("reused refresh token: %s, want invalid_grant", got)
	}
	sc := srv.Scrape(t)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"twofold_oidc_tokens_issued_total", []string{"grant", "authorization_code"}, 2},
		{"twofold_oidc_tokens_issued_total", []string{"grant", "refresh_token"}, 1},
		{"twofold_oidc_refresh_token_reuses_total", nil, 1},
		{"twofold_http_requests_total", []string{"route", "/oauth/token", "method", "POST", "status", "200"}, 3},
	} {
		if got := sc.Value(tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

package oidc_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// codeForm is the token request that redeems code.
func codeForm(code, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

// codeReplays counts the audit events of replayed codes.
func codeReplays(t *testing.T, srv *testserver.Server) int {
	t.Helper()
	events, err := srv.Store.ListAudit(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Event == oidc.EventCodeReplayed {
			n++
		}
	}
	return n
}

// TestCodeSurvivesFailedRedemptions: a code is claimed only once the client has
// authenticated and the PKCE verifier matched. Whoever sees a code in transit (a log, a
// Referer, a browser extension) but lacks the secret or the verifier can neither void it
// nor, by presenting it, revoke what the application obtained with it.
func TestCodeSurvivesFailedRedemptions(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	spa := newRP(t, srv, "spa", clientOpts{public: true})
	other := newRP(t, srv, "other-app", clientOpts{})
	b, _ := signedIn(t, srv, "ada")

	for _, tc := range []struct {
		name string
		rp   *rp
		// attempt presents code (issued to tc.rp with the verifier) wrongly.
		attempt func(code, verifier string) (int, map[string]any)
	}{
		{"wrong client secret", app, func(code, verifier string) (int, map[string]any) {
			return postForm(t, srv, oidc.TokenPath, codeForm(code, verifier), app.client.Client.ID, "not-the-secret")
		}},
		{"no client secret", app, func(code, verifier string) (int, map[string]any) {
			f := codeForm(code, verifier)
			f.Set("client_id", app.client.Client.ID)
			return postForm(t, srv, oidc.TokenPath, f, "", "")
		}},
		{"right secret, wrong verifier", app, func(code, _ string) (int, map[string]any) {
			return postForm(t, srv, oidc.TokenPath, codeForm(code, oauth2.GenerateVerifier()), app.client.Client.ID, app.client.Secret)
		}},
		{"right secret, no verifier", app, func(code, _ string) (int, map[string]any) {
			return postForm(t, srv, oidc.TokenPath, codeForm(code, ""), app.client.Client.ID, app.client.Secret)
		}},
		{"another client with its own secret", app, func(code, verifier string) (int, map[string]any) {
			return postForm(t, srv, oidc.TokenPath, codeForm(code, verifier), other.client.Client.ID, other.client.Secret)
		}},
		{"public client, wrong verifier", spa, func(code, _ string) (int, map[string]any) {
			f := codeForm(code, oauth2.GenerateVerifier())
			f.Set("client_id", spa.client.Client.ID)
			return postForm(t, srv, oidc.TokenPath, f, "", "")
		}},
		{"public client's code, another client", spa, func(code, verifier string) (int, map[string]any) {
			return postForm(t, srv, oidc.TokenPath, codeForm(code, verifier), other.client.Client.ID, other.client.Secret)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.rp.newRequest()
			code := tc.rp.code(b, a)
			status, m := tc.attempt(code, a.verifier)
			if status < 400 || status > 499 || m["access_token"] != nil {
				t.Fatalf("wrong redemption: %d %v, want a 4xx", status, m)
			}
			tok, err := tc.rp.exchange(code, a)
			if err != nil {
				t.Fatalf("the right client's exchange after a wrong one: %v", err)
			}
			tc.rp.verify(tok, a)
		})
	}

	t.Run("a used code presented without the credentials revokes nothing", func(t *testing.T) {
		before := codeReplays(t, srv)
		a := app.newRequest()
		code := app.code(b, a)
		tok, err := app.exchange(code, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, attempt := range []struct{ user, pass, verifier string }{
			{app.client.Client.ID, "not-the-secret", a.verifier},
			{app.client.Client.ID, app.client.Secret, oauth2.GenerateVerifier()},
			{other.client.Client.ID, other.client.Secret, a.verifier},
		} {
			if status, m := postForm(t, srv, oidc.TokenPath, codeForm(code, attempt.verifier), attempt.user, attempt.pass); status < 400 || status > 499 {
				t.Fatalf("replay as %s: %d %v, want a 4xx", attempt.user, status, m)
			}
		}
		if m := introspect(t, srv, app.client, tok.AccessToken); m["active"] != true {
			t.Errorf("the application's access token after others presented its code: %v, want active", m)
		}
		if n := codeReplays(t, srv); n != before {
			t.Errorf("%d code replays audited, want none for unauthenticated presentations", n-before)
		}
	})

	t.Run("a replay by the owner revokes", func(t *testing.T) {
		a := app.newRequest()
		code := app.code(b, a)
		tok, err := app.exchange(code, a)
		if err != nil {
			t.Fatal(err)
		}
		if got := tokenError(t, mustFail(app.exchange(code, a))); got != "invalid_grant" {
			t.Errorf("replay: %s, want invalid_grant", got)
		}
		if m := introspect(t, srv, app.client, tok.AccessToken); m["active"] != false {
			t.Errorf("access token after its code came back from its client: %v, want inactive", m)
		}
	})
}

// TestParallelCodeRedemptionOneWins: the client redeems one code many times at once (a
// retrying HTTP library, two instances): exactly one exchange gets tokens. The exchanges
// go to two instances on one database, SQLite file or PostgreSQL.
func TestParallelCodeRedemptionOneWins(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			one, other := testserver.Instances(t, db, testserver.Options{})
			servers := []*testserver.Server{one, other}
			srv := servers[0]
			app := newRP(t, srv, "tenant-app", offline)
			b, _ := signedIn(t, srv, "ada")
			a := app.newRequest()
			code := app.code(b, a)

			const n = 12
			status := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					s := servers[i%len(servers)]
					resp, _, err := sendForm(s, oidc.TokenPath, codeForm(code, a.verifier), app.client.Client.ID, app.client.Secret)
					if err != nil {
						t.Error(err)
						return
					}
					status[i] = resp.StatusCode
				})
			}
			wg.Wait()
			ok := 0
			for _, s := range status {
				switch s {
				case http.StatusOK:
					ok++
				case http.StatusBadRequest:
				default:
					t.Errorf("a parallel exchange answered %d, want 200 or 400", s)
				}
			}
			if ok != 1 {
				t.Errorf("%d of %d parallel exchanges got tokens, want exactly 1 (statuses %v)", ok, n, status)
			}
		})
	}
}

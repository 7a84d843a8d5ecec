package oidc_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestParallelRefreshOneWinsAndEndsTheFamily: the client sends one refresh token many
// times at once (two parts of the application raced), split over two instances on one
// database, SQLite file or PostgreSQL: exactly one refresh gets tokens, every other one is
// a reuse and gets 400 invalid_grant (never a 5xx), and the reuse revokes the family, the
// winner's new tokens included: nothing of the sign-in is left for the application.
func TestParallelRefreshOneWinsAndEndsTheFamily(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			issuer := "http://twofold.test"
			a, b := testserver.Instances(t, db, testserver.Options{PublicURL: issuer})
			servers := []*testserver.Server{a, b}
			rc, err := a.OIDCAdmin.Add(t.Context(), oidc.NewClient{Name: "app", RedirectURIs: []string{redirectURI}, FirstParty: true},
				auditMeta)
			if err != nil {
				t.Fatal(err)
			}
			browser, _ := signedIn(t, a, "ada")
			verifier := oauth2.GenerateVerifier()
			q := url.Values{"client_id": {rc.Client.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
				"scope": {"openid offline_access"}, "state": {"s"}, "prompt": {"consent"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
			code := callbackQuery(t, follow(t, browser, oidc.AuthorizePath+"?"+q.Encode())).Get("code")
			status, first := postForm(t, b, oidc.TokenPath, codeForm(code, verifier), rc.Client.ID, rc.Secret)
			refresh, _ := first["refresh_token"].(string)
			if status != http.StatusOK || refresh == "" {
				t.Fatalf("code exchange: %d %v, want a refresh token", status, first)
			}

			const n = 12
			type answer struct {
				status int
				body   map[string]any
			}
			answers := make([]answer, n)
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					resp, body, err := sendForm(servers[i%2], oidc.TokenPath, form, rc.Client.ID, rc.Secret)
					if err != nil {
						t.Error(err)
						return
					}
					answers[i] = answer{resp.StatusCode, body}
				})
			}
			close(start)
			wg.Wait()
			var won *answer
			for i, r := range answers {
				switch {
				case r.status == http.StatusOK:
					if won != nil {
						t.Errorf("refresh %d got tokens too: %v", i, r.body)
					}
					won = &answers[i]
				case r.status == http.StatusBadRequest && r.body["error"] == "invalid_grant":
				default:
					t.Errorf("refresh %d: %d %v, want 200 or 400 invalid_grant", i, r.status, r.body)
				}
			}
			if won == nil {
				t.Fatalf("none of %d parallel refreshes got tokens", n)
			}
			next, _ := won.body["refresh_token"].(string)
			access, _ := won.body["access_token"].(string)
			for _, s := range servers {
				if status, m := postForm(t, s, oidc.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next}},
					rc.Client.ID, rc.Secret); status != http.StatusBadRequest || m["error"] != "invalid_grant" {
					t.Errorf("the winner's refresh token after the reuses: %d %v, want 400 invalid_grant", status, m)
				}
				if m := introspect(t, s, rc, access); m["active"] != false {
					t.Errorf("the winner's access token after the reuses: %v, want inactive", m)
				}
			}
			u, err := a.Auth.FindUser(t.Context(), "ada")
			if err != nil {
				t.Fatal(err)
			}
			apps, err := a.Store.ListUserOIDCApplications(t.Context(), u.ID, a.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(apps) != 0 {
				t.Errorf("applications with the user's grants after the family was revoked: %+v, want none", apps)
			}
		})
	}
}

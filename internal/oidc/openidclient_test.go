package oidc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// openidClientDir holds the Node.js relying party; .ci/run installs its packages with
// `npm ci --prefix internal/oidc/testdata/openid-client`.
const openidClientDir = "testdata/openid-client"

// openidClientResult is what rp.mjs saw after the sign-in.
type openidClientResult struct {
	Claims struct {
		Sub   string   `json:"sub"`
		ACR   string   `json:"acr"`
		AMR   []string `json:"amr"`
		SID   string   `json:"sid"`
		Email string   `json:"email"`
	} `json:"claims"`
	Userinfo struct {
		Sub               string `json:"sub"`
		PreferredUsername string `json:"preferred_username"`
	} `json:"userinfo"`
	Introspection struct {
		Active bool   `json:"active"`
		Sub    string `json:"sub"`
	} `json:"introspection"`
	RefreshedSub        string `json:"refreshedSub"`
	RevokedRefreshToken string `json:"revokedRefreshToken"`
	EndSession          string `json:"endSession"`
}

// TestOpenIDClientInterop: panva's openid-client (Node.js), a strict relying party,
// signs a user in with the settings docs/oidc.md gives for it (PKCE, client_secret_basic,
// ES256, the PAPE acr), then uses userinfo, introspection, refresh, revocation and
// RP-initiated logout.
func TestOpenIDClientInterop(t *testing.T) {
	node := testutil.RequireTool(t, "node")
	if _, err := os.Stat(filepath.Join(openidClientDir, "node_modules", "openid-client")); err != nil {
		testutil.Unavailable(t, "openid-client not installed: run npm ci --prefix internal/oidc/testdata/openid-client (%v)", err)
	}
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "node-app", offline)
	b, _ := signedIn(t, srv, "ada")

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "rp.mjs")
	cmd.Dir = openidClientDir
	cmd.Env = append(os.Environ(),
		"ISSUER="+srv.URL, "CLIENT_ID="+app.client.Client.ID, "CLIENT_SECRET="+app.client.Secret,
		"REDIRECT_URI="+redirectURI, "POST_LOGOUT_REDIRECT_URI="+postLogoutURI)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	next := func(v any) {
		t.Helper()
		if !lines.Scan() {
			_ = cmd.Wait()
			t.Fatalf("openid-client stopped: %v\n%s", lines.Err(), stderr.String())
		}
		if err := json.Unmarshal(lines.Bytes(), v); err != nil {
			t.Fatalf("openid-client said %q: %v", lines.Text(), err)
		}
	}

	var start struct{ Authorize string }
	next(&start)
	path := strings.TrimPrefix(start.Authorize, srv.URL)
	resp := follow(t, b, path)
	callbackQuery(t, resp) // the code (or an error) at the redirect URI
	if _, err := io.WriteString(stdin, resp.Header.Get("Location")+"\n"); err != nil {
		t.Fatal(err)
	}
	var got openidClientResult
	next(&got)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("openid-client: %v\n%s", err, stderr.String())
	}

	c := got.Claims
	if c.Sub == "" || c.ACR != oidc.ACRMultiFactorPAPE || !contains(c.AMR, "mfa") || c.SID == "" || c.Email != "ada@example.com" {
		t.Errorf("ID token claims %+v, want sub, the PAPE acr, amr with mfa, sid and the e-mail", c)
	}
	if got.Userinfo.Sub != c.Sub || got.Userinfo.PreferredUsername != "ada" {
		t.Errorf("userinfo %+v", got.Userinfo)
	}
	if !got.Introspection.Active || got.Introspection.Sub != c.Sub {
		t.Errorf("introspection %+v, want the live token of %s", got.Introspection, c.Sub)
	}
	if got.RefreshedSub != c.Sub {
		t.Errorf("refreshed ID token sub %q, want %q", got.RefreshedSub, c.Sub)
	}
	if m := introspect(t, srv, app.client, got.RevokedRefreshToken); m["active"] == true {
		t.Errorf("the refresh token openid-client revoked is active: %v", m)
	}

	// The application's server signs the user out (no browser cookie).
	logout := srv.Client(t).Get(strings.TrimPrefix(got.EndSession, srv.URL))
	if loc := logout.Header.Get("Location"); logout.Status != http.StatusFound || loc != postLogoutURI+"?state=bye" {
		t.Fatalf("end session: %d to %q, want the post-logout URI with the state", logout.Status, loc)
	}
	if s := b.Get("/api/v1/session"); s.Status != http.StatusUnauthorized {
		t.Errorf("the browser's session after openid-client's logout: %d, want 401", s.Status)
	}
}

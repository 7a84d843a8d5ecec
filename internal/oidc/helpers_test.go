package oidc_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// redirectURI is where the test relying parties want the browser back. Nothing listens
// there: the tests read the code from the Location header.
const redirectURI = "http://127.0.0.1:9/callback"

// rp is a relying party built with coreos/go-oidc and x/oauth2, as an application would be.
type rp struct {
	t        testing.TB
	srv      *testserver.Server
	client   *oidc.RegisteredClient
	provider *gooidc.Provider
	conf     oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

// clientOpts adjust the client newRP registers.
type clientOpts struct {
	public, thirdParty bool
	alg                string
	scopes             []string
}

// newRP registers a client (first-party and confidential unless o says otherwise) and
// discovers the provider.
func newRP(t testing.TB, srv *testserver.Server, name string, o clientOpts) *rp {
	t.Helper()
	rc, err := srv.OIDCAdmin.Add(t.Context(), oidc.NewClient{
		Name: name, RedirectURIs: []string{redirectURI}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"},
		Public: o.public, FirstParty: !o.thirdParty, IDTokenAlg: o.alg,
	}, audit.Meta{IP: "test"})
	if err != nil {
		t.Fatalf("register client %s: %v", name, err)
	}
	p, err := gooidc.NewProvider(t.Context(), srv.URL)
	if err != nil {
		t.Fatalf("discover %s: %v", srv.URL, err)
	}
	scopes := o.scopes
	if scopes == nil {
		scopes = []string{gooidc.ScopeOpenID, "profile", "email"}
	}
	return &rp{
		t: t, srv: srv, client: rc, provider: p,
		conf: oauth2.Config{ClientID: rc.Client.ID, ClientSecret: rc.Secret, Endpoint: p.Endpoint(),
			RedirectURL: redirectURI, Scopes: scopes},
		verifier: p.Verifier(&gooidc.Config{ClientID: rc.Client.ID}),
	}
}

// authRequest is one authorization request the test sends.
type authRequest struct {
	state, nonce, verifier string
	extra                  []oauth2.AuthCodeOption
}

func randomValue(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newRequest prepares state, nonce and a PKCE verifier.
func (r *rp) newRequest(extra ...oauth2.AuthCodeOption) *authRequest {
	return &authRequest{state: randomValue(r.t), nonce: randomValue(r.t), verifier: oauth2.GenerateVerifier(), extra: extra}
}

// authorizePath is the path and query of the request's authorization URL.
func (r *rp) authorizePath(a *authRequest) string {
	opts := append([]oauth2.AuthCodeOption{gooidc.Nonce(a.nonce), oauth2.S256ChallengeOption(a.verifier)}, a.extra...)
	u, err := url.Parse(r.conf.AuthCodeURL(a.state, opts...))
	if err != nil {
		r.t.Fatal(err)
	}
	return u.RequestURI()
}

// follow sends the browser b through the redirects that stay on twofold and returns the
// last answer: a redirect to another place (the application, the login) or a page.
func follow(t testing.TB, b *testserver.Client, path string) *testserver.Response {
	t.Helper()
	for range 10 {
		resp := b.Get(path)
		loc := resp.Header.Get("Location")
		if resp.Status < 300 || resp.Status > 399 || !strings.HasPrefix(loc, "/authorize") {
			return resp
		}
		path = loc
	}
	t.Fatalf("too many redirects from %s", path)
	return nil
}

// authorize runs the authorization request in browser b and returns where twofold sent
// the browser at the end.
func (r *rp) authorize(b *testserver.Client, a *authRequest) *testserver.Response {
	r.t.Helper()
	return follow(r.t, b, r.authorizePath(a))
}

// code runs the request in b, which must hold a good session, and returns the code.
func (r *rp) code(b *testserver.Client, a *authRequest) string {
	r.t.Helper()
	resp := r.authorize(b, a)
	q := callbackQuery(r.t, resp)
	if q.Get("state") != a.state {
		r.t.Fatalf("state %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("code") == "" {
		r.t.Fatalf("no code in the redirect: %s", resp.Header.Get("Location"))
	}
	return q.Get("code")
}

// callbackQuery checks that resp sends the browser to the redirect URI and returns its query.
func callbackQuery(t testing.TB, resp *testserver.Response) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	// 302 after a GET (the callback), 303 after a form's POST.
	if (resp.Status != http.StatusFound && resp.Status != http.StatusSeeOther) || !strings.HasPrefix(loc, redirectURI+"?") {
		t.Fatalf("got %d to %q, want a redirect to %s: %s", resp.Status, loc, redirectURI, resp.Body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// exchange trades the code for tokens.
func (r *rp) exchange(code string, a *authRequest) (*oauth2.Token, error) {
	return r.conf.Exchange(context.Background(), code, oauth2.VerifierOption(a.verifier))
}

// tokens runs the whole flow in b and returns the tokens and the verified ID token.
func (r *rp) tokens(b *testserver.Client, a *authRequest) (*oauth2.Token, *gooidc.IDToken) {
	r.t.Helper()
	tok, err := r.exchange(r.code(b, a), a)
	if err != nil {
		r.t.Fatalf("exchange code: %v", err)
	}
	return tok, r.verify(tok, a)
}

// verify checks the ID token against the JWKS, the client and the nonce.
func (r *rp) verify(tok *oauth2.Token, a *authRequest) *gooidc.IDToken {
	r.t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		r.t.Fatal("token response has no id_token")
	}
	id, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		r.t.Fatalf("verify ID token: %v", err)
	}
	if a != nil && id.Nonce != a.nonce {
		r.t.Fatalf("ID token nonce %q, want %q", id.Nonce, a.nonce)
	}
	return id
}

// idClaims are the claims twofold puts in ID tokens.
type idClaims struct {
	Sub               string   `json:"sub"`
	Email             string   `json:"email"`
	EmailVerified     *bool    `json:"email_verified"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	AuthTime          int64    `json:"auth_time"`
	AMR               []string `json:"amr"`
	ACR               string   `json:"acr"`
	SID               string   `json:"sid"`
	Nonce             string   `json:"nonce"`
}

func claimsOf(t testing.TB, id *gooidc.IDToken) idClaims {
	t.Helper()
	var c idClaims
	if err := id.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// tokenError is an OAuth error answer of the token endpoint.
func tokenError(t testing.TB, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if err == nil {
		t.Fatal("the token endpoint accepted the request, want an error")
	}
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not an OAuth error answer", err)
	}
	return re.ErrorCode
}

// signedIn creates username, enrolls an authenticator and returns a browser signed in
// with a code (amr pwd, otp, mfa) and the authenticator's secret.
func signedIn(t testing.TB, srv *testserver.Server, username string) (*testserver.Client, []byte) {
	t.Helper()
	srv.CreateUser(t, username, username+"@example.com", "user")
	b := srv.Client(t)
	secret, _ := srv.Enroll(t, b, username)
	signInWithCode(t, srv, b, username, secret)
	return b, secret
}

// signInWithCode signs b in again with the password and a fresh code.
func signInWithCode(t testing.TB, srv *testserver.Server, b *testserver.Client, username string, secret []byte) {
	t.Helper()
	b.Login(username, "mfa_required")
	srv.NextStep()
	resp := b.PostJSON("/api/v1/login/totp", map[string]string{"code": srv.Code(secret, 0)})
	if resp.Status != http.StatusOK {
		t.Fatalf("sign in with a code: %d %s", resp.Status, resp.Body)
	}
}

// postForm sends a form to an endpoint of the server, with basic auth when user is set.
func postForm(t testing.TB, srv *testserver.Server, path string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	resp, m, err := sendForm(srv, path, form, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

// sendForm is postForm for any goroutine: it returns the answer (body decoded as JSON)
// or the error.
func sendForm(srv *testserver.Server, path string, form url.Values, user, pass string) (*http.Response, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m, nil
}

// introspect asks whether token is active, as the client c.
func introspect(t testing.TB, srv *testserver.Server, c *oidc.RegisteredClient, token string) map[string]any {
	t.Helper()
	status, m := postForm(t, srv, oidc.IntrospectionPath, url.Values{"token": {token}}, c.Client.ID, c.Secret)
	if status != http.StatusOK {
		t.Fatalf("introspection: %d %v", status, m)
	}
	return m
}

// userinfo calls the userinfo endpoint with an access token.
func userinfo(t testing.TB, srv *testserver.Server, accessToken string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+oidc.UserinfoPath, nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func contains(list []string, v string) bool { return slices.Contains(list, v) }

// idTokenAlg returns the signature algorithm in the ID token's header.
func idTokenAlg(t testing.TB, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg
}

// mustFail drops the token of a call that should fail.
func mustFail(_ *oauth2.Token, err error) error { return err }

var auditMeta = audit.Meta{IP: "test"}

// kidOf returns the key id in the ID token's header.
func kidOf(t testing.TB, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	head, _, _ := strings.Cut(raw, ".")
	b, _ := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

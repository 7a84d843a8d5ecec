// Package tenantapp is a small web application that signs its users in through twofold with
// OpenID Connect (authorization code flow with PKCE), using only github.com/coreos/go-oidc
// and golang.org/x/oauth2, and shows who signed in and how (the amr claim).
package tenantapp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is what the application needs to know about twofold and itself.
type Config struct {
	Issuer       string // twofold's server.public_url, such as http://127.0.0.1:8080
	ClientID     string // from `twofold client add`
	ClientSecret string // from `twofold client add` (empty for a public client)
	BaseURL      string // where this application runs, such as http://127.0.0.1:9090
	// ACRValues, when set, is sent as acr_values: urn:twofold:acr:mfa makes twofold
	// insist on multi-factor authentication.
	ACRValues string
}

// App is the application's HTTP handler.
type App struct {
	cfg Config
	mux *http.ServeMux

	mu       sync.Mutex
	provider *oidc.Provider       // discovered on first use, so start order does not matter
	pending  map[string]pending   // state -> what the callback must check
	sessions map[string]*signedIn // our own session cookie -> who is signed in
}

type pending struct {
	nonce, verifier string
	created         time.Time
}

// signedIn is what the application keeps about a signed-in user.
type signedIn struct {
	Subject           string
	PreferredUsername string
	Email             string
	AMR               []string
	ACR               string
	AuthTime          time.Time
	SessionID         string
	rawIDToken        string
}

// New returns the application.
func New(cfg Config) *App {
	a := &App{cfg: cfg, mux: http.NewServeMux(), pending: map[string]pending{}, sessions: map[string]*signedIn{}}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /login", a.login)
	a.mux.HandleFunc("GET /callback", a.callback)
	a.mux.HandleFunc("POST /logout", a.logout)
	return a
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// oauth returns the provider (discovering it once) and the OAuth 2.0 configuration.
func (a *App) oauth(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider == nil {
		p, err := oidc.NewProvider(ctx, a.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("discover %s: %w", a.cfg.Issuer, err)
		}
		a.provider = p
	}
	return a.provider, &oauth2.Config{
		ClientID:     a.cfg.ClientID,
		ClientSecret: a.cfg.ClientSecret,
		Endpoint:     a.provider.Endpoint(),
		RedirectURL:  a.cfg.BaseURL + "/callback",
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}, nil
}

// login starts the sign-in: state against CSRF, nonce against replay, PKCE (S256).
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	_, conf, err := a.oauth(r.Context())
	if err != nil {
		a.fail(w, http.StatusBadGateway, err)
		return
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	a.mu.Lock()
	for s, p := range a.pending { // forget sign-ins that were never finished
		if time.Since(p.created) > 10*time.Minute {
			delete(a.pending, s)
		}
	}
	a.pending[state] = pending{nonce: nonce, verifier: verifier, created: time.Now()}
	a.mu.Unlock()
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if a.cfg.ACRValues != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", a.cfg.ACRValues))
	}
	http.SetCookie(w, &http.Cookie{Name: "tenant_state", Value: state, Path: "/", MaxAge: 600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, conf.AuthCodeURL(state, opts...), http.StatusFound)
}

// callback finishes the sign-in: it checks state, exchanges the code (with the PKCE
// verifier), and verifies the ID token's signature (twofold's JWKS), audience, expiry and nonce.
func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		a.fail(w, http.StatusUnauthorized, fmt.Errorf("twofold answered %s: %s", e, q.Get("error_description")))
		return
	}
	c, err := r.Cookie("tenant_state")
	if err != nil || c.Value != q.Get("state") {
		a.fail(w, http.StatusBadRequest, fmt.Errorf("the state does not match this browser's sign-in"))
		return
	}
	a.mu.Lock()
	p, ok := a.pending[c.Value]
	delete(a.pending, c.Value)
	a.mu.Unlock()
	if !ok {
		a.fail(w, http.StatusBadRequest, fmt.Errorf("unknown or finished sign-in"))
		return
	}
	provider, conf, err := a.oauth(r.Context())
	if err != nil {
		a.fail(w, http.StatusBadGateway, err)
		return
	}
	tok, err := conf.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.fail(w, http.StatusBadGateway, fmt.Errorf("exchange the code: %w", err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}).Verify(r.Context(), raw)
	if err != nil {
		a.fail(w, http.StatusBadGateway, fmt.Errorf("verify the ID token: %w", err))
		return
	}
	if idToken.Nonce != p.nonce {
		a.fail(w, http.StatusBadRequest, fmt.Errorf("the ID token's nonce does not match"))
		return
	}
	var claims struct {
		PreferredUsername string   `json:"preferred_username"`
		Email             string   `json:"email"`
		AMR               []string `json:"amr"`
		ACR               string   `json:"acr"`
		AuthTime          int64    `json:"auth_time"`
		SID               string   `json:"sid"`
	}
	if err := idToken.Claims(&claims); err != nil {
		a.fail(w, http.StatusBadGateway, err)
		return
	}
	sid := random()
	a.mu.Lock()
	a.sessions[sid] = &signedIn{Subject: idToken.Subject, PreferredUsername: claims.PreferredUsername, Email: claims.Email,
		AMR: claims.AMR, ACR: claims.ACR, AuthTime: time.Unix(claims.AuthTime, 0).UTC(), SessionID: claims.SID, rawIDToken: raw}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "tenant_state", Path: "/", MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: "tenant_session", Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// current returns the signed-in user of the request, if any.
func (a *App) current(r *http.Request) (string, *signedIn) {
	c, err := r.Cookie("tenant_session")
	if err != nil {
		return "", nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return c.Value, a.sessions[c.Value]
}

// logout ends the application's session, then twofold's (RP-initiated logout).
func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	sid, u := a.current(r)
	a.mu.Lock()
	delete(a.sessions, sid)
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "tenant_session", Path: "/", MaxAge: -1})
	if u == nil || a.provider == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := a.provider.Claims(&meta); err != nil || meta.EndSession == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	q := url.Values{"id_token_hint": {u.rawIDToken}, "post_logout_redirect_uri": {a.cfg.BaseURL + "/"}}
	http.Redirect(w, r, meta.EndSession+"?"+q.Encode(), http.StatusSeeOther)
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	_, u := a.current(r)
	render(w, http.StatusOK, map[string]any{"User": u, "Issuer": a.cfg.Issuer})
}

func (a *App) fail(w http.ResponseWriter, status int, err error) {
	log.Printf("tenant-app: %v", err)
	render(w, status, map[string]any{"Error": err.Error(), "Issuer": a.cfg.Issuer})
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tenant app</title><link rel="icon" href="data:,">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#eef;padding:0 .2rem}</style>
</head><body>
<h1>Tenant app</h1>
{{with .Error}}<p role="alert" id="error">Sign-in failed: {{.}}</p><p><a href="/">Back</a></p>
{{else}}{{with .User}}
<p id="who">Signed in as <strong id="username">{{.PreferredUsername}}</strong> ({{.Email}})</p>
<dl>
<dt>Subject (sub)</dt><dd><code id="sub">{{.Subject}}</code></dd>
<dt>How (amr)</dt><dd><code id="amr">{{range $i, $m := .AMR}}{{if $i}} {{end}}{{$m}}{{end}}</code></dd>
<dt>Assurance (acr)</dt><dd><code id="acr">{{.ACR}}</code></dd>
<dt>Signed in at (auth_time)</dt><dd>{{.AuthTime.Format "2006-01-02 15:04:05 UTC"}}</dd>
</dl>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
{{else}}
<p>You are not signed in.</p>
<p><a id="login" href="/login">Sign in with twofold</a> ({{$.Issuer}})</p>
{{end}}{{end}}
</body></html>`))

func render(w http.ResponseWriter, status int, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := page.Execute(w, data); err != nil {
		log.Printf("tenant-app: render: %v", err)
	}
}

func random() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

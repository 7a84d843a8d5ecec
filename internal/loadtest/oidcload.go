package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/oidc"
)

// redirectURI is where the harness's application says it lives; nothing listens there:
// the harness reads the code from the redirect.
const redirectURI = "http://127.0.0.1:9/callback"

var (
	epAuthorize = endpoint{name: "GET /authorize (to the code)", method: http.MethodGet, expected: http.StatusFound}
	epExchange  = endpoint{name: "POST /oauth/token (code)", method: http.MethodPost, expected: http.StatusOK}
	epRefresh   = endpoint{name: "POST /oauth/token (refresh)", method: http.MethodPost, expected: http.StatusOK}
)

// application is a relying party of the harness: a confidential first-party client that
// uses golang.org/x/oauth2 with PKCE, as a Go application would.
type application struct {
	conf oauth2.Config
	ctx  context.Context // carries the HTTP client of the token requests
}

// newApplication registers a client (offline: it may ask for refresh tokens) and
// discovers the server in.
func newApplication(ctx context.Context, b *backend, in *instance, tr *http.Transport, name string, offline bool) (*application, error) {
	rc, err := b.setup.OIDCAdmin.Add(ctx, oidc.NewClient{Name: name, RedirectURIs: []string{redirectURI}, FirstParty: true},
		audit.Meta{IP: "twofold-load"})
	if err != nil {
		return nil, fmt.Errorf("register the application: %w", err)
	}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	actx := context.WithValue(ctx, oauth2.HTTPClient, hc)
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, hc), in.URL)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", in.URL, err)
	}
	scopes := []string{gooidc.ScopeOpenID, "profile", "email"}
	if offline {
		scopes = append(scopes, gooidc.ScopeOfflineAccess)
	}
	// The client authenticates as registered (client_secret_basic). Left to detect it,
	// golang.org/x/oauth2 repeats any failed token request with the secret in the form, so
	// a code exchange that failed (a timeout, a 5xx) was reported as the second use's
	// "invalid code", hiding the first error.
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	return &application{ctx: actx, conf: oauth2.Config{ClientID: rc.Client.ID, ClientSecret: rc.Secret,
		Endpoint: ep, RedirectURL: redirectURI, Scopes: scopes}}, nil
}

func randomValue() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// code runs an authorization request in the signed-in browser and returns the code and the
// PKCE verifier: GET /authorize and the redirects that stay on twofold, recorded as one
// request of endpoint i.
func (a *application) code(ctx context.Context, w *worker, browser *http.Client, i int) (code, verifier string, err error) {
	verifier = oauth2.GenerateVerifier()
	state := randomValue()
	loc := a.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", randomValue()))
	t0 := time.Now()
	status := transportError
	defer func() { w.recs[i].add(status, time.Since(t0)) }()
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
		if err != nil {
			return "", "", err
		}
		resp, err := browser.Do(req)
		if err != nil {
			return "", "", err
		}
		resp.Body.Close()
		status = resp.StatusCode
		next := resp.Header.Get("Location")
		if status != http.StatusFound && status != http.StatusSeeOther {
			return "", "", fmt.Errorf("authorize: status %d", status)
		}
		if strings.HasPrefix(next, redirectURI+"?") {
			u, err := url.Parse(next)
			if err != nil {
				return "", "", err
			}
			if u.Query().Get("state") != state || u.Query().Get("code") == "" {
				status = transportError
				return "", "", fmt.Errorf("authorize: redirect %q", next)
			}
			return u.Query().Get("code"), verifier, nil
		}
		if !strings.HasPrefix(next, "/authorize") {
			return "", "", fmt.Errorf("authorize: redirect to %q", next)
		}
		loc = w.base + next
	}
	return "", "", errors.New("authorize: too many redirects")
}

// token records one token request of endpoint i: its status and latency.
func (a *application) token(w *worker, i int, f func() (*oauth2.Token, error)) (*oauth2.Token, error) {
	t0 := time.Now()
	tok, err := f()
	status := http.StatusOK
	if err != nil {
		status = transportError
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			status = re.Response.StatusCode
		}
	}
	w.recs[i].add(status, time.Since(t0))
	return tok, err
}

// oidcRun is where an OIDC scenario runs: its server, browsers signed in to it, and an
// application registered with it.
type oidcRun struct {
	in       *instance
	tr       *http.Transport
	browsers []*http.Client
	app      *application
}

// startOIDC starts the server of scenario with up to c.Clients signed-in browsers and an
// application (offline: one that may ask for refresh tokens). stop ends what it started.
func startOIDC(ctx context.Context, b *backend, users []user, c Config, scenario string, offline bool) (*oidcRun, error) {
	in, err := b.start(serverOptions{name: scenario})
	if err != nil {
		return nil, err
	}
	run := &oidcRun{in: in, tr: newTransport(2 * c.Clients)}
	run.browsers, err = browsers(ctx, b, in, users, c.Clients, run.tr, false)
	if err != nil {
		run.stop()
		return nil, err
	}
	run.app, err = newApplication(ctx, b, in, run.tr, fmt.Sprintf("load-%s-%d", scenario, time.Now().UnixNano()), offline)
	if err != nil {
		run.stop()
		return nil, err
	}
	return run, nil
}

func (r *oidcRun) stop() {
	r.tr.CloseIdleConnections()
	r.in.stop()
}

// codeFlow: an application signs a user in who has a twofold session: the authorization
// request in the browser (to the code), then the code exchange with the client secret and
// PKCE. One completed operation is both.
func codeFlow(ctx context.Context, b *backend, users []user, c Config) (*Result, error) {
	run, err := startOIDC(ctx, b, users, c, ScenarioCodeFlow, false)
	if err != nil {
		return nil, err
	}
	defer run.stop()
	in, browsers, app := run.in, run.browsers, run.app
	return measured(in, func() (*Result, error) {
		elapsed, recs := drive(ctx, c, in.URL, c.Clients, 2, false, func(_ context.Context, w *worker) bool {
			code, verifier, err := app.code(ctx, w, browsers[w.id%len(browsers)], 0)
			if err != nil {
				return true
			}
			_, _ = app.token(w, 1, func() (*oauth2.Token, error) {
				return app.conf.Exchange(app.ctx, code, oauth2.VerifierOption(verifier))
			})
			return true
		})
		ex := merge(epExchange, recs[1])
		return &Result{Name: ScenarioCodeFlow, Concurrency: c.Clients, Elapsed: elapsed, Completed: ex.Statuses[http.StatusOK],
			Endpoints: []*Endpoint{merge(epAuthorize, recs[0]), ex},
			Notes:     []string{fmt.Sprintf("%d signed-in browsers; golang.org/x/oauth2 with PKCE and the client secret", len(browsers))},
		}, nil
	})
}

// pendingCode is a code obtained by an authorization request, with its PKCE verifier.
type pendingCode struct{ code, verifier string }

// codeExchange measures the code exchange on its own, in two phases on one server. First
// the signed-in browsers obtain codes by real authorization requests for c.Duration (the
// authorize result, measured apart); the clock stands still, so no code outlives
// oidc.CodeLifetime before it is used. Then the clients exchange those codes, each once,
// as fast as they can: the code-exchange result, whose server CPU (and CPU profile) is the
// exchanges' alone.
func codeExchange(ctx context.Context, b *backend, users []user, c Config) ([]*Result, error) {
	run, err := startOIDC(ctx, b, users, c, ScenarioCodeExchange, false)
	if err != nil {
		return nil, err
	}
	defer run.stop()
	in, browsers, app := run.in, run.browsers, run.app
	obtained := make([][]pendingCode, c.Clients)
	u0, err := in.proc.usage()
	if err != nil {
		return nil, err
	}
	self0, err := selfCPU()
	if err != nil {
		return nil, err
	}
	elapsed, recs := drive(ctx, c, in.URL, c.Clients, 1, false, func(_ context.Context, w *worker) bool {
		code, verifier, err := app.code(ctx, w, browsers[w.id%len(browsers)], 0)
		if err == nil {
			obtained[w.id] = append(obtained[w.id], pendingCode{code, verifier})
		}
		return true
	})
	u1, err := in.proc.usage()
	if err != nil {
		return nil, err
	}
	self1, err := selfCPU()
	if err != nil {
		return nil, err
	}
	codes := slices.Concat(obtained...)
	authorize := &Result{Name: ScenarioCodeExchange + "-authorize", Concurrency: c.Clients, Elapsed: elapsed, Completed: len(codes),
		Endpoints: []*Endpoint{merge(epAuthorize, recs[0])}, ClientCPU: self1 - self0,
		Notes: []string{"the codes the code-exchange scenario then exchanges: authorization requests of signed-in browsers, with PKCE"}}
	authorize.addServer(u0, u1)
	var next atomic.Int64
	exchange, err := measured(in, func() (*Result, error) {
		elapsed, recs := drive(ctx, c, in.URL, c.Clients, 1, false, func(_ context.Context, w *worker) bool {
			i := int(next.Add(1)) - 1
			if i >= len(codes) {
				return false
			}
			_, _ = app.token(w, 0, func() (*oauth2.Token, error) {
				return app.conf.Exchange(app.ctx, codes[i].code, oauth2.VerifierOption(codes[i].verifier))
			})
			return true
		})
		ex := merge(epExchange, recs[0])
		notes := []string{fmt.Sprintf("%d codes obtained beforehand (%s), each exchanged once: golang.org/x/oauth2 with PKCE and the client secret",
			len(codes), authorize.Name)}
		if n := len(codes) - ex.Requests; n > 0 {
			notes = append(notes, fmt.Sprintf("time ran out with %d codes left", n))
		}
		return &Result{Name: ScenarioCodeExchange, Concurrency: c.Clients, Elapsed: elapsed, Completed: ex.Statuses[http.StatusOK],
			Endpoints: []*Endpoint{ex}, Notes: notes}, nil
	})
	if err != nil {
		return nil, err
	}
	return []*Result{authorize, exchange}, nil
}

// refresh: applications holding a refresh token each (from one code flow per client)
// refresh it over and over, each time with the token the last refresh returned.
func refresh(ctx context.Context, b *backend, users []user, c Config) (*Result, error) {
	run, err := startOIDC(ctx, b, users, c, ScenarioRefresh, true)
	if err != nil {
		return nil, err
	}
	defer run.stop()
	in, browsers, app := run.in, run.browsers, run.app
	tokens := make([]string, c.Clients)
	setup := &worker{base: in.URL, recs: []*recorder{{}, {}}}
	for i := range tokens {
		code, verifier, err := app.code(ctx, setup, browsers[i%len(browsers)], 0)
		if err != nil {
			return nil, err
		}
		tok, err := app.conf.Exchange(app.ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			return nil, fmt.Errorf("exchange the first code: %w", err)
		}
		if tok.RefreshToken == "" {
			return nil, errors.New("no refresh token with offline_access")
		}
		tokens[i] = tok.RefreshToken
	}
	return measured(in, func() (*Result, error) {
		elapsed, recs := drive(ctx, c, in.URL, c.Clients, 1, false, func(_ context.Context, w *worker) bool {
			tok, err := app.token(w, 0, func() (*oauth2.Token, error) {
				return app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: tokens[w.id], Expiry: time.Now().Add(-time.Minute)}).Token()
			})
			if err != nil {
				return false // the family is revoked or the server failed: this client is done
			}
			tokens[w.id] = tok.RefreshToken
			return true
		})
		e := merge(epRefresh, recs[0])
		return &Result{Name: ScenarioRefresh, Concurrency: c.Clients, Elapsed: elapsed, Completed: e.Statuses[http.StatusOK],
			Endpoints: []*Endpoint{e},
			Notes:     []string{"each client rotates its own refresh token (golang.org/x/oauth2, client secret)"},
		}, nil
	})
}

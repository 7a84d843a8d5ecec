package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/app"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/support"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// Start is the fake clock's first reading: 10 s into a TOTP step, so a test has room to
// move within the step before the next one begins.
var Start = time.Unix(1_800_000_010, 0).UTC()

// Clock is a settable clock shared by the server and the test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a fake clock reading Start.
func NewClock() *Clock { return &Clock{t: Start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Options adjust the server.
type Options struct {
	// MFARequiredForRole is the policy; nil means everyone.
	MFARequiredForRole func(role string) bool
	// RealClock uses time.Now instead of the fake clock (browser tests with a live page).
	RealClock bool
	// Clock shares one fake clock between several servers; nil makes a new one.
	Clock *Clock
	// DatabaseURL selects PostgreSQL (postgres://...; see testutil.PostgresURL); empty
	// means a new SQLite file.
	DatabaseURL string
	// Throttle is the failure budget policy; zero fields take the production defaults
	// (5 free attempts, then 30 s doubling up to 15 min, locked after 100). Tests that race
	// many attempts at one account on purpose raise it.
	Throttle throttle.Policy
	// RateLimits are the per-client-address limits. The zero value turns them off: every
	// test client comes from 127.0.0.1. A nil Now uses the server's clock.
	RateLimits web.RateLimits
	// TrustedProxies are the networks whose X-Forwarded-For the server believes.
	TrustedProxies []netip.Prefix
	// Argon2 replaces the cheap hashing parameters of the tests (timing tests use real ones).
	Argon2 *password.Params
	// Support adjusts the support desk and the mail (support.go).
	Support SupportOptions
	// PublicURL is server.public_url: the OpenID Connect issuer (empty: the server's own
	// URL, oidc.go) and the origin of the return after the sign-in (empty: a path).
	PublicURL string
	// Log receives the server's log; nil discards it.
	Log *slog.Logger
	// Config changes the configuration last, as a config file would (for settings that
	// have no option above, such as audit.retention).
	Config func(*config.Config)
	// Metrics turns the Prometheus metrics on (server.metrics_addr), served at MetricsURL.
	Metrics bool
}

// Server is a running test server.
type Server struct {
	URL   string
	Auth  *auth.Service
	Store store.Store
	Clock *Clock
	HTTP  *httptest.Server
	Key   *secrets.Keyring
	DB    *sqlstore.DB
	// Support is the support desk; Outbox the directory of the mail it and the
	// notices sent ("" when Options.Support.Mailer took them).
	Support *support.Service
	Outbox  string
	// Invite sends and accepts invitations.
	Invite *invite.Service
	// Tokens issues the API tokens of the admin API.
	Tokens *apitoken.Service
	// OIDC is the OpenID Connect provider mounted in the server.
	OIDC *oidc.Provider
	// MetricsURL is the metrics listener's base URL (/metrics, /debug/pprof/ with
	// server.pprof): a listener of its own, as server.metrics_addr is. Empty when the
	// metrics are off.
	MetricsURL string
	// OIDCAdmin manages its clients and signing keys.
	OIDCAdmin *oidc.Admin
	app       *app.App
}

// New starts a server on a temporary SQLite database; it stops when the test ends. It is
// wired by internal/app exactly as `twofold serve` is, housekeeping included; Options only
// change the configuration it starts from and what a test must control (clock, key, mail).
func New(t testing.TB, o Options) *Server {
	t.Helper()
	clock := o.Clock
	if clock == nil {
		clock = NewClock()
	}
	now := clock.Now
	if o.RealClock {
		now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, base := listen(t)
	cfg := o.config(t, ln.Addr().String())
	// A fixed master key: tests may open what the server sealed.
	key := make([]byte, secrets.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	// Cheap parameters: the tests exercise the flow, not the hash cost.
	params := password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}
	if o.Argon2 != nil {
		params = *o.Argon2
	}
	limits := o.RateLimits
	if limits.Now == nil {
		limits.Now = now
	}
	a, err := app.Open(context.Background(), cfg, app.Options{
		Log: o.Log, MasterKey: key, Now: now, Argon2: &params, Throttle: &o.Throttle, RateLimits: &limits,
		HashQueueWait: 5 * time.Second, MFARequiredForRole: o.MFARequiredForRole, Mailer: o.Support.Mailer,
		InsecureCookies: true,
	})
	if err != nil {
		t.Fatalf("open the server: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	issuer := o.PublicURL
	if issuer == "" {
		issuer = base
	}
	prov, err := a.OIDC(issuer)
	if err != nil {
		t.Fatalf("oidc provider: %v", err)
	}
	h, err := a.Handler(prov)
	if err != nil {
		t.Fatal(err)
	}
	// Housekeeping runs as in production (a round at once, then every few minutes on the
	// server's clock) and stops before the store closes.
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Housekeep(ctx, prov, app.HousekeepingInterval) }()
	mailDone := make(chan struct{})
	go func() { defer close(mailDone); a.SendMail(ctx) }()
	t.Cleanup(func() { stop(); <-done; <-mailDone })
	hs := serve(t, ln, h)
	outbox := ""
	if o.Support.Mailer == nil {
		outbox = cfg.OutboxDir()
	}
	metricsURL := ""
	if mh := a.MetricsHandler(); mh != nil {
		mln, _ := listen(t)
		metricsURL = serve(t, mln, mh).URL
	}
	return &Server{URL: hs.URL, Auth: a.Auth, Store: a.Store, Clock: clock, HTTP: hs, Key: a.Keys, DB: a.Store,
		Support: a.Support, Outbox: outbox, OIDC: prov, OIDCAdmin: a.OIDCAdmin, Invite: a.Invite, Tokens: a.Tokens, MetricsURL: metricsURL, app: a}
}

// config is the configuration the server starts from: the defaults, a temporary data
// directory, the listener's address, what o asks for, then o.Config's changes.
func (o Options) config(t testing.TB, addr string) *config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Server.Addr = addr
	cfg.Server.PublicURL = o.PublicURL
	for _, p := range o.TrustedProxies {
		cfg.Server.TrustedProxies = append(cfg.Server.TrustedProxies, p.String())
	}
	cfg.Database.URL = o.DatabaseURL
	cfg.Database.MaxOpenConns = 10
	cfg.Password.MaxConcurrentHashes = 4
	cfg.Support.ResetRequiresApproval = o.Support.ResetRequiresApproval
	// Every test client is 127.0.0.1: the support limits are raised unless a test sets them.
	cfg.Limits.SupportCasesPerIPHour = orDefault(o.Support.CasesPerIPHour, 1000)
	cfg.Limits.SupportCasesPerEmailHour = orDefault(o.Support.CasesPerEmailHour, 1000)
	cfg.Limits.SupportMailsPerHour = orDefault(o.Support.MailsPerHour, 1000)
	if o.Metrics {
		cfg.Server.MetricsAddr = "127.0.0.1:0" // the test serves them on a listener of its own
	}
	if o.Config != nil {
		o.Config(cfg)
	}
	return cfg
}

func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// Password is a password that passes the policy.
const Password = "correct horse battery staple 9"

// HoldWrites starts a transaction that holds the database's write lock (on SQLite, every
// other write of the server waits for it, then answers 503 after 10 s) until release is
// called; release is also called when the test ends.
func (s *Server) HoldWrites(t testing.TB) (release func()) {
	t.Helper()
	held, done, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		ended <- s.Store.WithTx(context.Background(), func(store.Store) error {
			close(held)
			<-done
			return nil
		})
	}()
	<-held
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(done)
			if err := <-ended; err != nil {
				t.Errorf("the transaction holding the write lock: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// CreateUser makes an account with Password.
func (s *Server) CreateUser(t testing.TB, username, email, role string) *store.User {
	t.Helper()
	u, err := s.Auth.CreateUser(context.Background(), auth.NewUser{Username: username, Email: email, Role: role, Password: Password}, auth.Meta{})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return u
}

// Client is a browser-like HTTP client with its own cookie jar. It does not follow
// redirects, so tests see where the server sends them.
type Client struct {
	t    testing.TB
	base string
	HTTP *http.Client
}

// Client returns a new client with an empty cookie jar.
func (s *Server) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: s.URL, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a finished request: status, headers and the body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", r.Status, err, r.Body)
	}
	return m
}

// Do sends a request with a raw body.
func (c *Client) Do(method, path, contentType string, body []byte) *Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// PostJSON posts v (a value, or a string or []byte sent as is).
func (c *Client) PostJSON(path string, v any) *Response {
	c.t.Helper()
	var body []byte
	switch x := v.(type) {
	case nil:
	case string:
		body = []byte(x)
	case []byte:
		body = x
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			c.t.Fatal(err)
		}
	}
	return c.Do(http.MethodPost, path, "application/json", body)
}

// Get fetches path.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	return c.Do(http.MethodGet, path, "", nil)
}

// On returns a client that shares c's cookie jar but talks to server s (another instance).
func (c *Client) On(s *Server) *Client {
	return &Client{t: c.t, base: s.URL, HTTP: c.HTTP}
}

package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// signInLimits are the production defaults of the sign-in limit, the API limit off.
var signInLimits = web.RateLimits{SignIn: throttle.DefaultSignIn}

// forwarded sends a request from c with an X-Forwarded-For header (none when xff is "").
func forwarded(t *testing.T, srv *testserver.Server, c *testserver.Client, method, path, xff string, body []byte) rawResult {
	t.Helper()
	h := http.Header{}
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	r := rawDo(srv, c, method, path, ct, body, h)
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r
}

// lastLoginFailureIP is the IP address the newest login.failed event recorded.
func lastLoginFailureIP(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	events, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Event == "login.failed" {
			return e.IP
		}
	}
	t.Fatal("no login.failed event")
	return ""
}

func TestForwardedFor(t *testing.T) {
	t.Parallel()
	badLogin := []byte(`{"username":"nobody","password":"some password here"}`)
	for _, tc := range []struct {
		name    string
		trusted string // server.trusted_proxies; the test client connects from 127.0.0.1
		xff     string
		wantIP  string
	}{
		{"no_trusted_proxies_ignores_it", "", "203.0.113.9", "127.0.0.1"},
		{"from_an_untrusted_peer_it_is_ignored", "10.0.0.0/8", "203.0.113.9", "127.0.0.1"},
		{"from_a_trusted_peer_it_is_believed", "127.0.0.0/8", "203.0.113.9", "203.0.113.9"},
		{"the_right-most_untrusted_entry_counts", "127.0.0.0/8", "198.51.100.1, 203.0.113.9", "203.0.113.9"},
		{"junk_is_ignored_without_an_error", "127.0.0.0/8", "not-an-address", "127.0.0.1"},
		{"junk_after_the_client_is_ignored", "127.0.0.0/8", "203.0.113.9, ??", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var trusted []netip.Prefix
			if tc.trusted != "" {
				trusted = []netip.Prefix{netip.MustParsePrefix(tc.trusted)}
			}
			srv := testserver.New(t, testserver.Options{TrustedProxies: trusted})
			r := forwarded(t, srv, srv.Client(t), http.MethodPost, "/api/v1/login", tc.xff, badLogin)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", r.status, r.body)
			}
			if got := lastLoginFailureIP(t, srv); got != tc.wantIP {
				t.Fatalf("the audit log recorded %s, want %s", got, tc.wantIP)
			}
		})
	}

	t.Run("the sessions list shows the same address", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		body, _ := json.Marshal(map[string]string{"username": "alice", "password": testserver.Password})
		if r := forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "2001:db8::77", body); r.status != http.StatusOK {
			t.Fatalf("login: %d %s", r.status, r.body)
		}
		var list struct{ Sessions []struct{ IP string } }
		if err := json.Unmarshal(c.Get("/api/v1/account/sessions").Body, &list); err != nil || len(list.Sessions) != 1 {
			t.Fatalf("sessions: %v %+v", err, list)
		}
		if list.Sessions[0].IP != "2001:db8::77" {
			t.Fatalf("session IP %q, want 2001:db8::77", list.Sessions[0].IP)
		}
	})
}

// wantRateLimited fails unless r is a 429 rate_limited problem with Retry-After.
func wantRateLimited(t *testing.T, r rawResult) {
	t.Helper()
	var p struct{ Code string }
	_ = json.Unmarshal(r.body, &p)
	if r.status != http.StatusTooManyRequests || p.Code != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("got %d %s (Retry-After %q), want 429 rate_limited with Retry-After", r.status, r.body, r.header.Get("Retry-After"))
	}
}

func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	empty := []byte(`{}`) // a 400 before any budget is touched: only the rate limit counts

	t.Run("30 at once, then 10 a second per client address", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{RateLimits: signInLimits})
		c := srv.Client(t)
		for i := 1; i <= 30; i++ {
			if r := forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "", empty); r.status != http.StatusBadRequest {
				t.Fatalf("request %d within the burst: %d %s", i, r.status, r.body)
			}
		}
		r := forwarded(t, srv, c, http.MethodPost, "/api/v1/login/totp", "", empty)
		wantRateLimited(t, r)
		if r.header.Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q, want 1", r.header.Get("Retry-After"))
		}
		page := postForm(c, "/login", url.Values{"username": {"x"}, "password": {"y"}})
		wantStatus(t, page, http.StatusTooManyRequests)
		if page.Header.Get("Retry-After") == "" || page.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("the sign-in page answered 429 without Retry-After or not as a page: %v", page.Header)
		}
		// Reading pages and the rest of the API is not a sign-in step.
		wantStatus(t, c.Get("/login"), http.StatusOK)
		wantStatus(t, c.Get("/api/v1/session"), http.StatusUnauthorized)

		srv.Clock.Advance(time.Second)
		for i := 1; i <= 10; i++ {
			if r := forwarded(t, srv, c, http.MethodPost, "/login/code", "", nil); r.status == http.StatusTooManyRequests {
				t.Fatalf("request %d of the 10 refilled in a second was refused", i)
			}
		}
		wantRateLimited(t, forwarded(t, srv, c, http.MethodPost, "/api/v1/login/recovery-code", "", empty))
	})

	t.Run("a forged X-Forwarded-For from an untrusted peer is no way around it", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{RateLimits: signInLimits,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		c := srv.Client(t)
		for i := range 30 {
			xff := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}).String()
			forwarded(t, srv, c, http.MethodPost, "/api/v1/login", xff, empty)
		}
		wantRateLimited(t, forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "198.51.100.99", empty))
		wantRateLimited(t, forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "junk", empty))
	})

	t.Run("behind a trusted proxy each client has its own bucket", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{RateLimits: signInLimits,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		c := srv.Client(t)
		for range 30 {
			forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "203.0.113.9", empty)
		}
		wantRateLimited(t, forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "203.0.113.9", empty))
		// Spoofed entries left of the proxy's own are not believed either.
		wantRateLimited(t, forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "192.0.2.1, 203.0.113.9", empty))
		if r := forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "203.0.113.10", empty); r.status != http.StatusBadRequest {
			t.Fatalf("another client behind the proxy: %d %s", r.status, r.body)
		}
		// Junk falls back to the proxy's own address: a bucket of its own, never a fresh one per value.
		for range 30 {
			forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "junk", empty)
		}
		wantRateLimited(t, forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "other junk", empty))
	})

	t.Run("an IPv6 client's whole /64 is one bucket", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{RateLimits: signInLimits,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		c := srv.Client(t)
		for i := range 30 {
			xff := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 15: byte(i + 1)}).String()
			forwarded(t, srv, c, http.MethodPost, "/api/v1/login", xff, empty)
		}
		wantRateLimited(t, forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "2001:db8:1:2::ffff", empty))
		if r := forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "2001:db8:1:3::1", empty); r.status != http.StatusBadRequest {
			t.Fatalf("another /64: %d %s", r.status, r.body)
		}
	})
}

func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{RateLimits: web.RateLimits{SignIn: throttle.DefaultSignIn, API: throttle.DefaultAPI}})
	c := srv.Client(t)
	for i := 1; i <= 100; i++ {
		if r := c.Get("/api/v1/session"); r.Status != http.StatusUnauthorized {
			t.Fatalf("request %d within the burst: %d %s", i, r.Status, r.Body)
		}
	}
	wantRateLimited(t, forwarded(t, srv, c, http.MethodGet, "/api/v1/session", "", nil))
	// The sign-in steps have their own bucket, and pages none.
	if r := forwarded(t, srv, c, http.MethodPost, "/api/v1/login", "", []byte(`{}`)); r.status != http.StatusBadRequest {
		t.Fatalf("sign-in step after the API bucket ran dry: %d %s", r.status, r.body)
	}
	wantStatus(t, c.Get("/login"), http.StatusOK)
	srv.Clock.Advance(time.Second)
	for i := 1; i <= 50; i++ {
		if r := c.Get("/api/v1/session"); r.Status != http.StatusUnauthorized {
			t.Fatalf("request %d of the 50 refilled in a second: %d", i, r.Status)
		}
	}
	wantRateLimited(t, forwarded(t, srv, c, http.MethodGet, "/api/v1/session", "", nil))
}

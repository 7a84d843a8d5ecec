package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestMetricsAfterAJourney: after a scripted journey (set up an authenticator, sign in
// with password and code, a wrong code, a recovery code, wrong passwords until throttled,
// a support case and an MFA reset) the counters moved under the right labels.
func TestMetricsAfterAJourney(t *testing.T) {
	s := testserver.New(t, testserver.Options{Metrics: true})
	alice := s.CreateUser(t, "alice", "alice@example.com", "user")
	secret, rc := s.Enroll(t, s.Client(t), "alice") // password ok, totp ok

	c := s.Client(t)
	c.Login("alice", "mfa_required")
	wantProblem(t, c.PostJSON("/api/v1/login/totp", map[string]string{"code": wrongCode(s, secret)}), http.StatusUnauthorized, "invalid_code")
	if r := c.PostJSON("/api/v1/login/totp", map[string]string{"code": s.Code(secret, 0)}); r.Status != http.StatusOK {
		t.Fatalf("sign in with a code: %d %s", r.Status, r.Body)
	}
	c = s.Client(t)
	c.Login("alice", "mfa_required")
	if r := c.PostJSON("/api/v1/login/recovery-code", map[string]string{"code": rc}); r.Status != http.StatusOK {
		t.Fatalf("sign in with the recovery code: %d %s", r.Status, r.Body)
	}
	wrong := map[string]string{"username": "alice", "password": "not the password at all"}
	for range 5 { // the free attempts of the production budget
		wantProblem(t, s.Client(t).PostJSON("/api/v1/login", wrong), http.StatusUnauthorized, "invalid_credentials")
	}
	wantProblem(t, s.Client(t).PostJSON("/api/v1/login", wrong), http.StatusTooManyRequests, "throttled")
	if r := s.Client(t).PostJSON("/api/v1/support/cases", supCase("alice@example.com")); r.Status != http.StatusAccepted {
		t.Fatalf("open a support case: %d %s", r.Status, r.Body)
	}
	if _, err := s.Support.ResetAtConsole(context.Background(), alice, "lost phone", "", auth.Meta{}); err != nil {
		t.Fatalf("reset MFA at the console: %v", err)
	}

	sc := s.Scrape(t)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"twofold_sign_ins_total", []string{"step", "password", "result", "ok"}, 4},
		{"twofold_sign_ins_total", []string{"step", "password", "result", "invalid"}, 5},
		{"twofold_sign_ins_total", []string{"step", "password", "result", "throttled"}, 1},
		{"twofold_sign_ins_total", []string{"step", "password", "result", "busy"}, 0},
		{"twofold_sign_ins_total", []string{"step", "totp", "result", "ok"}, 2},
		{"twofold_sign_ins_total", []string{"step", "totp", "result", "invalid"}, 1},
		{"twofold_sign_ins_total", []string{"step", "recovery_code", "result", "ok"}, 1},
		{"twofold_sign_ins_total", []string{"result", "error"}, 0},
		{"twofold_second_factor_enrollments_total", []string{"kind", "totp"}, 1},
		{"twofold_recovery_code_uses_total", nil, 1},
		{"twofold_support_cases_opened_total", nil, 1},
		{"twofold_mfa_resets_total", nil, 1},
		{"twofold_http_requests_total", []string{"route", "/api/v1/login", "method", "POST", "status", "429"}, 1},
		{"twofold_http_requests_total", []string{"route", "/api/v1/login/totp", "method", "POST", "status", "401"}, 1},
		{"twofold_busy_responses_total", nil, 0},
		{"twofold_database_errors_total", nil, 0},
		{"twofold_password_hash_queue_length", nil, 0},
		{"twofold_password_hashes_running", nil, 0},
	} {
		if got := sc.Value(tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// 4 right passwords, 5 wrong ones (the throttled one never hashed), one for the user.
	if got := sc.Value("twofold_password_hash_wait_seconds"); got < 9 {
		t.Errorf("password hash waits observed: %v, want at least 9", got)
	}
	// The support case's confirmation and the reset notice are queued or sent; the gauges
	// are read from the queue at the scrape.
	for _, name := range []string{"twofold_mail_queue_pending", "twofold_mail_queue_failed", "twofold_mail_queue_overdue_seconds"} {
		if sc[name] == nil {
			t.Errorf("%s missing from the scrape", name)
		}
	}
}

// TestSessionCacheLookupsAreCounted: on SQLite, checks of an unchanged session after the
// first are answered from memory, and the scrape counts each check once. (A background
// commit, such as a mail sent, empties the cache, so only "some hits" is certain.)
func TestSessionCacheLookupsAreCounted(t *testing.T) {
	s := testserver.New(t, testserver.Options{Metrics: true})
	s.CreateUser(t, "alice", "alice@example.com", "user")
	secret, _ := s.Enroll(t, s.Client(t), "alice")
	c := s.Client(t)
	signIn(t, s, c, "alice", secret)
	before := s.Scrape(t)
	for range 10 {
		if r := c.Get("/api/v1/session"); r.Status != http.StatusOK {
			t.Fatalf("session: %d %s", r.Status, r.Body)
		}
	}
	after := s.Scrape(t)
	hits := after.Value("twofold_session_cache_lookups_total", "result", "hit") - before.Value("twofold_session_cache_lookups_total", "result", "hit")
	misses := after.Value("twofold_session_cache_lookups_total", "result", "miss") - before.Value("twofold_session_cache_lookups_total", "result", "miss")
	if hits < 1 || misses < 1 || hits+misses != 10 {
		t.Fatalf("ten checks of one session: %v hits and %v misses, want some of each and 10 in all", hits, misses)
	}
	if got := after.Series("twofold_session_cache_barriers_total"); len(got) != 0 {
		t.Errorf("SQLite, which sends no barriers, has a barrier count: %v", got)
	}
}

// TestSessionCacheBarriersAreCounted: on PostgreSQL, an answer from memory waits for a
// barrier (a transaction ID each), and the scrape counts them: at least one, and no more
// than the lookups (a barrier slowed by other tests' commits is counted, and its lookup
// reads the database).
func TestSessionCacheBarriersAreCounted(t *testing.T) {
	s := testserver.New(t, testserver.Options{Metrics: true, DatabaseURL: testutil.PostgresURL(t),
		Config: func(c *config.Config) { c.MFA.Required = config.MFARequired{None: true} }})
	s.CreateUser(t, "bob", "bob@example.com", "user")
	c := s.Client(t)
	c.Login("bob", "authenticated")
	before := s.Scrape(t)
	var hits float64
	// The cache answers once its listener listens (started by the first lookup).
	for start := time.Now(); hits < 3; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%v session checks answered from memory within 10 seconds, want 3", hits)
		}
		wantStatus(t, c.Get("/api/v1/session"), http.StatusOK)
		hits = s.Scrape(t).Value("twofold_session_cache_lookups_total", "result", "hit") -
			before.Value("twofold_session_cache_lookups_total", "result", "hit")
	}
	after := s.Scrape(t)
	barriers := after.Value("twofold_session_cache_barriers_total") - before.Value("twofold_session_cache_barriers_total")
	lookups := after.Value("twofold_session_cache_lookups_total", "result", "hit") - before.Value("twofold_session_cache_lookups_total", "result", "hit") +
		after.Value("twofold_session_cache_lookups_total", "result", "miss") - before.Value("twofold_session_cache_lookups_total", "result", "miss")
	if barriers < 1 || barriers > lookups {
		t.Fatalf("%v barriers for %v lookups, want between 1 and as many", barriers, lookups)
	}
}

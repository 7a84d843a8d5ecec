package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/web"
)

// multiPair starts two server instances, each with its own connection pool, on one
// PostgreSQL database with one shared clock: a scaled-out deployment in miniature.
func multiPair(t *testing.T) (a, b *testserver.Server) {
	t.Helper()
	dsn := testutil.PostgresURL(t)
	clock := testserver.NewClock()
	a = testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock, Throttle: manyAttempts})
	b = testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock, Throttle: manyAttempts})
	return a, b
}

func multiStatus(t *testing.T, r *testserver.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}

func TestMultiInstance(t *testing.T) {
	a, b := multiPair(t)
	a.CreateUser(t, "alice", "alice@example.com", "user")
	secret, recoveryCode := a.Enroll(t, a.Client(t), "alice")

	t.Run("session made on A works on B, logout on A ends it on B", func(t *testing.T) {
		onA := a.Client(t)
		onA.Login("alice", "mfa_required")
		multiStatus(t, onA.PostJSON("/api/v1/login/totp", map[string]string{"code": a.Code(secret, 0)}), http.StatusOK)
		onB := onA.On(b)
		r := onB.Get("/api/v1/session")
		multiStatus(t, r, http.StatusOK)
		if decode[web.StepAnswer](t, r).State != "authenticated" {
			t.Fatalf("session on B: %s", r.Body)
		}
		token := multiSessionToken(t, onA, a)
		multiStatus(t, multiGetWithToken(t, b, token), http.StatusOK)
		multiStatus(t, onA.PostJSON("/api/v1/logout", nil), http.StatusNoContent)
		// The jar dropped the cookie on logout; replay the old token by hand on B.
		multiStatus(t, multiGetWithToken(t, b, token), http.StatusUnauthorized)
		a.NextStep()
	})

	t.Run("sign-out everywhere in another process is refused on B at the next request", func(t *testing.T) {
		// A stands in for `twofold user sign-out`: another process with its own pool on the
		// same database. B answers the session right before and refuses it right after,
		// with no pause in between: nothing B keeps can outlive the sign-out.
		onA := a.Client(t)
		signIn(t, a, onA, "alice", secret)
		token := multiSessionToken(t, onA, a)
		multiStatus(t, multiGetWithToken(t, b, token), http.StatusOK)
		u, err := a.Store.GetUserByLogin(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Auth.End(context.Background(), auth.SignOutEverywhere, u.ID, "", auth.Meta{IP: "console"}); err != nil {
			t.Fatal(err)
		}
		multiStatus(t, multiGetWithToken(t, b, token), http.StatusUnauthorized)
		a.NextStep()
	})

	t.Run("TOTP code accepted on A is refused on B", func(t *testing.T) {
		onA, onB := a.Client(t), b.Client(t)
		onA.Login("alice", "mfa_required")
		onB.Login("alice", "mfa_required")
		code := a.Code(secret, 0)
		multiStatus(t, onA.PostJSON("/api/v1/login/totp", map[string]string{"code": code}), http.StatusOK)
		r := onB.PostJSON("/api/v1/login/totp", map[string]string{"code": code})
		multiStatus(t, r, http.StatusUnauthorized)
		if r.JSON(t)["code"] != "invalid_code" {
			t.Fatalf("replay on B: %s", r.Body)
		}
		a.NextStep()
	})

	t.Run("recovery code used on A is dead on B", func(t *testing.T) {
		onA, onB := a.Client(t), b.Client(t)
		onA.Login("alice", "mfa_required")
		onB.Login("alice", "mfa_required")
		r := onA.PostJSON("/api/v1/login/recovery-code", map[string]string{"code": recoveryCode})
		multiStatus(t, r, http.StatusOK)
		fresh := decode[web.StepAnswer](t, r).RecoveryCode
		multiStatus(t, onB.PostJSON("/api/v1/login/recovery-code", map[string]string{"code": recoveryCode}), http.StatusUnauthorized)
		multiStatus(t, onB.PostJSON("/api/v1/login/recovery-code", map[string]string{"code": fresh}), http.StatusOK)
	})
}

// multiSessionToken reads the session token the client holds for server s.
func multiSessionToken(t *testing.T, c *testserver.Client, s *testserver.Server) string {
	t.Helper()
	u, _ := url.Parse(s.URL)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "twofold_session" {
			return ck.Value
		}
	}
	t.Fatal("client holds no session cookie")
	return ""
}

// multiGetWithToken asks s for the session of a raw token, without any cookie jar.
func multiGetWithToken(t *testing.T, s *testserver.Server, token string) *testserver.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/session", nil)
	req.AddCookie(&http.Cookie{Name: "twofold_session", Value: token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &testserver.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// TestMultiInstanceBurst signs in 20 sessions split over two instances (on one PostgreSQL
// database, or one SQLite file) and submits one code from all of them at once: exactly one
// wins.
func TestMultiInstanceBurst(t *testing.T) {
	for _, db := range testserver.Databases {
		t.Run(db, func(t *testing.T) {
			a, b := testserver.Instances(t, db, testserver.Options{Throttle: manyAttempts})
			multiInstanceBurst(t, a, b)
		})
	}
}

func multiInstanceBurst(t *testing.T, a, b *testserver.Server) {
	a.CreateUser(t, "bob", "bob@example.com", "user")
	secret, recoveryCode := a.Enroll(t, a.Client(t), "bob")

	const n = 20
	clients := make([]*testserver.Client, n)
	for i := range clients {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		clients[i] = srv.Client(t)
		clients[i].Login("bob", "mfa_required")
	}
	before := authenticatedSessions(t, a, "bob")
	code := a.Code(secret, 0)
	wins := multiBurst(t, clients, "/api/v1/login/totp", code)
	if wins != 1 {
		t.Fatalf("%d of %d parallel submissions of one code won, want exactly 1", wins, n)
	}
	if after := authenticatedSessions(t, b, "bob"); after != before+1 {
		t.Errorf("%d signed-in sessions after the burst, want %d: one more", after, before+1)
	}

	for i := range clients {
		clients[i] = clients[i].On([]*testserver.Server{a, b}[i%2])
		clients[i].Login("bob", "mfa_required")
	}
	before = authenticatedSessions(t, a, "bob")
	wins = multiBurst(t, clients, "/api/v1/login/recovery-code", recoveryCode)
	if wins != 1 {
		t.Fatalf("%d of %d parallel uses of one recovery code won, want exactly 1", wins, n)
	}
	if after := authenticatedSessions(t, b, "bob"); after != before+1 {
		t.Errorf("%d signed-in sessions after the recovery code burst, want %d: one more", after, before+1)
	}
}

// authenticatedSessions counts the signed-in sessions of username.
func authenticatedSessions(t *testing.T, srv *testserver.Server, username string) int {
	t.Helper()
	u, err := srv.Auth.FindUser(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := srv.Store.ListUserSessions(t.Context(), u.ID, srv.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range sessions {
		if s.State == store.StateAuthenticated {
			n++
		}
	}
	return n
}

// multiBurst posts code to path from every client at once and counts the 200s; any answer
// other than 200 or 401 fails the test.
func multiBurst(t *testing.T, clients []*testserver.Client, path, code string) int {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
		bad  []string
	)
	start := make(chan struct{})
	for _, c := range clients {
		wg.Add(1)
		go func(c *testserver.Client) {
			defer wg.Done()
			<-start
			r := c.PostJSON(path, map[string]string{"code": code})
			mu.Lock()
			defer mu.Unlock()
			switch r.Status {
			case http.StatusOK:
				wins++
			case http.StatusUnauthorized:
			default:
				bad = append(bad, string(r.Body))
			}
		}(c)
	}
	close(start)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d unexpected answers, first: %s", len(bad), bad[0])
	}
	return wins
}

// TestKilledDatabaseConnections kills every connection of both instances while they serve:
// requests answer 200 or 503 "unavailable" (never 500), some of them do meet a dead
// connection and answer 503, and the pools recover.
func TestKilledDatabaseConnections(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	clock := testserver.NewClock()
	a := testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock})
	b := testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock})
	a.CreateUser(t, "carol", "carol@example.com", "user")
	c := a.Client(t)
	c.Login("carol", "enrollment_required")

	for round := 0; round < 3; round++ {
		if n := testutil.TerminatePostgresConnections(t, dsn); n == 0 {
			t.Fatal("no connection was terminated")
		}
		unavailable := 0
		for i, srv := range []*testserver.Server{a, b, a, b, a, b} {
			cl := c.On(srv)
			for _, r := range []*testserver.Response{cl.Get("/readyz"), cl.Get("/api/v1/session")} {
				switch {
				case r.Status == http.StatusOK:
				case r.Status == http.StatusServiceUnavailable && r.JSON(t)["code"] == "unavailable" && r.Header.Get("Retry-After") != "":
					unavailable++
				default:
					t.Fatalf("round %d request %d: %d %s", round, i, r.Status, r.Body)
				}
			}
		}
		// The idle connections of both pools are dead: the first requests meet them. A round
		// without a single 503 would mean the connections were not killed at all, and the
		// test would prove nothing about how a dead database is answered.
		if unavailable == 0 {
			t.Fatalf("round %d: no answer was 503 unavailable: the killed connections were never met", round)
		}
		t.Logf("round %d: %d answers were 503 unavailable", round, unavailable)
		// Recovered: both instances serve again.
		multiStatus(t, c.On(a).Get("/api/v1/session"), http.StatusOK)
		multiStatus(t, c.On(b).Get("/api/v1/session"), http.StatusOK)
	}
}

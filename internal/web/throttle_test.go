package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/throttle"
)

// manyAttempts is a failure budget large enough for tests that race many submissions of
// one code on purpose: their subject is the one-time rule, not the budget.
var manyAttempts = throttle.Policy{FreeAttempts: 100, FirstDelay: time.Second, MaxDelay: time.Second, MaxFailures: 100}

// wantThrottled fails unless r is 429 throttled with a Retry-After of wantWait (rounded up
// to whole seconds), and returns the problem's detail.
func wantThrottled(t *testing.T, r *testserver.Response, wantWait time.Duration) string {
	t.Helper()
	wantProblem(t, r, http.StatusTooManyRequests, "throttled")
	got := r.Header.Get("Retry-After")
	if want := strconv.Itoa(int((wantWait + time.Second - 1) / time.Second)); got != want {
		t.Fatalf("Retry-After %q, want %q: %s", got, want, r.Body)
	}
	return problemOf(t, r)["detail"].(string)
}

// login posts a username and password.
func login(c *testserver.Client, username, password string) *testserver.Response {
	return c.PostJSON("/api/v1/login", map[string]string{"username": username, "password": password})
}

// auditCount counts the events named event about userID ("" counts them for everyone).
func auditCount(t *testing.T, srv *testserver.Server, userID, event string) int {
	t.Helper()
	events, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: userID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Event == event && (userID == "" || e.SubjectID == userID) {
			n++
		}
	}
	return n
}

// refusals returns the throttle.refused rows of the user ("" for every subject) and the
// refusals they count.
func refusals(t *testing.T, srv *testserver.Server, userID string) (rows, count int) {
	t.Helper()
	events, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: userID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Event == "throttle.refused" && (userID == "" || e.SubjectID == userID) {
			rows++
			count += e.Count
		}
	}
	return rows, count
}

func TestPasswordBudget(t *testing.T) {
	t.Parallel()
	const wrong = "not the password at all 1"

	t.Run("unknown, known and disabled identifiers are throttled alike after 5 failures", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		srv.CreateUser(t, "carol", "carol@example.com", "user")
		disable(t, srv, "carol")
		var first *testserver.Response
		for _, tc := range []struct{ name, username, password string }{
			{"known_account_wrong_password", "alice", wrong},
			{"unknown_name", "mallory", wrong},
			{"unknown_e-mail", "mallory@example.com", wrong},
			{"disabled_account_right_password", "carol", testserver.Password},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := srv.Client(t)
				for i := 1; i <= 5; i++ {
					wantProblem(t, login(c, tc.username, tc.password), http.StatusUnauthorized, "invalid_credentials")
				}
				r := login(c, tc.username, tc.password)
				wantThrottled(t, r, 30*time.Second)
				if first == nil {
					first = r
				} else if string(r.Body) != string(first.Body) || r.Header.Get("Retry-After") != first.Header.Get("Retry-After") {
					t.Fatalf("throttled answer differs from the known account's:\n%s\n%s", r.Body, first.Body)
				}
			})
		}
		// The time of the fake clock never moved: every one of them waits the same 30 s.
	})

	t.Run("a throttled attempt is refused even with the right password", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		for range 5 {
			login(c, "alice", wrong)
		}
		wantThrottled(t, login(c, "alice", testserver.Password), 30*time.Second)
		srv.Clock.Advance(29 * time.Second)
		wantThrottled(t, login(c, "alice", testserver.Password), time.Second)
		srv.Clock.Advance(time.Second)
		wantStatus(t, login(c, "alice", testserver.Password), http.StatusOK)
	})

	t.Run("refusals are one audit row per waiting period, counting them", func(t *testing.T) {
		srv := newServer(t)
		u := srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		for range 5 {
			login(c, "alice", wrong)
		}
		for range 3 {
			wantThrottled(t, login(c, "alice", wrong), 30*time.Second)
		}
		if rows, n := refusals(t, srv, u.ID); rows != 1 || n != 3 {
			t.Fatalf("first wait: %d throttle.refused rows counting %d, want 1 row counting 3", rows, n)
		}
		srv.Clock.Advance(30 * time.Second)
		wantProblem(t, login(c, "alice", wrong), http.StatusUnauthorized, "invalid_credentials")
		for range 2 {
			wantThrottled(t, login(c, "alice", wrong), time.Minute)
		}
		if rows, n := refusals(t, srv, u.ID); rows != 2 || n != 5 {
			t.Fatalf("second wait: %d throttle.refused rows counting %d, want 2 rows counting 5", rows, n)
		}
		// An unknown name's budget counts its own refusals, with no subject.
		for range 7 {
			login(c, "mallory", wrong)
		}
		if rows, n := refusals(t, srv, ""); rows != 3 || n != 7 {
			t.Fatalf("with an unknown name: %d throttle.refused rows counting %d, want 3 counting 7", rows, n)
		}
	})

	t.Run("username and e-mail share one budget", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		for _, id := range []string{"alice", "ALICE", "alice@example.com", "Alice@Example.COM", "ａｌｉｃｅ"} {
			wantProblem(t, login(c, id, wrong), http.StatusUnauthorized, "invalid_credentials")
		}
		wantThrottled(t, login(c, "alice@example.com", wrong), 30*time.Second)
		wantThrottled(t, login(c, "alice", testserver.Password), 30*time.Second)
	})

	t.Run("the wait doubles up to 15 minutes and a success resets the budget", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		for range 5 {
			login(c, "alice", wrong)
		}
		for _, wait := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
			wantThrottled(t, login(c, "alice", wrong), wait)
			srv.Clock.Advance(wait)
			wantProblem(t, login(c, "alice", wrong), http.StatusUnauthorized, "invalid_credentials")
		}
		srv.Clock.Advance(15 * time.Minute)
		wantStatus(t, login(c, "alice", testserver.Password), http.StatusOK)
		for range 5 {
			wantProblem(t, login(srv.Client(t), "alice", wrong), http.StatusUnauthorized, "invalid_credentials")
		}
		wantThrottled(t, login(c, "alice", wrong), 30*time.Second)
	})

	t.Run("100 consecutive failures lock the account until an administrator unlocks it", func(t *testing.T) {
		srv := newServer(t)
		u := srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		for i := 1; i <= 100; i++ {
			wantProblem(t, login(c, "alice", wrong), http.StatusUnauthorized, "invalid_credentials")
			srv.Clock.Advance(throttle.Default.Delay(i))
		}
		for _, later := range []time.Duration{0, time.Hour, 30 * 24 * time.Hour} {
			srv.Clock.Advance(later)
			r := login(c, "alice", testserver.Password)
			wantProblem(t, r, http.StatusTooManyRequests, "throttled")
			if r.Header.Get("Retry-After") != "" {
				t.Fatalf("a locked account got Retry-After %q", r.Header.Get("Retry-After"))
			}
		}
		// Housekeeping never forgets a locked budget, however old.
		if _, err := srv.Auth.DeleteExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, login(c, "alice", testserver.Password), http.StatusTooManyRequests, "throttled")
		if n := auditCount(t, srv, u.ID, "throttle.locked"); n != 1 {
			t.Errorf("%d throttle.locked events, want 1", n)
		}
		if n := auditCount(t, srv, u.ID, "throttle.delayed"); n != 95 {
			t.Errorf("%d throttle.delayed events, want 95 (failures 5 to 99)", n)
		}
		if rows, n := refusals(t, srv, u.ID); rows != 1 || n != 4 {
			t.Errorf("%d throttle.refused rows counting %d refusals, want 1 row counting 4 (one lock, however long)", rows, n)
		}
		if err := srv.Auth.Unlock(context.Background(), u, auth.Meta{IP: "console"}); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, login(c, "alice", testserver.Password), http.StatusOK)
	})

	t.Run("an idle budget is forgotten after a day, for unknown and known names alike", func(t *testing.T) {
		srv := newServer(t)
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		for _, name := range []string{"alice", "mallory"} {
			for range 6 {
				login(c, name, wrong)
			}
		}
		srv.Clock.Advance(23 * time.Hour)
		if _, err := srv.Auth.DeleteExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"alice", "mallory"} {
			login(c, name, wrong) // the 6th failure (the 6th attempt above was refused): 1 minute
			wantThrottled(t, login(c, name, wrong), time.Minute)
		}
		srv.Clock.Advance(24*time.Hour + time.Second)
		if _, err := srv.Auth.DeleteExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"alice", "mallory"} {
			for i := 1; i <= 5; i++ {
				wantProblem(t, login(c, name, wrong), http.StatusUnauthorized, "invalid_credentials")
			}
			wantThrottled(t, login(c, name, wrong), 30*time.Second)
		}
	})

	t.Run("checking the current password spends the same budget", func(t *testing.T) {
		srv := testserver.New(t, testserver.Options{MFARequiredForRole: noMFA})
		srv.CreateUser(t, "alice", "alice@example.com", "user")
		c := srv.Client(t)
		c.Login("alice", "authenticated")
		change := func(current string) *testserver.Response {
			return c.PostJSON("/api/v1/account/password", map[string]string{"current_password": current, "new_password": "violet submarine orchestra 58"})
		}
		for range 5 {
			wantProblem(t, change(wrong), http.StatusUnauthorized, "invalid_credentials")
		}
		wantThrottled(t, change(testserver.Password), 30*time.Second)
		wantThrottled(t, login(srv.Client(t), "alice", testserver.Password), 30*time.Second)
	})

	t.Run("the sign-in page shows the wait and sends Retry-After", func(t *testing.T) {
		srv := newServer(t)
		c := srv.Client(t)
		for range 5 {
			postForm(c, "/login", url.Values{"username": {"nobody"}, "password": {wrong}})
		}
		r := postForm(c, "/login", url.Values{"username": {"nobody"}, "password": {wrong}})
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") != "30" {
			t.Fatalf("Retry-After %q, want 30", r.Header.Get("Retry-After"))
		}
		contains(t, r, "Too many failed attempts. Try again in 30 seconds.")
	})
}

func TestSecondFactorBudget(t *testing.T) {
	t.Parallel()

	t.Run("a new sign-in does not reset it", func(t *testing.T) {
		srv := newServer(t)
		_, secret, _ := enrolled(t, srv, "alice")
		for range 5 {
			c := srv.Client(t) // a fresh sign-in for every guess
			c.Login("alice", "mfa_required")
			wantProblem(t, c.PostJSON("/api/v1/login/totp", codeJSON(wrongCode(srv, secret))), http.StatusUnauthorized, "invalid_code")
		}
		c := srv.Client(t)
		c.Login("alice", "mfa_required") // the password budget is separate: the password still works
		wantThrottled(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), 30*time.Second)
		srv.Clock.Advance(30 * time.Second)
		srv.NextStep()
		c = srv.Client(t)
		c.Login("alice", "mfa_required")
		wantStatus(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), http.StatusOK)
	})

	t.Run("authenticator codes and the recovery code share one budget", func(t *testing.T) {
		srv := newServer(t)
		_, secret, rc := enrolled(t, srv, "alice")
		c := srv.Client(t)
		c.Login("alice", "mfa_required")
		for range 3 {
			wantProblem(t, c.PostJSON("/api/v1/login/totp", codeJSON(wrongCode(srv, secret))), http.StatusUnauthorized, "invalid_code")
		}
		for _, code := range []string{"AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "malformed"} {
			wantProblem(t, c.PostJSON("/api/v1/login/recovery-code", codeJSON(code)), http.StatusUnauthorized, "invalid_code")
		}
		wantThrottled(t, c.PostJSON("/api/v1/login/recovery-code", codeJSON(rc)), 30*time.Second)
		wantThrottled(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), 30*time.Second)
		if got := sessionState(t, c); got != "mfa_required" {
			t.Fatalf("session %q after throttled attempts, want mfa_required", got)
		}
	})

	t.Run("code checks on the security page spend it too", func(t *testing.T) {
		srv := newServer(t)
		c, secret, _ := enrolled(t, srv, "alice")
		srv.Clock.Advance(10*time.Minute + time.Second) // the sign-in's proof is no longer recent
		for range 3 {
			wantProblem(t, c.PostJSON("/api/v1/account/mfa/recovery-code", codeJSON(wrongCode(srv, secret))), http.StatusUnauthorized, "invalid_code")
		}
		for range 2 {
			wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", codeJSON(wrongCode(srv, secret))), http.StatusForbidden, "reauthentication_required")
		}
		wantThrottled(t, c.PostJSON("/api/v1/account/mfa/totp", codeJSON(srv.Code(secret, 0))), 30*time.Second)
		wantThrottled(t, c.PostJSON("/api/v1/account/mfa/recovery-code", codeJSON(srv.Code(secret, 0))), 30*time.Second)
		// Without a code nothing is checked, so nothing is spent or refused for the budget.
		wantProblem(t, c.PostJSON("/api/v1/account/mfa/totp", nil), http.StatusForbidden, "reauthentication_required")

		r := postForm(c, "/account/recovery-code", url.Values{"code": {srv.Code(secret, 0)}})
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") != "30" {
			t.Fatalf("page answer Retry-After %q, want 30", r.Header.Get("Retry-After"))
		}
	})

	t.Run("code guessing never locks the password step and the other way round", func(t *testing.T) {
		srv := newServer(t)
		_, secret, _ := enrolled(t, srv, "alice")
		c := srv.Client(t)
		c.Login("alice", "mfa_required")
		for range 6 {
			c.PostJSON("/api/v1/login/totp", codeJSON(wrongCode(srv, secret)))
		}
		srv.Client(t).Login("alice", "mfa_required")
		for range 6 {
			login(srv.Client(t), "alice", "not the password at all 1")
		}
		srv.Clock.Advance(30 * time.Second)
		srv.NextStep()
		wantStatus(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), http.StatusOK)
	})

	t.Run("a new authenticator after an MFA reset starts a fresh budget", func(t *testing.T) {
		srv := newServer(t)
		_, secret, _ := enrolled(t, srv, "alice")
		c := srv.Client(t)
		c.Login("alice", "mfa_required")
		for range 5 {
			c.PostJSON("/api/v1/login/totp", codeJSON(wrongCode(srv, secret)))
		}
		wantThrottled(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(secret, 0))), 30*time.Second)
		// What the support desk's MFA reset does to the factors.
		ctx := context.Background()
		u, err := srv.Auth.FindUser(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Store.DeleteTOTP(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		fresh, _ := srv.Enroll(t, srv.Client(t), "alice")
		c = srv.Client(t)
		c.Login("alice", "mfa_required")
		wantStatus(t, c.PostJSON("/api/v1/login/totp", codeJSON(srv.Code(fresh, 0))), http.StatusOK)
	})

	t.Run("the code page shows the wait and sends Retry-After", func(t *testing.T) {
		srv := newServer(t)
		_, secret, _ := enrolled(t, srv, "alice")
		c := srv.Client(t)
		c.Login("alice", "mfa_required")
		for range 5 {
			postForm(c, "/login/code", url.Values{"code": {wrongCode(srv, secret)}})
		}
		r := postForm(c, "/login/code", url.Values{"code": {srv.Code(secret, 0)}})
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") != "30" {
			t.Fatalf("Retry-After %q, want 30", r.Header.Get("Retry-After"))
		}
		contains(t, r, "Too many failed attempts. Try again in 30 seconds.")
	})
}

// TestParallelGuessesStopAtTheBudget fires 200 wrong codes at once at one account and
// counts how many were evaluated (401 invalid_code, and one login.totp_failed audit event
// each) against how many were refused unchecked (429): the budget's 5, not 200. On
// PostgreSQL the guesses are split over two instances sharing the database.
func TestParallelGuessesStopAtTheBudget(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var servers []*testserver.Server
			switch backend {
			case "sqlite":
				servers = []*testserver.Server{newServer(t)}
			case "postgres":
				dsn, clock := testutil.PostgresURL(t), testserver.NewClock()
				for range 2 {
					servers = append(servers, testserver.New(t, testserver.Options{DatabaseURL: dsn, Clock: clock}))
				}
			}
			srv := servers[0]
			_, secret, _ := enrolled(t, srv, "alice")
			half := srv.Client(t)
			half.Login("alice", "mfa_required")
			bad := wrongCode(srv, secret)

			const n = 200
			statuses := make([]int, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					r := rawPostJSON(servers[i%len(servers)], half, "/api/v1/login/totp", codeJSON(bad))
					if r.err != nil {
						statuses[i] = -1
						return
					}
					var p struct{ Code string }
					_ = json.Unmarshal(r.body, &p)
					if (r.status == http.StatusUnauthorized && p.Code == "invalid_code") ||
						(r.status == http.StatusTooManyRequests && p.Code == "throttled" && r.header.Get("Retry-After") != "") {
						statuses[i] = r.status
					}
				})
			}
			close(start)
			wg.Wait()
			counts := map[int]int{}
			for _, s := range statuses {
				counts[s]++
			}
			if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != n-5 {
				t.Fatalf("answers %v: want exactly 5 evaluated (401) and %d refused unchecked (429)", counts, n-5)
			}
			u, err := srv.Auth.FindUser(context.Background(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			if got := auditCount(t, srv, u.ID, "login.totp_failed"); got != 5 {
				t.Fatalf("%d codes were checked (login.totp_failed events), want 5", got)
			}
			if rows, got := refusals(t, srv, u.ID); rows != 1 || got != n-5 {
				t.Fatalf("%d throttle.refused rows counting %d refusals, want 1 row counting %d", rows, got, n-5)
			}
			if got := sessionState(t, half); got != "mfa_required" {
				t.Fatalf("session %q, want mfa_required", got)
			}
		})
	}
}

// TestParallelPasswordGuessesStopAtTheBudget does the same for the password step of an
// unknown name and of an account: 5 hashed, the rest refused before any hashing.
func TestParallelPasswordGuessesStopAtTheBudget(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.CreateUser(t, "alice", "alice@example.com", "user")
	for _, name := range []string{"alice", "nobody"} {
		t.Run(name, func(t *testing.T) {
			const n = 200
			results := make([]rawResult, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			c := srv.Client(t)
			for i := range n {
				wg.Go(func() {
					<-start
					results[i] = rawPostJSON(srv, c, "/api/v1/login", map[string]string{"username": name, "password": fmt.Sprintf("guess number %03d!", i)})
				})
			}
			close(start)
			wg.Wait()
			counts := map[int]int{}
			for _, r := range results {
				if r.err != nil {
					t.Fatal(r.err)
				}
				counts[r.status]++
			}
			if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != n-5 {
				t.Fatalf("answers %v: want 5 checked (401) and %d refused (429)", counts, n-5)
			}
		})
	}
}

package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestSessionUsedOnOneInstanceStaysAliveOnTheOther: on PostgreSQL a session's last-seen
// time notifies no session cache (migration 29), so instance B may hold an entry whose time
// is older than the stored one, which instance A keeps writing. A browser that works on A
// for longer than the idle timeout and then reaches B stays signed in; a session left idle
// is still refused on both. (That a touch empties no cache is sqlstore's
// TestPostgresSessionCacheKeepsItsEntriesAtATouch.)
func TestSessionUsedOnOneInstanceStaysAliveOnTheOther(t *testing.T) {
	const idle = 5 * time.Minute
	a, b := testserver.Instances(t, "postgres", testserver.Options{Config: func(c *config.Config) {
		c.Session.IdleTimeout = idle
		c.MFA.Required = config.MFARequired{None: true} // a password alone signs bob in
	}})
	a.CreateUser(t, "bob", "bob@example.com", "user")
	onA := a.Client(t)
	onA.Login("bob", "authenticated")
	onB := onA.On(b)
	hits := func() uint64 {
		h, _, on := b.DB.SessionCacheStats()
		if !on {
			t.Fatal("instance B has no session cache")
		}
		return h
	}
	// B's cache answers once its listener listens (started by its first lookup).
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		before := hits()
		wantStatus(t, onB.Get("/api/v1/session"), http.StatusOK)
		if hits() > before {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("no session check on B came from its cache within 10 seconds")
		}
	}

	for range 4 { // 8 minutes on A, a touch every 2: B's entry is older than the idle timeout
		a.Clock.Advance(2 * time.Minute)
		wantStatus(t, onA.Get("/api/v1/session"), http.StatusOK)
	}
	wantStatus(t, onB.Get("/api/v1/session"), http.StatusOK)
	wantStatus(t, onB.Get("/api/v1/session"), http.StatusOK)

	a.Clock.Advance(idle + time.Second)
	wantStatus(t, onB.Get("/api/v1/session"), http.StatusUnauthorized)
	wantStatus(t, onA.Get("/api/v1/session"), http.StatusUnauthorized)
}

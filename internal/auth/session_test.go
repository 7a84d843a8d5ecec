package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/totp"
)

// fullStore is the whole store under svc (newService's SQLite store), for tests that look
// beyond what the service itself uses.
func fullStore(svc *auth.Service) store.Store { return svc.Store().(store.Store) }

// newService builds a service on a fresh SQLite store (unless o.Store is set) with a fake
// clock; o's Store and Hasher (unless set), Keyring and Now are filled in, MFA is required
// of nobody.
func newService(t *testing.T, o auth.Options) (*auth.Service, *testserver.Clock) {
	t.Helper()
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if o.Store == nil {
		o.Store = db
	}
	svc := testserver.NewServices(t, db, o)
	return svc.Auth, svc.Clock
}

// signedIn creates alice and signs her in with the password alone.
func signedIn(t *testing.T, svc *auth.Service) *auth.Current {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.FindUser(ctx, "alice"); err != nil {
		if _, err := svc.CreateUser(ctx, auth.NewUser{Username: "alice", Email: "alice@example.com", Password: testserver.Password}, auth.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := svc.Login(ctx, "alice", testserver.Password, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Current.Session.State != store.StateAuthenticated {
		t.Fatalf("state %s, want authenticated", res.Current.Session.State)
	}
	return res.Current
}

// withAuthenticator gives cur's user an authenticator app: it begins the setup in cur's
// session and confirms it with the current code. It returns the session's new token, the
// app's secret and the recovery code issued with it.
func withAuthenticator(t *testing.T, svc *auth.Service, clock *testserver.Clock, cur *auth.Current) (token string, secret []byte, recoveryCode string) {
	t.Helper()
	ctx := context.Background()
	setup, err := svc.BeginTOTPSetup(ctx, cur, "", auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	secret = testserver.DecodeSecret(t, setup.Secret)
	token, recoveryCode, err = svc.ConfirmTOTPSetup(ctx, cur, totp.Code(secret, totp.Step(clock.Now())), auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return token, secret, recoveryCode
}

// alive reports whether the token still authenticates (which counts as activity).
func alive(t *testing.T, svc *auth.Service, token string) bool {
	t.Helper()
	_, err := svc.Authenticate(context.Background(), token)
	if err != nil && !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Fatal(err)
	}
	return err == nil
}

// TestConfiguredSessionTimeouts runs session.idle_timeout 5m and session.lifetime 30m on
// the injected clock.
func TestConfiguredSessionTimeouts(t *testing.T) {
	opts := auth.Options{IdleTimeout: 5 * time.Minute, Lifetime: 30 * time.Minute}

	t.Run("idle_timeout", func(t *testing.T) {
		svc, clock := newService(t, opts)
		cur := signedIn(t, svc)
		clock.Advance(5*time.Minute - time.Second)
		if !alive(t, svc, cur.Token) {
			t.Fatal("session ended before 5 idle minutes")
		}
		clock.Advance(5*time.Minute + time.Second)
		if alive(t, svc, cur.Token) {
			t.Fatal("session alive after more than 5 idle minutes")
		}
	})

	t.Run("activity_keeps_it_alive_until_the_lifetime", func(t *testing.T) {
		svc, clock := newService(t, opts)
		cur := signedIn(t, svc)
		for elapsed := 4 * time.Minute; elapsed < 30*time.Minute; elapsed += 4 * time.Minute {
			clock.Advance(4 * time.Minute)
			if !alive(t, svc, cur.Token) {
				t.Fatalf("active session ended after %s", elapsed)
			}
		}
		clock.Advance(2*time.Minute - time.Second) // 29m59s
		if !alive(t, svc, cur.Token) {
			t.Fatal("session ended before its 30 minute lifetime")
		}
		clock.Advance(time.Second)
		if alive(t, svc, cur.Token) {
			t.Fatal("session alive at its 30 minute lifetime")
		}
	})

	t.Run("housekeeping_deletes_idle_sessions", func(t *testing.T) {
		svc, clock := newService(t, opts)
		cur := signedIn(t, svc)
		clock.Advance(5*time.Minute + time.Second)
		n, err := svc.DeleteExpired(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpired = %d, %v; want the idle session deleted", n, err)
		}
		list, err := fullStore(svc).ListUserSessions(context.Background(), cur.User.ID, clock.Now())
		if err != nil || len(list) != 0 {
			t.Fatalf("sessions left: %d, %v", len(list), err)
		}
	})

	t.Run("defaults_are_1h_idle_and_12h_lifetime", func(t *testing.T) {
		svc, clock := newService(t, auth.Options{})
		cur := signedIn(t, svc)
		clock.Advance(time.Hour - time.Second)
		if !alive(t, svc, cur.Token) {
			t.Fatal("default idle timeout is under an hour")
		}
		for range 11 {
			clock.Advance(time.Hour - time.Second)
			alive(t, svc, cur.Token)
		}
		clock.Advance(12 * time.Second) // 12 × 59m59s + 12s = 12h since sign-in
		if alive(t, svc, cur.Token) {
			t.Fatal("default lifetime is over 12 hours")
		}
	})
}

func TestSignOutEverywhere(t *testing.T) {
	svc, _ := newService(t, auth.Options{})
	a, b := signedIn(t, svc), signedIn(t, svc)
	ended, err := svc.End(context.Background(), auth.SignOutEverywhere, a.User.ID, "", auth.Meta{IP: "console"})
	if n := ended.Sessions; err != nil || n != 2 {
		t.Fatalf("End(SignOutEverywhere) = %+v, %v; want 2 sessions ended", ended, err)
	}
	for _, cur := range []*auth.Current{a, b} {
		if alive(t, svc, cur.Token) {
			t.Fatal("a session survived")
		}
	}
	events, err := fullStore(svc).ListAudit(context.Background(), store.AuditFilter{UserID: a.User.ID, Limit: 1})
	if err != nil || len(events) != 1 || events[0].Event != "session.all_ended" || events[0].IP != "console" {
		t.Fatalf("newest audit event %+v (%v), want session.all_ended from the console", events, err)
	}
}

func TestThrottleIsConfigurable(t *testing.T) {
	svc, clock := newService(t, auth.Options{Throttle: throttlePolicy(2, 10*time.Second)})
	ctx := context.Background()
	signedIn(t, svc)
	for range 2 {
		if _, err := svc.Login(ctx, "alice", "wrong wrong wrong", auth.Meta{}); !errors.Is(err, apperr.ErrInvalidCredentials) {
			t.Fatalf("Login = %v, want invalid credentials", err)
		}
	}
	_, err := svc.Login(ctx, "alice", testserver.Password, auth.Meta{})
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.CodeThrottled || e.RetryAfter != 10*time.Second {
		t.Fatalf("third attempt: %v, want throttled for 10s", err)
	}
	clock.Advance(10 * time.Second)
	if _, err := svc.Login(ctx, "alice", testserver.Password, auth.Meta{}); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
}

package links_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/links"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testutil"
)

var now = time.Date(2030, time.March, 4, 5, 6, 7, 0, time.UTC)

// backend is a store and a raw connection to the same database, to look at what is at rest.
type backend struct {
	name string
	open func(t *testing.T) (store.Store, *sql.DB)
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (store.Store, *sql.DB) {
		path := filepath.Join(t.TempDir(), "twofold.db")
		db, err := sqlstore.OpenSQLite(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, raw
	}},
	{"postgres", func(t *testing.T) (store.Store, *sql.DB) {
		dsn := testutil.PostgresURL(t)
		db, err := sqlstore.OpenPostgres(t.Context(), dsn, sqlstore.PoolOptions{MaxOpenConns: 25})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, raw
	}},
}

func eachBackend(t *testing.T, fn func(t *testing.T, s store.Store, raw *sql.DB, u *store.User)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, raw := b.open(t)
			u := &store.User{
				Account:      store.Account{ID: "u1", Username: "alice", Email: "alice@example.com", Role: store.RoleUser},
				UsernameNorm: "alice",
				EmailNorm:    "alice@example.com",
				PasswordHash: "x",
				CreatedAt:    now,
				UpdatedAt:    now,
			}
			if err := s.CreateUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			fn(t, s, raw, u)
		})
	}
}

func resetLink(u *store.User) links.Link {
	return links.Link{Purpose: store.LinkPasswordReset, UserID: u.ID, Email: u.Email, TTL: 30 * time.Minute}
}

func TestOnlyTheHashIsAtRest(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store.Store, raw *sql.DB, u *store.User) {
		tok, err := links.Issue(t.Context(), s, rand.Reader, now, resetLink(u))
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 {
			t.Errorf("token %q has %d characters, want 43 (256 bits, base64url)", tok, len(tok))
		}
		var hash, payload []byte
		var purpose, email string
		if err := raw.QueryRowContext(t.Context(), `SELECT token_hash, purpose, email, payload FROM link_tokens`).
			Scan(&hash, &purpose, &email, &payload); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256([]byte(tok))
		if !bytes.Equal(hash, want[:]) {
			t.Errorf("stored hash %x, want the token's SHA-256 %x", hash, want)
		}
		for _, col := range [][]byte{hash, []byte(purpose), []byte(email), payload} {
			if bytes.Contains(col, []byte(tok)) {
				t.Errorf("the token is stored in clear: %q", col)
			}
		}
	})
}

func TestPeekThenConsumeOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store.Store, _ *sql.DB, u *store.User) {
		ctx := t.Context()
		type payload struct{ Email string }
		l := resetLink(u)
		l.Payload = payload{Email: "new@example.com"}
		tok, err := links.Issue(ctx, s, rand.Reader, now, l)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := links.Peek(ctx, s, store.LinkPasswordReset, tok, now.Add(time.Minute)); err != nil {
				t.Fatalf("Peek: %v", err)
			}
		}
		if _, err := links.Peek(ctx, s, store.LinkInvitation, tok, now); !errors.Is(err, links.ErrInvalid) {
			t.Errorf("Peek for another purpose = %v, want ErrInvalid", err)
		}
		got, err := links.Consume(ctx, s, store.LinkPasswordReset, tok, now.Add(time.Minute))
		if err != nil {
			t.Fatalf("Consume after peeks: %v", err)
		}
		var p payload
		if err := links.Decode(got, &p); err != nil || p.Email != "new@example.com" || got.UserID != u.ID {
			t.Errorf("consumed link = %+v, payload %+v (%v)", got, p, err)
		}
		if _, err := links.Consume(ctx, s, store.LinkPasswordReset, tok, now.Add(time.Minute)); !errors.Is(err, links.ErrInvalid) {
			t.Errorf("second Consume = %v, want ErrInvalid", err)
		}
		if _, err := links.Peek(ctx, s, store.LinkPasswordReset, tok, now.Add(time.Minute)); !errors.Is(err, links.ErrInvalid) {
			t.Errorf("Peek of a used link = %v, want ErrInvalid", err)
		}
	})
}

func TestRefusedTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store.Store, _ *sql.DB, u *store.User) {
		ctx := t.Context()
		tok, err := links.Issue(ctx, s, rand.Reader, now, resetLink(u))
		if err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			token string
			at    time.Time
		}{
			"expired":        {tok, now.Add(30 * time.Minute)},
			"empty":          {"", now},
			"unknown":        {strings.Repeat("A", 43), now},
			"too long":       {tok + strings.Repeat("A", 200), now},
			"not UTF-8":      {"\xff\xfe", now},
			"NUL":            {"a\x00b", now},
			"token prefixed": {tok[:42], now},
		} {
			if _, err := links.Peek(ctx, s, store.LinkPasswordReset, tc.token, tc.at); !errors.Is(err, links.ErrInvalid) {
				t.Errorf("%s: Peek = %v, want ErrInvalid", name, err)
			}
			if _, err := links.Consume(ctx, s, store.LinkPasswordReset, tc.token, tc.at); !errors.Is(err, links.ErrInvalid) {
				t.Errorf("%s: Consume = %v, want ErrInvalid", name, err)
			}
		}
	})
}

func TestANewLinkReplacesTheEarlierOne(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store.Store, _ *sql.DB, u *store.User) {
		ctx := t.Context()
		first, err := links.Issue(ctx, s, rand.Reader, now, resetLink(u))
		if err != nil {
			t.Fatal(err)
		}
		second, err := links.Issue(ctx, s, rand.Reader, now.Add(time.Minute), resetLink(u))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := links.Consume(ctx, s, store.LinkPasswordReset, first, now.Add(2*time.Minute)); !errors.Is(err, links.ErrInvalid) {
			t.Errorf("the replaced link: Consume = %v, want ErrInvalid", err)
		}
		if _, err := links.Consume(ctx, s, store.LinkPasswordReset, second, now.Add(2*time.Minute)); err != nil {
			t.Errorf("the newest link: Consume = %v", err)
		}
	})
}

func TestADecoyIsDeadAtBirth(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store.Store, _ *sql.DB, u *store.User) {
		ctx := t.Context()
		live, err := links.Issue(ctx, s, rand.Reader, now, resetLink(u))
		if err != nil {
			t.Fatal(err)
		}
		decoy, err := links.Issue(ctx, s, rand.Reader, now, links.Link{Purpose: store.LinkPasswordReset, TTL: time.Hour, Decoy: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := links.Peek(ctx, s, store.LinkPasswordReset, decoy, now); !errors.Is(err, links.ErrInvalid) {
			t.Errorf("Peek of a decoy = %v, want ErrInvalid", err)
		}
		if _, err := links.Consume(ctx, s, store.LinkPasswordReset, live, now); err != nil {
			t.Errorf("a decoy without an account ended an account's link: %v", err)
		}
	})
}

func TestTwentyParallelConsumesOneWins(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store.Store, _ *sql.DB, u *store.User) {
		tok, err := links.Issue(t.Context(), s, rand.Reader, now, resetLink(u))
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				// Each consume does its work in a transaction, as the flows do.
				errs[i] = s.WithTx(t.Context(), func(tx store.Store) error {
					_, err := links.Consume(t.Context(), tx, store.LinkPasswordReset, tok, now.Add(time.Minute))
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, links.ErrInvalid):
				t.Errorf("consume %d: %v, want nil or ErrInvalid", i, err)
			}
		}
		if wins != 1 {
			t.Errorf("%d of %d parallel consumes won, want exactly 1", wins, n)
		}
	})
}

func TestURL(t *testing.T) {
	for _, tc := range []struct{ public, want string }{
		{"https://id.example.com", "https://id.example.com/password/reset?token=abc-_"},
		{"https://id.example.com/", "https://id.example.com/password/reset?token=abc-_"},
		{"https://example.com/id", "https://example.com/id/password/reset?token=abc-_"},
	} {
		if got := links.URL(tc.public, "/password/reset", "abc-_"); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.public, got, tc.want)
		}
	}
}

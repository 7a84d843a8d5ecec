package storetest

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

var apiTokenTests = []subtest{
	{"CreateGetAndList", testAPITokenCreate},
	{"DuplicateHashIsAConflict", testAPITokenDuplicate},
	{"RevokeOnce", testAPITokenRevoke},
	{"RevokeEveryTokenOfACreator", testAPITokenRevokeBy},
	{"TouchAtMostOncePerInterval", testAPITokenTouch},
	{"ParallelTouchesWriteOnce", testAPITokenTouchRace},
}

func apiTokenFixture(t testing.TB, name string, created time.Time) *store.APIToken {
	t.Helper()
	return &store.APIToken{ID: randomID(t), TokenHash: randomBytes(t, 32), Name: name,
		Scopes: []string{"users:read", "audit:read"}, CreatedBy: "admin-1", CreatedAt: created}
}

func mustCreateAPIToken(t testing.TB, s store.Store, name string, created time.Time) *store.APIToken {
	t.Helper()
	tok := apiTokenFixture(t, name, created)
	wantNoErr(t, "CreateAPIToken("+name+")", s.CreateAPIToken(t.Context(), tok))
	return tok
}

func testAPITokenCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetAPIToken(ctx, "nope")
	wantErr(t, "GetAPIToken(unknown)", err, store.ErrNotFound)
	_, err = s.GetAPITokenByHash(ctx, randomBytes(t, 32))
	wantErr(t, "GetAPITokenByHash(unknown)", err, store.ErrNotFound)
	if got, err := s.ListAPITokens(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListAPITokens on an empty store = %v, %v", got, err)
	}

	older := mustCreateAPIToken(t, s, "ci", at(0))
	newer := apiTokenFixture(t, "console", at(time.Minute))
	newer.CreatedBy, newer.Scopes, newer.ExpiresAt = "", []string{"cases:read"}, at(24*time.Hour)
	wantNoErr(t, "CreateAPIToken(console)", s.CreateAPIToken(ctx, newer))

	got, err := s.GetAPIToken(ctx, older.ID)
	wantNoErr(t, "GetAPIToken", err)
	wantSame(t, "GetAPIToken", got, older)
	got, err = s.GetAPITokenByHash(ctx, newer.TokenHash)
	wantNoErr(t, "GetAPITokenByHash", err)
	wantSame(t, "GetAPITokenByHash", got, newer)
	list, err := s.ListAPITokens(ctx)
	wantNoErr(t, "ListAPITokens", err)
	wantSame(t, "ListAPITokens (newest first)", list, []store.APIToken{*newer, *older})

	if !newer.Live(at(time.Hour)) || newer.Live(at(24*time.Hour)) || !older.Live(at(1000*time.Hour)) {
		t.Errorf("Live: a token is live until its expiry (exclusive) and forever without one")
	}
}

func testAPITokenDuplicate(t *testing.T, s store.Store) {
	tok := mustCreateAPIToken(t, s, "ci", at(0))
	dup := apiTokenFixture(t, "other", at(time.Second))
	dup.TokenHash = tok.TokenHash
	wantErr(t, "CreateAPIToken(same hash)", s.CreateAPIToken(t.Context(), dup), store.ErrConflict)
	dup = apiTokenFixture(t, "other", at(time.Second))
	dup.ID = tok.ID
	wantErr(t, "CreateAPIToken(same id)", s.CreateAPIToken(t.Context(), dup), store.ErrConflict)
}

func testAPITokenRevoke(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := mustCreateAPIToken(t, s, "ci", at(0))
	other := mustCreateAPIToken(t, s, "other", at(0))
	wantErr(t, "RevokeAPIToken(unknown)", s.RevokeAPIToken(ctx, "nope", at(time.Minute)), store.ErrNotFound)
	wantNoErr(t, "RevokeAPIToken", s.RevokeAPIToken(ctx, tok.ID, at(time.Minute)))
	wantErr(t, "RevokeAPIToken a second time", s.RevokeAPIToken(ctx, tok.ID, at(2*time.Minute)), store.ErrNotFound)
	got, err := s.GetAPITokenByHash(ctx, tok.TokenHash)
	wantNoErr(t, "GetAPITokenByHash(revoked)", err)
	if !got.RevokedAt.Equal(at(time.Minute)) || got.Live(at(time.Minute)) {
		t.Errorf("revoked token: RevokedAt %v, live %v; want %v and not live", got.RevokedAt, got.Live(at(time.Minute)), at(time.Minute))
	}
	got, err = s.GetAPIToken(ctx, other.ID)
	wantNoErr(t, "GetAPIToken(other)", err)
	if !got.RevokedAt.IsZero() {
		t.Errorf("revoking one token revoked another")
	}
}

func testAPITokenRevokeBy(t *testing.T, s store.Store) {
	ctx := t.Context()
	a1 := mustCreateAPIToken(t, s, "a1", at(0))
	a2 := mustCreateAPIToken(t, s, "a2", at(0))
	wantNoErr(t, "RevokeAPIToken(a2)", s.RevokeAPIToken(ctx, a2.ID, at(time.Second)))
	other := apiTokenFixture(t, "other", at(0))
	other.CreatedBy = "admin-2"
	wantNoErr(t, "CreateAPIToken(other)", s.CreateAPIToken(ctx, other))
	console := apiTokenFixture(t, "console", at(0))
	console.CreatedBy = ""
	wantNoErr(t, "CreateAPIToken(console)", s.CreateAPIToken(ctx, console))
	n, err := s.RevokeAPITokensBy(ctx, "admin-1", at(time.Minute))
	wantNoErr(t, "RevokeAPITokensBy", err)
	if n != 1 {
		t.Errorf("RevokeAPITokensBy revoked %d, want 1 (the other one was revoked already)", n)
	}
	if n, err := s.RevokeAPITokensBy(ctx, "", at(time.Minute)); err != nil || n != 0 {
		t.Errorf(`RevokeAPITokensBy(""): %d, %v; want 0 and no error`, n, err)
	}
	for _, c := range []struct {
		tok     *store.APIToken
		revoked time.Time
	}{{a1, at(time.Minute)}, {a2, at(time.Second)}, {other, time.Time{}}, {console, time.Time{}}} {
		got, err := s.GetAPIToken(ctx, c.tok.ID)
		wantNoErr(t, "GetAPIToken("+c.tok.Name+")", err)
		if !got.RevokedAt.Equal(c.revoked) {
			t.Errorf("token %s: revoked at %v, want %v", c.tok.Name, got.RevokedAt, c.revoked)
		}
	}
}

func testAPITokenTouch(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := mustCreateAPIToken(t, s, "ci", at(0))
	touch := func(when time.Time, want bool) {
		t.Helper()
		wrote, err := s.TouchAPIToken(ctx, tok.ID, when, when.Add(-time.Minute))
		wantNoErr(t, "TouchAPIToken", err)
		if wrote != want {
			t.Errorf("TouchAPIToken at %v wrote %v, want %v", when, wrote, want)
		}
	}
	touch(at(time.Second), true)                     // never used
	touch(at(30*time.Second), false)                 // within the minute
	touch(at(61*time.Second+time.Millisecond), true) // more than a minute after the last write
	got, err := s.GetAPIToken(ctx, tok.ID)
	wantNoErr(t, "GetAPIToken", err)
	if !got.LastUsedAt.Equal(at(61*time.Second + time.Millisecond)) {
		t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, at(61*time.Second+time.Millisecond))
	}
	if wrote, err := s.TouchAPIToken(ctx, "nope", at(time.Hour), at(time.Hour)); err != nil || wrote {
		t.Errorf("TouchAPIToken(unknown) = %v, %v; want false, nil", wrote, err)
	}
}

func testAPITokenTouchRace(t *testing.T, s store.Store) {
	tok := mustCreateAPIToken(t, s, "ci", at(0))
	const n = 10
	wrote := make(chan bool, n)
	for range n {
		go func() {
			w, err := s.TouchAPIToken(t.Context(), tok.ID, at(time.Hour), at(time.Hour-time.Minute))
			if err != nil {
				t.Errorf("TouchAPIToken: %v", err)
			}
			wrote <- w
		}()
	}
	writes := 0
	for range n {
		if <-wrote {
			writes++
		}
	}
	if writes != 1 {
		t.Fatalf("%d parallel touches wrote %d times, want once", n, writes)
	}
}

package apitoken_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

type fixture struct {
	db  *sqlstore.DB
	svc *apitoken.Service
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.svc = apitoken.New(apitoken.Options{Store: db, Now: func() time.Time { return f.now }})
	return f
}

func (f *fixture) admin(t *testing.T, id string) *store.User {
	t.Helper()
	u := &store.User{
		Account:      store.Account{ID: id, Username: id, Email: id + "@example.com", Role: store.RoleAdmin},
		UsernameNorm: id,
		EmailNorm:    id + "@example.com",
		CreatedAt:    f.now,
		UpdatedAt:    f.now,
	}
	if err := f.db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) create(t *testing.T, nt apitoken.NewToken) *apitoken.Created {
	t.Helper()
	c, err := f.svc.Create(t.Context(), nt, audit.Meta{ActorID: nt.CreatedBy, IP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return c
}

func wantInvalid(t *testing.T, what string, err error, reason string) {
	t.Helper()
	var inv *apitoken.ErrInvalid
	if !errors.As(err, &inv) || !strings.Contains(inv.Reason, reason) {
		t.Fatalf("%s: got %v, want an invalid token (%s)", what, err, reason)
	}
}

func TestTokens(t *testing.T) {
	t.Run("created_token_authenticates_and_is_stored_hashed", func(t *testing.T) {
		f := newFixture(t)
		f.admin(t, "root")
		c := f.create(t, apitoken.NewToken{Name: " ci ", Scopes: []string{"audit:read", "users:read", "audit:read"}, CreatedBy: "root"})
		if !strings.HasPrefix(c.Secret, "tf_") || len(c.Secret) != 46 {
			t.Fatalf("secret %q: want tf_ and 43 characters", c.Secret)
		}
		if c.Token.Name != "ci" || strings.Join(c.Token.Scopes, " ") != "users:read audit:read" {
			t.Fatalf("stored %q with scopes %v, want the trimmed name and the scopes in order without repeats", c.Token.Name, c.Token.Scopes)
		}
		got, err := f.db.GetAPIToken(t.Context(), c.Token.ID)
		if err != nil || strings.Contains(string(got.TokenHash), c.Secret) || len(got.TokenHash) != 32 {
			t.Fatalf("stored token %v, %v: want only the SHA-256 of the secret", got, err)
		}
		tok, err := f.svc.Authenticate(t.Context(), c.Secret)
		if err != nil || tok.ID != c.Token.ID {
			t.Fatalf("Authenticate = %v, %v", tok, err)
		}
		events, _ := f.db.ListAudit(t.Context(), store.AuditFilter{})
		if len(events) != 1 || events[0].Event != audit.APITokenCreated || events[0].ActorID != "root" || strings.Contains(events[0].Detail, c.Secret) {
			t.Fatalf("audit %+v: want one api_token.created by root, without the secret", events)
		}
	})
	t.Run("malformed_unknown_revoked_and_expired_are_refused", func(t *testing.T) {
		f := newFixture(t)
		c := f.create(t, apitoken.NewToken{Name: "ci", Scopes: []string{"users:read"}, ExpiresAt: f.now.Add(time.Hour)})
		for _, s := range []string{"", "tf_", "Bearer x", c.Secret + "x", "tf_" + strings.Repeat("!", 43), strings.Repeat("a", 100000)} {
			_, err := f.svc.Authenticate(t.Context(), s)
			wantInvalid(t, "Authenticate(malformed)", err, "malformed")
		}
		_, err := f.svc.Authenticate(t.Context(), "tf_"+strings.Repeat("A", 43))
		wantInvalid(t, "Authenticate(unknown)", err, "unknown")
		f.now = f.now.Add(time.Hour)
		_, err = f.svc.Authenticate(t.Context(), c.Secret)
		wantInvalid(t, "Authenticate(expired)", err, "expired")
		f.now = f.now.Add(-time.Minute)
		if _, err := f.svc.Revoke(t.Context(), c.Token.ID, audit.Meta{IP: "console"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(t.Context(), c.Secret)
		wantInvalid(t, "Authenticate(revoked)", err, "revoked")
		_, err = f.svc.Revoke(t.Context(), c.Token.ID, audit.Meta{IP: "console"})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeConflict {
			t.Fatalf("second Revoke: %v, want conflict", err)
		}
		_, err = f.svc.Revoke(t.Context(), "nope", audit.Meta{IP: "console"})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeNotFound {
			t.Fatalf("Revoke(unknown): %v, want not_found", err)
		}
	})
	t.Run("token_dies_with_its_creators_authority", func(t *testing.T) {
		for _, change := range []func(f *fixture, t *testing.T){
			func(f *fixture, t *testing.T) { _ = f.db.SetUserRole(t.Context(), "root", store.RoleSupport, f.now) },
			func(f *fixture, t *testing.T) { _ = f.db.SetUserDisabled(t.Context(), "root", true, f.now) },
			func(f *fixture, t *testing.T) { _ = f.db.DeleteUser(t.Context(), "root") },
		} {
			f := newFixture(t)
			f.admin(t, "root")
			c := f.create(t, apitoken.NewToken{Name: "ci", Scopes: []string{"users:read"}, CreatedBy: "root"})
			change(f, t)
			_, err := f.svc.Authenticate(t.Context(), c.Secret)
			wantInvalid(t, "Authenticate(creator gone)", err, "no longer")
		}
	})
	t.Run("use_is_noted_at_most_once_a_minute", func(t *testing.T) {
		f := newFixture(t)
		c := f.create(t, apitoken.NewToken{Name: "ci", Scopes: []string{"users:read"}})
		first := f.now
		lastUsed := func() time.Time {
			tok, _ := f.db.GetAPIToken(t.Context(), c.Token.ID)
			return tok.LastUsedAt
		}
		for _, step := range []struct {
			after time.Duration
			want  time.Time
		}{{0, first}, {30 * time.Second, first}, {61 * time.Second, first.Add(61 * time.Second)}} {
			f.now = first.Add(step.after)
			if _, err := f.svc.Authenticate(t.Context(), c.Secret); err != nil {
				t.Fatal(err)
			}
			if got := lastUsed(); !got.Equal(step.want) {
				t.Fatalf("after a use at +%v last used %v, want %v", step.after, got, step.want)
			}
		}
	})
	t.Run("bad_input_is_refused", func(t *testing.T) {
		f := newFixture(t)
		for _, nt := range []apitoken.NewToken{
			{Name: "", Scopes: []string{"users:read"}},
			{Name: strings.Repeat("n", 101), Scopes: []string{"users:read"}},
			{Name: "a\x00b", Scopes: []string{"users:read"}},
			{Name: "ci"},
			{Name: "ci", Scopes: []string{"admin"}},
			{Name: "ci", Scopes: []string{"users:read"}, ExpiresAt: f.now},
		} {
			_, err := f.svc.Create(t.Context(), nt, audit.Meta{})
			if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeBadRequest || e.Field == "" {
				t.Errorf("Create(%+v) = %v, want bad_request naming the field", nt, err)
			}
		}
	})
	t.Run("names_with_invisible_characters_are_refused", func(t *testing.T) {
		// The console and the audit log show a token's name: a direction override or a
		// zero-width space would make it read as another, or as nothing at all.
		f := newFixture(t)
		for _, name := range []string{
			"\u202e\u200b", "\u200b", "ci\u202eevil", "c\u00adi", "ci\u2066", "ci\ufeff",
			"\u200dci", "ci\u200d", "c\u200d\u200di", "ci \u200c export", // joiners that join nothing
		} {
			_, err := f.svc.Create(t.Context(), apitoken.NewToken{Name: name, Scopes: []string{"users:read"}}, audit.Meta{})
			if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeBadRequest || e.Field != "name" || !strings.Contains(e.Message, "invisible characters") {
				t.Errorf("Create(name %q) = %v, want bad_request on name saying why", name, err)
			}
		}
		if _, err := f.svc.Create(t.Context(), apitoken.NewToken{Name: "Café export – nightly", Scopes: []string{"users:read"}}, audit.Meta{}); err != nil {
			t.Errorf("a name of letters, spaces and punctuation: %v", err)
		}
		// A joiner between two visible characters: an emoji sequence, a Persian word.
		for _, name := range []string{"\U0001f469\u200d\U0001f4bb export", "\u06af\u0632\u0627\u0631\u0634 \u0645\u06cc\u200c\u0634\u0648\u062f"} {
			if _, err := f.svc.Create(t.Context(), apitoken.NewToken{Name: name, Scopes: []string{"users:read"}}, audit.Meta{}); err != nil {
				t.Errorf("Create(name %q) = %v, want ok", name, err)
			}
		}
	})
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true}, {"never", 0, true}, {"90d", 90 * 24 * time.Hour, true}, {"12h", 12 * time.Hour, true},
		{"0d", 0, false}, {"-1h", 0, false}, {"1.5d", 0, false}, {"3651d", 0, false}, {"99999h", 0, false}, {"soon", 0, false},
	} {
		got, err := apitoken.ParseExpiry(tc.in, now)
		if (err == nil) != tc.ok {
			t.Errorf("ParseExpiry(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && tc.want == 0 && !got.IsZero() || tc.ok && tc.want != 0 && !got.Equal(now.Add(tc.want)) {
			t.Errorf("ParseExpiry(%q) = %v, want now+%v", tc.in, got, tc.want)
		}
	}
}

// TestParseExpiryQuotesTheValue: a refused lifetime is repeated cut short and escaped.
func TestParseExpiryQuotesTheValue(t *testing.T) {
	for _, in := range []string{strings.Repeat("9", 100<<10) + "d", strings.Repeat("a", 100<<10), "1\u202ed"} {
		_, err := apitoken.ParseExpiry(in, time.Now())
		if err == nil || len(err.Error()) > 200 || strings.ContainsRune(err.Error(), '\u202e') {
			t.Errorf("ParseExpiry(%.20q...) error %.300q, want a short one with the value quoted", in, err)
		}
	}
}

// TestUnknownScopeIsQuotedShort: the refusal of an unknown scope repeats its first
// characters only, with invisible ones escaped, whatever was sent.
func TestUnknownScopeIsQuotedShort(t *testing.T) {
	for _, tc := range []struct{ name, scope, want string }{
		{"a short scope is named whole", "root", `Unknown scope "root": use `},
		{"a long one is cut", strings.Repeat("u", 60000), `Unknown scope "` + strings.Repeat("u", apperr.MaxQuoted) + `…": use `},
		{"a direction override is escaped", "\u202e<script>", `Unknown scope "\u202e<script>": use `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apitoken.NormalizeScopes([]string{"users:read", tc.scope})
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.CodeBadRequest || e.Field != "scopes" {
				t.Fatalf("got %v, want bad_request on scopes", err)
			}
			if !strings.HasPrefix(e.Message, tc.want) || len(e.Message) > 300 || strings.ContainsRune(e.Message, '\u202e') {
				t.Errorf("message %q (%d bytes), want a short one starting %q", e.Message[:min(len(e.Message), 200)], len(e.Message), tc.want)
			}
		})
	}
}

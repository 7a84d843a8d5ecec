package apitoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// Store is what the service needs of the store; a store.Store is one.
type Store interface {
	WithTx(ctx context.Context, fn func(store.Store) error) error
	CreateAPIToken(ctx context.Context, t *store.APIToken) error
	GetAPIToken(ctx context.Context, id string) (*store.APIToken, error)
	GetAPITokenByHash(ctx context.Context, tokenHash []byte) (*store.APIToken, error)
	ListAPITokens(ctx context.Context) ([]store.APIToken, error)
	TouchAPIToken(ctx context.Context, id string, at, notAfter time.Time) (bool, error)
	GetUser(ctx context.Context, id string) (*store.User, error)
}

var _ Store = store.Store(nil)

// Prefix starts every token, so a token is recognised in a log or a secret scanner.
const Prefix = "tf_"

// tokenBytes is the randomness of a token: 256 bits, 43 characters of base64url.
const tokenBytes = 32

// MaxName is the longest token name, in characters.
const MaxName = 100

// TouchInterval is how often a token's last use is written at most: a token used all the
// time costs one write a minute, not one per request.
const TouchInterval = time.Minute

// ErrInvalid is the answer for a token that cannot be used; its message says why (unknown,
// expired, revoked, creator no longer an administrator), which only the token's holder sees.
type ErrInvalid struct{ Reason string }

func (e *ErrInvalid) Error() string { return "apitoken: " + e.Reason }

// Options configure the service.
type Options struct {
	Store Store
	Log   *slog.Logger
	Now   func() time.Time // nil: time.Now
}

// Service issues, checks and revokes API tokens.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
}

// New builds the service.
func New(o Options) *Service {
	s := &Service{store: o.Store, log: o.Log, now: o.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// NewToken is a token to create.
type NewToken struct {
	Name   string
	Scopes []string
	// ExpiresAt is when the token stops working; zero for never. It must be in the future.
	ExpiresAt time.Time
	// CreatedBy is the administrator creating it; empty at the server console.
	CreatedBy string
}

// Created is a new token: the secret, shown once, and what is stored of it.
type Created struct {
	Secret string
	Token  store.APIToken
}

// Create issues a token and records api_token.created in the same transaction. Bad
// input (empty or long name, no or unknown scopes, an expiry in the past) is a 400
// bad_request naming the field.
func (s *Service) Create(ctx context.Context, nt NewToken, m audit.Meta) (*Created, error) {
	name, err := cleanName(nt.Name)
	if err != nil {
		return nil, err
	}
	scopes, err := NormalizeScopes(nt.Scopes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !nt.ExpiresAt.IsZero() && !nt.ExpiresAt.After(now) {
		return nil, apperr.Msg(apperr.CodeBadRequest, "tokens.err_expiry_past").In("expires_at")
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	t := store.APIToken{ID: uuid.NewString(), TokenHash: Hash(secret), Name: name, Scopes: scopes,
		CreatedBy: nt.CreatedBy, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	if !nt.ExpiresAt.IsZero() {
		t.ExpiresAt = nt.ExpiresAt.UTC().Truncate(time.Millisecond)
	}
	err = s.store.WithTx(ctx, func(tx store.Store) error {
		if err := tx.CreateAPIToken(ctx, &t); err != nil {
			return err
		}
		detail := fmt.Sprintf("%s %q scopes=%s", t.ID, t.Name, strings.Join(t.Scopes, ","))
		if !t.ExpiresAt.IsZero() {
			detail += " expires=" + t.ExpiresAt.Format(time.RFC3339)
		}
		return audit.Record(ctx, tx, now, audit.APITokenCreated, "", m, detail)
	})
	if err != nil {
		return nil, err
	}
	return &Created{Secret: secret, Token: t}, nil
}

// List returns every token, newest first, revoked and expired ones included.
func (s *Service) List(ctx context.Context) ([]store.APIToken, error) {
	return s.store.ListAPITokens(ctx)
}

// Get returns the token with id; 404 not_found when there is none.
func (s *Service) Get(ctx context.Context, id string) (*store.APIToken, error) {
	t, err := s.store.GetAPIToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoToken
	}
	return t, err
}

var errNoToken = apperr.Msg(apperr.CodeNotFound, "tokens.err_not_found")

// Revoke ends the token with id for good and records api_token.revoked in the same
// transaction: 404 not_found for an unknown id, 409 conflict for a token revoked already.
func (s *Service) Revoke(ctx context.Context, id string, m audit.Meta) (*store.APIToken, error) {
	var t *store.APIToken
	err := s.store.WithTx(ctx, func(tx store.Store) error {
		var err error
		if t, err = tx.GetAPIToken(ctx, id); errors.Is(err, store.ErrNotFound) {
			return errNoToken
		} else if err != nil {
			return err
		}
		now := s.now()
		if err := tx.RevokeAPIToken(ctx, id, now); errors.Is(err, store.ErrNotFound) {
			return apperr.Msg(apperr.CodeConflict, "tokens.err_revoked")
		} else if err != nil {
			return err
		}
		t.RevokedAt = now.UTC().Truncate(time.Millisecond)
		return audit.Record(ctx, tx, now, audit.APITokenRevoked, "", m, fmt.Sprintf("%s %q", t.ID, t.Name))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Authenticate returns the live token whose secret is presented, and notes its use (at
// most once per TouchInterval). A token is refused with *ErrInvalid when it is malformed,
// unknown, revoked or expired, or when the administrator who created it is no longer an
// enabled administrator: a token never outlives its creator's authority. It never says
// which scopes a route needs; the caller checks them.
func (s *Service) Authenticate(ctx context.Context, secret string) (*store.APIToken, error) {
	if !wellFormed(secret) {
		return nil, &ErrInvalid{Reason: "The API token is malformed."}
	}
	t, err := s.store.GetAPITokenByHash(ctx, Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &ErrInvalid{Reason: "The API token is unknown."}
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case !t.RevokedAt.IsZero():
		return nil, &ErrInvalid{Reason: "The API token was revoked."}
	case !t.Live(now):
		return nil, &ErrInvalid{Reason: "The API token expired."}
	}
	if t.CreatedBy != "" {
		u, err := s.store.GetUser(ctx, t.CreatedBy)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if u == nil || u.Disabled || u.Role != store.RoleAdmin {
			return nil, &ErrInvalid{Reason: "The administrator who created the API token no longer is one."}
		}
	}
	if t.LastUsedAt.Before(now.Add(-TouchInterval)) {
		// The use is noted beside the answer: a failed write must not refuse the request.
		if _, err := s.store.TouchAPIToken(ctx, t.ID, now, now.Add(-TouchInterval)); err != nil {
			s.log.WarnContext(ctx, "API token use not noted", "token", t.ID, "err", err)
		}
	}
	return t, nil
}

// Token states, as Status names them.
const (
	StatusActive  = "active"
	StatusExpired = "expired"
	StatusRevoked = "revoked"
)

// Status is the state of t at now.
func Status(t *store.APIToken, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return StatusRevoked
	case !t.Live(now):
		return StatusExpired
	}
	return StatusActive
}

// Hash is what is stored of a token's secret: its SHA-256. The secret has 256 bits of
// randomness, so a fast hash is enough (no password stretching needed).
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func newSecret() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormed reports whether secret looks like a token; anything else is refused before
// a lookup.
func wellFormed(secret string) bool {
	body, ok := strings.CutPrefix(secret, Prefix)
	if !ok || len(body) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(body)
	return err == nil
}

// NormalizeScopes checks scopes and returns them without repeats, in the order of Scopes;
// 400 bad_request (field "scopes") for none or an unknown one.
func NormalizeScopes(scopes []string) ([]string, error) {
	var out []string
	for _, sc := range scopes {
		if !admin.ValidScope(sc) {
			return nil, apperr.Msg(apperr.CodeBadRequest, "tokens.err_scope_unknown", "Scope", apperr.Quote(sc), "Scopes", ScopeList(", ")).In("scopes")
		}
	}
	for _, sc := range admin.Scopes {
		if slices.Contains(scopes, string(sc)) {
			out = append(out, string(sc))
		}
	}
	if len(out) == 0 {
		return nil, apperr.Msg(apperr.CodeBadRequest, "tokens.err_scope_none").In("scopes")
	}
	return out, nil
}

// ScopeList is every scope, joined by sep.
func ScopeList(sep string) string {
	names := make([]string, len(admin.Scopes))
	for i, sc := range admin.Scopes {
		names[i] = string(sc)
	}
	return strings.Join(names, sep)
}

func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	bad := func(key string, args ...any) error { return apperr.Msg(apperr.CodeBadRequest, key, args...).In("name") }
	switch {
	case name == "":
		return "", bad("tokens.err_name_empty")
	case !utf8.ValidString(name) || auth.ContainsUnseen(name):
		return "", bad("tokens.err_name_text")
	case utf8.RuneCountInString(name) > MaxName:
		return "", bad("tokens.err_name_long", "Max", MaxName)
	}
	return name, nil
}

// ParseExpiry reads a lifetime such as 90d, 12h or 30m (days, or any Go duration) and
// returns the time it ends after now; "" or "never" is no expiry (zero time).
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "never" {
		return time.Time{}, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days || n < 1 || n > 3650 {
			return time.Time{}, fmt.Errorf("expiry %s: want a number of days from 1 to 3650, such as 90d", apperr.Quote(s))
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 || d > 3650*24*time.Hour {
			return time.Time{}, fmt.Errorf("expiry %s: want a lifetime up to 3650d, such as 90d, 12h or 30m", apperr.Quote(s))
		}
	}
	return now.Add(d), nil
}

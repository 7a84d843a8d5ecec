package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

// Fixed lifetimes.
const (
	// CodeLifetime is how long an authorization code can be exchanged.
	CodeLifetime = 60 * time.Second
	// RequestLifetime is how long a user has to sign in after an application asked.
	RequestLifetime = 30 * time.Minute
)

// storage implements op.Storage on twofold's store.
type storage struct {
	st         Store
	auth       *auth.Service
	keys       *keyring
	now        func() time.Time
	accessTTL  time.Duration
	refreshTTL time.Duration
	// familyMaxAge bounds a refresh token family, from the sign-in that started it.
	familyMaxAge time.Duration
	idTokenTTL   time.Duration
	log          *slog.Logger
	metrics      metrics.Recorder
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

// errInvalid is the plain error the op package turns into invalid_grant, invalid_client
// and the like; the detail stays in the log.
var errInvalid = errors.New("oidc: invalid or expired")

// call carries what the HTTP layer knows about a request down to the storage methods,
// which the op package calls with the request's context.
type call struct {
	alg       string // the ID token algorithm of the client being served
	clientID  string // the client being served (authenticated before any token lookup)
	sessionID string // the browser's twofold session, for end_session
	userID    string
	// logout holds end_session's client_id, post_logout_redirect_uri and state as sent,
	// for the confirmation page of a logout without id_token_hint.
	logout url.Values
	meta   auth.Meta // who sent the request, for the audit log
	// client and user are what this request read of them, so that the op package's several
	// lookups of one client (authentication, then the grant) and of one user (active, then
	// the claims) in one request cost one query each.
	client *store.OIDCClient
	user   *store.User
	// unavailable is set when a store call of this request failed with
	// store.ErrUnavailable (the database did not answer, or its writers did not take
	// their turn in time): the refusal that follows says nothing about the request.
	unavailable bool
}

type callKey struct{}

func withCall(ctx context.Context) context.Context {
	if _, ok := ctx.Value(callKey{}).(*call); ok {
		return ctx
	}
	return context.WithValue(ctx, callKey{}, &call{})
}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	if c == nil {
		return &call{}
	}
	return c
}

// WithRequestMeta tells the storage the client address and user agent of the request, so
// the audit events it writes name them like every other event.
func WithRequestMeta(ctx context.Context, m auth.Meta) context.Context {
	ctx = withCall(ctx)
	callFrom(ctx).meta = m
	return ctx
}

// WithBrowserSession tells end_session which twofold session the browser holds.
func WithBrowserSession(ctx context.Context, sessionID, userID string) context.Context {
	ctx = withCall(ctx)
	c := callFrom(ctx)
	c.sessionID, c.userID = sessionID, userID
	return ctx
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// serverError marks a store failure so that the op package answers 500, not a client error;
// a database that did not answer is noted for StoreUnavailable.
func serverError(ctx context.Context, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		callFrom(ctx).unavailable = true
	}
	return oidc.ErrServerError().WithParent(err)
}

// TrackStore prepares ctx so that StoreUnavailable can tell, after the request, whether
// a store call failed because the database did not answer.
func TrackStore(ctx context.Context) context.Context { return withCall(ctx) }

// StoreUnavailable says whether a store call of the request ctx (from TrackStore) failed
// with store.ErrUnavailable.
func StoreUnavailable(ctx context.Context) bool { return callFrom(ctx).unavailable }

func (s *storage) record(ctx context.Context, event, subject, detail string) {
	if err := audit.Record(ctx, s.st, s.now(), event, subject, callFrom(ctx).meta, detail); err != nil {
		s.log.WarnContext(ctx, "audit", "event", event, "err", err)
	}
}

// Health reports whether the database answers.
func (s *storage) Health(ctx context.Context) error { return s.st.Ping(ctx) }

// getClient reads the client id, once per request.
func (s *storage) getClient(ctx context.Context, id string) (*store.OIDCClient, error) {
	c := callFrom(ctx)
	if c.client != nil && c.client.ID == id {
		return c.client, nil
	}
	client, err := s.st.GetOIDCClient(ctx, id)
	if err != nil {
		return nil, err
	}
	c.client = client
	return client, nil
}

// getUser reads the user id, once per request.
func (s *storage) getUser(ctx context.Context, id string) (*store.User, error) {
	c := callFrom(ctx)
	if c.user != nil && c.user.ID == id {
		return c.user, nil
	}
	u, err := s.st.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	c.user = u
	return u, nil
}

// GetClientByClientID loads a client and remembers its ID token algorithm for this request.
func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.getClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidText) {
		// An ID that is not text (HTTP Basic credentials reach here unchecked) names no client.
		if callFrom(ctx).logout != nil {
			// RP-initiated logout authenticates no client: an unknown one is a bad request,
			// not a 401 (which would need a challenge the endpoint does not have).
			return nil, oidc.ErrInvalidRequest().WithDescription("The client_id names no application registered here.").WithParent(errInvalid)
		}
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client").WithParent(errInvalid)
	}
	if err != nil {
		return nil, serverError(ctx, err)
	}
	callFrom(ctx).alg, callFrom(ctx).clientID = c.IDTokenAlg, c.ID
	return &client{c: c, idTokenTTL: s.idTokenTTL}, nil
}

// AuthorizeClientIDSecret checks a confidential client's secret.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.getClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidText) {
		return fmt.Errorf("unknown client: %w", errInvalid)
	}
	if err != nil {
		return serverError(ctx, err)
	}
	if !secretMatches(c, secret) {
		return fmt.Errorf("wrong client secret: %w", errInvalid)
	}
	return nil
}

// CreateAuthRequest stores a validated authorization request. On top of the op package's
// checks it requires an exact redirect URI match, the openid scope, the query response
// mode, and PKCE with S256 for public clients (S256 only, when a confidential client uses it).
func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.getClient(ctx, r.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client")
	}
	if !slices.Contains(c.RedirectURIs, r.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("The redirect_uri is not registered for this client.")
	}
	switch {
	case !slices.Contains(r.Scopes, oidc.ScopeOpenID):
		return nil, oidc.ErrInvalidScope().WithDescription("The scope must include openid.")
	case r.ResponseMode != "" && r.ResponseMode != oidc.ResponseModeQuery:
		return nil, oidc.ErrInvalidRequest().WithDescription("Only response_mode=query is supported.")
	case c.Public && r.CodeChallenge == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256.")
	case r.CodeChallenge != "" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256.")
	case r.CodeChallenge != "" && !isS256Challenge(r.CodeChallenge):
		return nil, oidc.ErrInvalidRequest().WithDescription("The code_challenge must be the S256 hash of the code_verifier: 43 characters of base64url (RFC 7636, section 4.2).")
	case len(r.State) > 2048 || len(r.Nonce) > 2048 || len(r.LoginHint) > 256:
		return nil, oidc.ErrInvalidRequest().WithDescription("A parameter is too long.")
	}
	id, err := randomString(24)
	if err != nil {
		return nil, err
	}
	now := s.now()
	maxAge := int64(-1)
	if r.MaxAge != nil {
		maxAge = int64(*r.MaxAge)
	}
	a := &store.OIDCAuthRequest{
		ID: id, ClientID: c.ID, RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce,
		Scopes: clean(r.Scopes), ResponseType: string(r.ResponseType), ResponseMode: string(r.ResponseMode),
		Prompt: clean(r.Prompt), MaxAge: maxAge, ACRValues: clean(r.ACRValues),
		CodeChallenge: r.CodeChallenge, CodeChallengeMethod: string(r.CodeChallengeMethod), LoginHint: r.LoginHint,
		CreatedAt: now, ExpiresAt: now.Add(RequestLifetime),
	}
	if err := s.st.CreateOIDCAuthRequest(ctx, a); err != nil {
		return nil, serverError(ctx, err)
	}
	return &authRequest{a}, nil
}

// clean drops empty and repeated items (lists are stored space-separated).
func clean(v []string) []string {
	var out []string
	for _, x := range v {
		if x = strings.TrimSpace(x); x != "" && !strings.ContainsAny(x, " \t\r\n") && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// AuthRequestByID returns a stored, unexpired request.
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := s.st.GetOIDCAuthRequest(ctx, id, s.now())
	if err != nil {
		return nil, fmt.Errorf("auth request: %w", errInvalid)
	}
	return &authRequest{a}, nil
}

// SaveAuthCode attaches the code to the completed request; it can be exchanged for
// CodeLifetime.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	now := s.now()
	if err := s.st.SaveOIDCAuthCode(ctx, id, hashToken(code), now.Add(CodeLifetime), now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return oidc.ErrInvalidRequest().WithDescription("This sign-in request was used already.")
		}
		return serverError(ctx, err)
	}
	return nil
}

// AuthRequestByCode looks the code's request up without using the code: the op package
// asks for it before it has authenticated the client and checked the PKCE verifier, and
// whoever merely saw a code must not be able to void it. The code is claimed when the
// tokens are created (claimCode), after those checks. A used code is returned too, so
// that its claim fails there, for the client it was issued to only.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	a, err := s.st.GetOIDCAuthRequestByCode(ctx, hashToken(code), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("code unknown: %w", errInvalid)
	}
	if err != nil {
		return nil, serverError(ctx, err)
	}
	if !a.CodeUsedAt.IsZero() {
		return &authRequest{a}, nil
	}
	if !s.now().Before(a.CodeExpiresAt) {
		return nil, fmt.Errorf("code expired: %w", errInvalid)
	}
	if err := s.userActive(ctx, a.UserID); err != nil {
		return nil, err
	}
	if !a.SessionLive {
		// A sign-out, MFA reset, password change elsewhere or "sign out everywhere" ended
		// the session after the code was issued: those end the user's tokens, and a code
		// still in flight must not bring new ones.
		return nil, fmt.Errorf("the session that signed in has ended: %w", errInvalid)
	}
	return &authRequest{a}, nil
}

// claimCode uses the request's code up in tx, in one conditional update: of parallel
// exchanges (on any instance) exactly one gets past it. It is called only once the op
// package authenticated the client, matched the PKCE verifier and found the code issued
// to that client, so a code that was used already comes back from its own client: the
// tokens issued for it are revoked (RFC 6749, section 4.1.2) after tx rolled back, by
// replayed.
func claimCode(ctx context.Context, tx store.Store, a *authRequest, now time.Time) error {
	if _, err := tx.ClaimOIDCAuthCode(ctx, a.a.CodeHash, now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errCodeUsed
		}
		return err
	}
	return nil
}

// errCodeUsed: the code was used (or expired) between lookup and claim.
var errCodeUsed = errors.New("oidc: code used already")

// replayed answers an exchange whose code was used already: the grant of the code is
// revoked, with an audit event, and the client gets invalid_grant.
func (s *storage) replayed(ctx context.Context, a *authRequest) error {
	n, err := s.st.RevokeOIDCGrantOfUsedCode(ctx, a.a.CodeHash)
	if err != nil {
		return serverError(ctx, err)
	}
	if n > 0 {
		s.record(ctx, EventCodeReplayed, a.a.UserID, "client "+a.a.ClientID+" presented an authorization code again; its tokens are revoked")
	}
	return oidc.ErrInvalidGrant().WithDescription("invalid code").WithParent(errCodeUsed)
}

// DeleteAuthRequest is called once the code was exchanged. The request stays until it
// expires, so that a replay of its code is recognised.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// userActive refuses tokens for a user that is gone or disabled.
func (s *storage) userActive(ctx context.Context, userID string) error {
	u, err := s.getUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return fmt.Errorf("user unknown or disabled: %w", errInvalid)
	}
	if err != nil {
		return serverError(ctx, err)
	}
	return nil
}

// TerminateSession is replaced by TerminateSessionFromRequest.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest answers RP-initiated logout, which the op package validated
// (client, exactly registered post_logout_redirect_uri). With a valid id_token_hint it
// ends, as auth.RPLogout does, the session the token names (sid), which a server-side call
// without the browser's cookie can only name so, and the browser's session when it is the
// same user's. Without a hint nothing ends here: the user confirms on LogoutConfirmPath,
// which keeps the request's client, post-logout URI and state.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, r *op.EndSessionRequest) (string, error) {
	c := callFrom(ctx)
	if r.IDTokenHintClaims == nil {
		if r.ClientID == "" {
			return LogoutConfirmPath, nil // no client: nowhere to return to
		}
		q := url.Values{"client_id": {r.ClientID}}
		for _, k := range []string{"post_logout_redirect_uri", "state"} {
			if v := c.logout.Get(k); v != "" {
				q.Set(k, v)
			}
		}
		return LogoutConfirmPath + "?" + q.Encode(), nil
	}
	live, err := s.st.ListUserSessions(ctx, r.UserID, s.now())
	if err != nil {
		return "", serverError(ctx, err)
	}
	for _, x := range live {
		named := x.ID == r.IDTokenHintClaims.SessionID
		browser := x.ID == c.sessionID && c.userID == r.UserID
		if !named && !browser {
			continue
		}
		m := c.meta
		m.ActorID = r.UserID
		if _, err := s.auth.End(ctx, auth.RPLogout, r.UserID, x.ID, m); err != nil {
			return "", serverError(ctx, err)
		}
	}
	return r.RedirectURI, nil
}

// isS256Challenge reports whether c can be an S256 code challenge: a SHA-256 hash in
// base64url without padding, which no code_verifier of RFC 7636 could match otherwise.
func isS256Challenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

package sqlstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// Lists of URIs, scopes and methods are stored space-separated: none of their items can
// hold a space (the OIDC layer refuses URIs with white space).
func joinList(v []string) string { return strings.Join(v, " ") }

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, " ")
}

const clientColumns = `id, name, secret_hash, public, first_party, redirect_uris, post_logout_redirect_uris,
	id_token_alg, created_at`

func scanClient(s scanner) (*store.OIDCClient, error) {
	var c store.OIDCClient
	var public, firstParty int
	var redirects, postLogout string
	var created int64
	if err := s.Scan(&c.ID, &c.Name, &c.SecretHash, &public, &firstParty, &redirects, &postLogout,
		&c.IDTokenAlg, &created); err != nil {
		return nil, err
	}
	c.Public, c.FirstParty = public != 0, firstParty != 0
	c.RedirectURIs, c.PostLogoutRedirectURIs = splitList(redirects), splitList(postLogout)
	c.CreatedAt = fromMS(created)
	return &c, nil
}

// CreateOIDCClient inserts a client; the name is unique.
func (d *DB) CreateOIDCClient(ctx context.Context, c *store.OIDCClient) error {
	_, err := d.exec(ctx, `INSERT INTO oidc_clients (`+clientColumns+`) VALUES (?,?,?,?,?,?,?,?,?)`,
		c.ID, c.Name, c.SecretHash, boolInt(c.Public), boolInt(c.FirstParty), joinList(c.RedirectURIs),
		joinList(c.PostLogoutRedirectURIs), c.IDTokenAlg, ms(c.CreatedAt))
	if errors.Is(err, store.ErrConflict) {
		return &store.ConflictError{Field: "name"}
	}
	if err == nil {
		c.CreatedAt = fromMS(ms(c.CreatedAt)) // as kept, to the millisecond
	}
	return err
}

// GetOIDCClient returns the client with the id.
func (d *DB) GetOIDCClient(ctx context.Context, id string) (*store.OIDCClient, error) {
	c, err := scanClient(d.queryRow(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE id = ?`, id))
	return c, d.wrap(err)
}

// GetOIDCClientByName returns the client with the name.
func (d *DB) GetOIDCClientByName(ctx context.Context, name string) (*store.OIDCClient, error) {
	c, err := scanClient(d.queryRow(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE name = ?`, name))
	return c, d.wrap(err)
}

// ListOIDCClients returns every client by name.
func (d *DB) ListOIDCClients(ctx context.Context) ([]store.OIDCClient, error) {
	rows, err := d.query(ctx, `SELECT `+clientColumns+` FROM oidc_clients ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OIDCClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, d.wrap(err)
		}
		out = append(out, *c)
	}
	return out, d.wrap(rows.Err())
}

// UpdateOIDCClient replaces what may change of a client.
func (d *DB) UpdateOIDCClient(ctx context.Context, c *store.OIDCClient) error {
	err := d.execOne(ctx, `UPDATE oidc_clients SET name = ?, secret_hash = ?, first_party = ?, redirect_uris = ?,
		post_logout_redirect_uris = ?, id_token_alg = ? WHERE id = ?`,
		c.Name, c.SecretHash, boolInt(c.FirstParty), joinList(c.RedirectURIs), joinList(c.PostLogoutRedirectURIs),
		c.IDTokenAlg, c.ID)
	if errors.Is(err, store.ErrConflict) {
		return &store.ConflictError{Field: "name"}
	}
	return err
}

// DeleteOIDCClient removes a client and, by cascade, everything issued to it.
func (d *DB) DeleteOIDCClient(ctx context.Context, id string) error {
	return d.execOne(ctx, `DELETE FROM oidc_clients WHERE id = ?`, id)
}

const authRequestColumns = `id, client_id, redirect_uri, state, nonce, scopes, response_type, response_mode,
	prompt, max_age, acr_values, code_challenge, code_challenge_method, login_hint, created_at, expires_at,
	user_id, session_id, auth_time, amr, acr, code_hash, code_expires_at, code_used_at`

func scanAuthRequest(s scanner) (*store.OIDCAuthRequest, error) {
	var a store.OIDCAuthRequest
	var scopes, prompt, acrValues, amr string
	var created, expires, authTime, codeExpires, codeUsed int64
	if err := s.Scan(&a.ID, &a.ClientID, &a.RedirectURI, &a.State, &a.Nonce, &scopes, &a.ResponseType,
		&a.ResponseMode, &prompt, &a.MaxAge, &acrValues, &a.CodeChallenge, &a.CodeChallengeMethod, &a.LoginHint,
		&created, &expires, &a.UserID, &a.SessionID, &authTime, &amr, &a.ACR, &a.CodeHash, &codeExpires,
		&codeUsed); err != nil {
		return nil, err
	}
	a.Scopes, a.Prompt, a.ACRValues, a.AMR = splitList(scopes), splitList(prompt), splitList(acrValues), splitList(amr)
	a.CreatedAt, a.ExpiresAt, a.AuthTime = fromMS(created), fromMS(expires), fromMS(authTime)
	a.CodeExpiresAt, a.CodeUsedAt = fromMS(codeExpires), fromMS(codeUsed)
	return &a, nil
}

// CreateOIDCAuthRequest stores a new authorization request.
func (d *DB) CreateOIDCAuthRequest(ctx context.Context, a *store.OIDCAuthRequest) error {
	_, err := d.exec(ctx, `INSERT INTO oidc_auth_requests (`+authRequestColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.ID, a.ClientID, a.RedirectURI, a.State, a.Nonce, joinList(a.Scopes), a.ResponseType, a.ResponseMode,
		joinList(a.Prompt), a.MaxAge, joinList(a.ACRValues), a.CodeChallenge, a.CodeChallengeMethod, a.LoginHint,
		ms(a.CreatedAt), ms(a.ExpiresAt), a.UserID, a.SessionID, ms(a.AuthTime), joinList(a.AMR), a.ACR,
		a.CodeHash, ms(a.CodeExpiresAt), ms(a.CodeUsedAt))
	return err
}

// GetOIDCAuthRequest returns an unexpired request.
func (d *DB) GetOIDCAuthRequest(ctx context.Context, id string, now time.Time) (*store.OIDCAuthRequest, error) {
	a, err := scanAuthRequest(d.queryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests
		WHERE id = ? AND expires_at > ?`, id, ms(now)))
	return a, d.wrap(err)
}

// CompleteOIDCAuthRequest records the sign-in on a request, once.
func (d *DB) CompleteOIDCAuthRequest(ctx context.Context, id string, done *store.OIDCAuthRequest, now time.Time) error {
	return d.execOne(ctx, `UPDATE oidc_auth_requests SET user_id = ?, session_id = ?, auth_time = ?, amr = ?, acr = ?
		WHERE id = ? AND user_id = '' AND expires_at > ?`,
		done.UserID, done.SessionID, ms(done.AuthTime), joinList(done.AMR), done.ACR, id, ms(now))
}

// SaveOIDCAuthCode attaches a code to a completed request that has none.
func (d *DB) SaveOIDCAuthCode(ctx context.Context, id string, codeHash []byte, expiresAt, now time.Time) error {
	return d.execOne(ctx, `UPDATE oidc_auth_requests SET code_hash = ?, code_expires_at = ?
		WHERE id = ? AND user_id <> '' AND code_hash IS NULL AND expires_at > ?`,
		codeHash, ms(expiresAt), id, ms(now))
}

// authRequestByCodeQuery reads the request of a code and whether its session lives.
var authRequestByCodeQuery = `SELECT ` + prefixed("r.", authRequestColumns) + `,
	EXISTS (SELECT 1 FROM sessions s WHERE s.id = r.session_id AND s.user_id = r.user_id AND s.state = ? AND s.expires_at > ?)
	FROM oidc_auth_requests r WHERE r.code_hash = ? AND r.user_id <> ''`

// GetOIDCAuthRequestByCode returns the request of a code without using it up.
func (d *DB) GetOIDCAuthRequestByCode(ctx context.Context, codeHash []byte, now time.Time) (*store.OIDCAuthRequest, error) {
	var live bool
	a, err := scanAuthRequest(scanWith{d.queryRow(ctx, authRequestByCodeQuery, store.StateAuthenticated, ms(now), codeHash), &live})
	if err != nil {
		return nil, d.wrap(err)
	}
	a.SessionLive = live
	return a, nil
}

// scanWith scans the columns its scanner is asked for, then more.
type scanWith struct {
	s    scanner
	more any
}

func (w scanWith) Scan(dest ...any) error { return w.s.Scan(append(dest, w.more)...) }

// ClaimOIDCAuthCode uses a code once.
func (d *DB) ClaimOIDCAuthCode(ctx context.Context, codeHash []byte, now time.Time) (*store.OIDCAuthRequest, error) {
	a, err := scanAuthRequest(d.queryRow(ctx, `UPDATE oidc_auth_requests SET code_used_at = ?
		WHERE code_hash = ? AND code_used_at = 0 AND code_expires_at > ? AND user_id <> ''
		RETURNING `+authRequestColumns, ms(now), codeHash, ms(now)))
	return a, d.wrap(err)
}

// RevokeOIDCGrantOfUsedCode deletes the grant issued for a used code.
func (d *DB) RevokeOIDCGrantOfUsedCode(ctx context.Context, codeHash []byte) (int, error) {
	return d.execCount(ctx, `DELETE FROM oidc_grants WHERE id IN
		(SELECT id FROM oidc_auth_requests WHERE code_hash = ? AND code_used_at <> 0)`, codeHash)
}

// GetOIDCConsent returns the user's consent for the client.
func (d *DB) GetOIDCConsent(ctx context.Context, userID, clientID string) (*store.OIDCConsent, error) {
	var c store.OIDCConsent
	var scopes string
	var granted int64
	err := d.queryRow(ctx, `SELECT user_id, client_id, scopes, granted_at FROM oidc_consents
		WHERE user_id = ? AND client_id = ?`, userID, clientID).Scan(&c.UserID, &c.ClientID, &scopes, &granted)
	if err != nil {
		return nil, d.wrap(err)
	}
	c.Scopes, c.GrantedAt = splitList(scopes), fromMS(granted)
	return &c, nil
}

// PutOIDCConsent creates or replaces a consent.
func (d *DB) PutOIDCConsent(ctx context.Context, c *store.OIDCConsent) error {
	_, err := d.exec(ctx, `INSERT INTO oidc_consents (user_id, client_id, scopes, granted_at) VALUES (?,?,?,?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
		c.UserID, c.ClientID, joinList(c.Scopes), ms(c.GrantedAt))
	return err
}

// ListUserOIDCApplications returns the clients the user consented to or holds a live grant of.
func (d *DB) ListUserOIDCApplications(ctx context.Context, userID string, now time.Time) ([]store.OIDCApplication, error) {
	byID := map[string]*store.OIDCApplication{}
	var order []string
	app := func(id, name string) *store.OIDCApplication {
		a, ok := byID[id]
		if !ok {
			a = &store.OIDCApplication{ClientID: id, Name: name}
			byID[id] = a
			order = append(order, id)
		}
		return a
	}
	rows, err := d.query(ctx, `SELECT c.id, c.name, s.scopes, s.granted_at FROM oidc_consents s
		JOIN oidc_clients c ON c.id = s.client_id WHERE s.user_id = ?`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, scopes string
		var granted int64
		if err := rows.Scan(&id, &name, &scopes, &granted); err != nil {
			return nil, d.wrap(err)
		}
		a := app(id, name)
		a.Scopes, a.ConsentedAt = splitList(scopes), fromMS(granted)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap(err)
	}
	rows.Close()
	rows, err = d.query(ctx, `SELECT c.id, c.name, g.scopes, g.created_at,
			COALESCE((SELECT MAX(created_at) FROM oidc_access_tokens WHERE grant_id = g.id), 0),
			COALESCE((SELECT MAX(created_at) FROM oidc_refresh_tokens WHERE grant_id = g.id), 0)
		FROM oidc_grants g JOIN oidc_clients c ON c.id = g.client_id
		WHERE g.user_id = ? AND g.expires_at > ?`, userID, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, scopes string
		var times [3]int64
		if err := rows.Scan(&id, &name, &scopes, &times[0], &times[1], &times[2]); err != nil {
			return nil, d.wrap(err)
		}
		a := app(id, name)
		if a.ConsentedAt.IsZero() {
			for _, sc := range splitList(scopes) {
				if !slices.Contains(a.Scopes, sc) {
					a.Scopes = append(a.Scopes, sc)
				}
			}
		}
		for _, t := range times {
			if t != 0 && fromMS(t).After(a.LastUsedAt) {
				a.LastUsedAt = fromMS(t)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap(err)
	}
	out := make([]store.OIDCApplication, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	slices.SortFunc(out, func(a, b store.OIDCApplication) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteUserOIDCClientAccess removes the user's consent to a client and its grants of the user.
func (d *DB) DeleteUserOIDCClientAccess(ctx context.Context, userID, clientID string) (int, error) {
	consents, err := d.execCount(ctx, `DELETE FROM oidc_consents WHERE user_id = ? AND client_id = ?`, userID, clientID)
	if err != nil {
		return 0, err
	}
	grants, err := d.execCount(ctx, `DELETE FROM oidc_grants WHERE user_id = ? AND client_id = ?`, userID, clientID)
	if err != nil {
		return 0, err
	}
	if consents == 0 && grants == 0 {
		return 0, store.ErrNotFound
	}
	return grants, nil
}

const grantColumns = `id, client_id, user_id, session_id, scopes, auth_time, amr, acr, offline, created_at, expires_at`

func scanGrant(s scanner, g *store.OIDCGrant, extra ...any) error {
	var scopes, amr string
	var offline int
	var authTime, created, expires int64
	dest := append([]any{&g.ID, &g.ClientID, &g.UserID, &g.SessionID, &scopes, &authTime, &amr, &g.ACR,
		&offline, &created, &expires}, extra...)
	if err := s.Scan(dest...); err != nil {
		return err
	}
	g.Scopes, g.AMR, g.Offline = splitList(scopes), splitList(amr), offline != 0
	g.AuthTime, g.CreatedAt, g.ExpiresAt = fromMS(authTime), fromMS(created), fromMS(expires)
	return nil
}

// CreateOIDCGrant stores a grant.
func (d *DB) CreateOIDCGrant(ctx context.Context, g *store.OIDCGrant) error {
	_, err := d.exec(ctx, `INSERT INTO oidc_grants (`+grantColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		g.ID, g.ClientID, g.UserID, g.SessionID, joinList(g.Scopes), ms(g.AuthTime), joinList(g.AMR), g.ACR,
		boolInt(g.Offline), ms(g.CreatedAt), ms(g.ExpiresAt))
	return err
}

// GetOIDCGrant returns a grant.
func (d *DB) GetOIDCGrant(ctx context.Context, id string) (*store.OIDCGrant, error) {
	var g store.OIDCGrant
	if err := scanGrant(d.queryRow(ctx, `SELECT `+grantColumns+` FROM oidc_grants WHERE id = ?`, id), &g); err != nil {
		return nil, d.wrap(err)
	}
	return &g, nil
}

// DeleteOIDCGrant revokes a grant with its tokens.
func (d *DB) DeleteOIDCGrant(ctx context.Context, id string) error {
	return d.execOne(ctx, `DELETE FROM oidc_grants WHERE id = ?`, id)
}

// DeleteUserOIDCGrants revokes every grant of a user.
func (d *DB) DeleteUserOIDCGrants(ctx context.Context, userID string) (int, error) {
	return d.execCount(ctx, `DELETE FROM oidc_grants WHERE user_id = ?`, userID)
}

// DeleteOtherOIDCGrants revokes the user's grants not obtained through sessionID.
func (d *DB) DeleteOtherOIDCGrants(ctx context.Context, userID, sessionID string) (int, error) {
	return d.execCount(ctx, `DELETE FROM oidc_grants WHERE user_id = ? AND session_id <> ?`, userID, sessionID)
}

// DeleteSessionOIDCGrants revokes a session's grants that hold no refresh token.
func (d *DB) DeleteSessionOIDCGrants(ctx context.Context, sessionID string) (int, error) {
	return d.execCount(ctx, `DELETE FROM oidc_grants WHERE session_id = ? AND offline = 0`, sessionID)
}

// CreateOIDCAccessToken stores an access token.
func (d *DB) CreateOIDCAccessToken(ctx context.Context, t *store.OIDCAccessToken) error {
	_, err := d.exec(ctx, `INSERT INTO oidc_access_tokens (id, grant_id, scopes, created_at, expires_at)
		VALUES (?,?,?,?,?)`, t.ID, t.GrantID, joinList(t.Scopes), ms(t.CreatedAt), ms(t.ExpiresAt))
	return err
}

// GetOIDCAccessToken returns a live access token with its grant.
func (d *DB) GetOIDCAccessToken(ctx context.Context, id string, now time.Time) (*store.OIDCAccessToken, error) {
	t := store.OIDCAccessToken{Grant: &store.OIDCGrant{}}
	var scopes string
	var created, expires int64
	cols := strings.ReplaceAll("g."+grantColumns, ", ", ", g.")
	err := scanGrant(d.queryRow(ctx, `SELECT `+cols+`, t.id, t.grant_id, t.scopes, t.created_at, t.expires_at
		FROM oidc_access_tokens t JOIN oidc_grants g ON g.id = t.grant_id WHERE t.id = ? AND t.expires_at > ?`,
		id, ms(now)), t.Grant, &t.ID, &t.GrantID, &scopes, &created, &expires)
	if err != nil {
		return nil, d.wrap(err)
	}
	t.Scopes, t.CreatedAt, t.ExpiresAt = splitList(scopes), fromMS(created), fromMS(expires)
	return &t, nil
}

// DeleteOIDCAccessToken revokes an access token.
func (d *DB) DeleteOIDCAccessToken(ctx context.Context, id string) error {
	_, err := d.exec(ctx, `DELETE FROM oidc_access_tokens WHERE id = ?`, id)
	return err
}

// CreateOIDCRefreshToken stores a refresh token.
func (d *DB) CreateOIDCRefreshToken(ctx context.Context, t *store.OIDCRefreshToken) error {
	_, err := d.exec(ctx, `INSERT INTO oidc_refresh_tokens (token_hash, grant_id, scopes, created_at, expires_at, used_at)
		VALUES (?,?,?,?,?,?)`, t.TokenHash, t.GrantID, joinList(t.Scopes), ms(t.CreatedAt), ms(t.ExpiresAt), ms(t.UsedAt))
	return err
}

// GetOIDCRefreshToken returns a refresh token, used or not.
func (d *DB) GetOIDCRefreshToken(ctx context.Context, tokenHash []byte) (*store.OIDCRefreshToken, error) {
	var t store.OIDCRefreshToken
	var scopes string
	var created, expires, used int64
	err := d.queryRow(ctx, `SELECT token_hash, grant_id, scopes, created_at, expires_at, used_at
		FROM oidc_refresh_tokens WHERE token_hash = ?`, tokenHash).Scan(&t.TokenHash, &t.GrantID, &scopes,
		&created, &expires, &used)
	if err != nil {
		return nil, d.wrap(err)
	}
	t.Scopes, t.CreatedAt, t.ExpiresAt, t.UsedAt = splitList(scopes), fromMS(created), fromMS(expires), fromMS(used)
	return &t, nil
}

// RotateOIDCRefreshToken replaces the family's current refresh token, once.
func (d *DB) RotateOIDCRefreshToken(ctx context.Context, oldHash []byte, next *store.OIDCRefreshToken, now time.Time) error {
	return d.WithTx(ctx, func(st store.Store) error {
		tx := st.(*DB)
		if err := tx.execOne(ctx, `UPDATE oidc_refresh_tokens SET used_at = ?
			WHERE token_hash = ? AND grant_id = ? AND used_at = 0 AND expires_at > ?`,
			ms(now), oldHash, next.GrantID, ms(now)); err != nil {
			return err
		}
		if err := tx.CreateOIDCRefreshToken(ctx, next); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE oidc_grants SET expires_at = ? WHERE id = ? AND expires_at < ?`,
			ms(next.ExpiresAt), next.GrantID, ms(next.ExpiresAt))
		return err
	})
}

// CreateOIDCSigningKey stores a signing key; one current key per algorithm.
func (d *DB) CreateOIDCSigningKey(ctx context.Context, k *store.OIDCSigningKey) error {
	_, err := d.exec(ctx, `INSERT INTO oidc_signing_keys (id, alg, private_enc, created_at, retired_at, expires_at)
		VALUES (?,?,?,?,?,?)`, k.ID, k.Alg, k.PrivateEnc, ms(k.CreatedAt), ms(k.RetiredAt), ms(k.ExpiresAt))
	return err
}

// ListOIDCSigningKeys returns the unexpired keys, newest first.
func (d *DB) ListOIDCSigningKeys(ctx context.Context, now time.Time) ([]store.OIDCSigningKey, error) {
	rows, err := d.query(ctx, `SELECT id, alg, private_enc, created_at, retired_at, expires_at FROM oidc_signing_keys
		WHERE expires_at = 0 OR expires_at > ? ORDER BY created_at DESC, id`, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OIDCSigningKey
	for rows.Next() {
		var k store.OIDCSigningKey
		var created, retired, expires int64
		if err := rows.Scan(&k.ID, &k.Alg, &k.PrivateEnc, &created, &retired, &expires); err != nil {
			return nil, d.wrap(err)
		}
		k.CreatedAt, k.RetiredAt, k.ExpiresAt = fromMS(created), fromMS(retired), fromMS(expires)
		out = append(out, k)
	}
	return out, d.wrap(rows.Err())
}

// RetireOIDCSigningKeys stops signing with the current key of alg.
func (d *DB) RetireOIDCSigningKeys(ctx context.Context, alg string, now, expiresAt time.Time) (int, error) {
	return d.execCount(ctx, `UPDATE oidc_signing_keys SET retired_at = ?, expires_at = ? WHERE alg = ? AND retired_at = 0`,
		ms(now), ms(expiresAt), alg)
}

// DeleteExpiredOIDC removes what can no longer be used.
func (d *DB) DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for _, q := range []string{
		`DELETE FROM oidc_auth_requests WHERE expires_at <= ?`,
		`DELETE FROM oidc_grants WHERE expires_at <= ?`,
		`DELETE FROM oidc_access_tokens WHERE expires_at <= ?`,
		`DELETE FROM oidc_refresh_tokens WHERE expires_at <= ?`,
		`DELETE FROM oidc_signing_keys WHERE expires_at <> 0 AND expires_at <= ?`,
	} {
		n, err := d.execCount(ctx, q, ms(now))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// execCount runs a write and returns how many rows it changed.
func (d *DB) execCount(ctx context.Context, query string, args ...any) (int, error) {
	res, err := d.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), d.wrap(err)
}

package web

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
)

// adminClientRoutes registers the applications (OIDC clients), signing keys and settings
// of the console and the admin API, and a user's applications. Everything about the
// server's applications, keys and configuration needs clients:write, reading too: it is
// how applications sign users in, for those who manage that. A user's applications are
// part of the user: users:read to list them, users:write to remove one.
func (s *Server) adminClientRoutes(rt *router) {
	if s.clients == nil {
		return
	}
	rt.admin("GET /api/v1/admin/clients", admin.ScopeClientsWrite, s.apiAdminClients)
	rt.admin("POST /api/v1/admin/clients", admin.ScopeClientsWrite, s.apiAdminAddClient)
	rt.admin("GET /api/v1/admin/clients/{id}", admin.ScopeClientsWrite, s.apiAdminClient)
	rt.admin("PATCH /api/v1/admin/clients/{id}", admin.ScopeClientsWrite, s.apiAdminUpdateClient)
	rt.admin("DELETE /api/v1/admin/clients/{id}", admin.ScopeClientsWrite, s.apiAdminRemoveClient)
	rt.admin("POST /api/v1/admin/clients/{id}/rotate-secret", admin.ScopeClientsWrite, s.apiAdminRotateSecret)
	rt.admin("GET /api/v1/admin/signing-keys", admin.ScopeClientsWrite, s.apiAdminSigningKeys)
	rt.admin("POST /api/v1/admin/signing-keys/rotate", admin.ScopeClientsWrite, s.apiAdminRotateKeys)
	rt.admin("GET /api/v1/admin/settings", admin.ScopeClientsWrite, s.apiAdminSettings)
	if s.admin != nil {
		rt.admin("GET /api/v1/admin/users/{id}/applications", admin.ScopeUsersRead, s.apiAdminUserApplications)
		rt.admin("POST /api/v1/admin/users/{id}/applications/{client_id}/revoke", admin.ScopeUsersWrite, s.apiAdminRevokeApplication)
	}
	s.adminClientPages(rt)
}

// AdminClient is an OpenID Connect client in the admin API. ClientSecret is only in the
// answers of POST /api/v1/admin/clients and .../rotate-secret: twofold keeps no more
// than its hash.
type AdminClient struct {
	ClientID               string    `json:"client_id"`
	ClientSecret           string    `json:"client_secret,omitempty"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	FirstParty             bool      `json:"first_party"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	IDTokenAlg             string    `json:"id_token_signed_response_alg"`
	CreatedAt              time.Time `json:"created_at"`
}

func adminClientJSON(c *store.OIDCClient, secret string) AdminClient {
	return AdminClient{ClientID: c.ID, ClientSecret: secret, Name: c.Name, Public: c.Public, FirstParty: c.FirstParty,
		RedirectURIs: orEmpty(c.RedirectURIs), PostLogoutRedirectURIs: orEmpty(c.PostLogoutRedirectURIs),
		IDTokenAlg: c.IDTokenAlg, CreatedAt: c.CreatedAt.UTC()}
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// NewAdminClient is the body of POST /api/v1/admin/clients.
type NewAdminClient struct {
	Name                   string   `json:"name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Public                 bool     `json:"public,omitempty"`
	FirstParty             bool     `json:"first_party,omitempty"`
	IDTokenAlg             string   `json:"id_token_signed_response_alg,omitempty"` // empty: ES256
}

// AdminClientChange is the body of PATCH /api/v1/admin/clients/{id}: the fields given
// replace the client's; a client's kind, id and secret are not changed this way.
type AdminClientChange struct {
	Name                   *string   `json:"name"`
	RedirectURIs           *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris"`
	FirstParty             *bool     `json:"first_party"`
	IDTokenAlg             *string   `json:"id_token_signed_response_alg"`
	// Refused when present: say why rather than ignore them.
	ClientID     *string `json:"client_id"`
	ClientSecret *string `json:"client_secret"`
	Public       *bool   `json:"public"`
}

// pageInMemory returns the page after the cursor of a short list read whole, ordered by
// key (time, then id), and the cursor of the page after it.
func pageInMemory[T any](items []T, key func(T) store.Cursor, after store.Cursor, limit int) ([]T, store.Cursor) {
	order := func(a, b store.Cursor) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.ID, b.ID))
	}
	slices.SortFunc(items, func(a, b T) int { return order(key(a), key(b)) })
	if !after.IsZero() {
		i, _ := slices.BinarySearchFunc(items, after, func(x T, c store.Cursor) int { return order(key(x), c) })
		for i < len(items) && order(key(items[i]), after) <= 0 {
			i++
		}
		items = items[i:]
	}
	return store.NextPage(items, limit, key)
}

func clientKey(c store.OIDCClient) store.Cursor { return store.Cursor{At: c.CreatedAt, ID: c.ID} }

func (s *Server) apiAdminClients(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageParams(r, listClients)
	if err != nil {
		return err
	}
	list, err := s.clients.Clients(r.Context())
	if err != nil {
		return err
	}
	page, next := pageInMemory(list, clientKey, after, limit)
	writeJSON(w, http.StatusOK, pageOf(listClients, page, next, func(c *store.OIDCClient) AdminClient { return adminClientJSON(c, "") }))
	return nil
}

func (s *Server) apiAdminAddClient(w http.ResponseWriter, r *http.Request) error {
	var b NewAdminClient
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	rc, err := s.clients.Add(r.Context(), oidc.NewClient{Name: b.Name, RedirectURIs: b.RedirectURIs,
		PostLogoutRedirectURIs: b.PostLogoutRedirectURIs, Public: b.Public, FirstParty: b.FirstParty,
		IDTokenAlg: strings.ToUpper(b.IDTokenAlg)}, adminMeta(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/admin/clients/"+rc.Client.ID)
	writeJSON(w, http.StatusCreated, adminClientJSON(rc.Client, rc.Secret))
	return nil
}

func (s *Server) apiAdminClient(w http.ResponseWriter, r *http.Request) error {
	c, err := s.clients.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminClientJSON(c, ""))
	return nil
}

func (s *Server) apiAdminUpdateClient(w http.ResponseWriter, r *http.Request) error {
	var b AdminClientChange
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	switch {
	case b.ClientID != nil:
		return apperr.New(apperr.CodeBadRequest, "A client's client_id never changes.")
	case b.ClientSecret != nil:
		return apperr.New(apperr.CodeBadRequest, "A client's secret is not set: POST .../rotate-secret gives it a new one.")
	case b.Public != nil:
		return apperr.New(apperr.CodeBadRequest, "Whether a client is public never changes: register a new client instead.")
	}
	c, err := s.clients.Update(r.Context(), r.PathValue("id"), oidc.ClientChange{Name: b.Name, RedirectURIs: b.RedirectURIs,
		PostLogoutRedirectURIs: b.PostLogoutRedirectURIs, FirstParty: b.FirstParty, IDTokenAlg: b.IDTokenAlg}, adminMeta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminClientJSON(c, ""))
	return nil
}

func (s *Server) apiAdminRemoveClient(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.clients.Remove(r.Context(), r.PathValue("id"), adminMeta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAdminRotateSecret(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.clients.RotateSecret(r.Context(), r.PathValue("id"), adminMeta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminClientJSON(rc.Client, rc.Secret))
	return nil
}

// Signing key states in the admin API.
const (
	keyActive   = "active"   // signs new tokens
	keyRetiring = "retiring" // replaced: stays in the JWKS until published_until, then goes
)

// AdminSigningKey is a token signing key in the admin API (never its private part).
type AdminSigningKey struct {
	KID       string    `json:"kid"`
	Alg       string    `json:"alg"`
	CreatedAt time.Time `json:"created_at"`
	Status    string    `json:"status"` // active or retiring
	// RetiredAt is when a retiring key stopped signing; PublishedUntil when it leaves the
	// JWKS. Both null for an active key.
	RetiredAt      *time.Time `json:"retired_at"`
	PublishedUntil *time.Time `json:"published_until"`
}

func adminKeyJSON(k *store.OIDCSigningKey) AdminSigningKey {
	out := AdminSigningKey{KID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt.UTC(), Status: keyActive}
	if !k.RetiredAt.IsZero() {
		out.Status = keyRetiring
		out.RetiredAt, out.PublishedUntil = timeOrNull(k.RetiredAt.UTC()), timeOrNull(k.ExpiresAt.UTC())
	}
	return out
}

func keyKey(k store.OIDCSigningKey) store.Cursor { return store.Cursor{At: k.CreatedAt, ID: k.ID} }

func (s *Server) apiAdminSigningKeys(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageParams(r, listSigningKeys)
	if err != nil {
		return err
	}
	keys, err := s.clients.SigningKeys(r.Context())
	if err != nil {
		return err
	}
	page, next := pageInMemory(keys, keyKey, after, limit)
	writeJSON(w, http.StatusOK, pageOf(listSigningKeys, page, next, adminKeyJSON))
	return nil
}

// KeysRotated answers POST /api/v1/admin/signing-keys/rotate: the new keys, which sign
// from now on, and until when the keys they replaced stay published.
type KeysRotated struct {
	Keys []RotatedSigningKey `json:"keys"`
}

// RotatedSigningKey is a key a rotation created.
type RotatedSigningKey struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	// PreviousPublishedUntil is when the key it replaced leaves the JWKS; null when it
	// replaced none.
	PreviousPublishedUntil *time.Time `json:"previous_published_until"`
}

func (s *Server) apiAdminRotateKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.clients.RotateKeys(r.Context(), 0, adminMeta(r))
	if err != nil {
		return err
	}
	out := KeysRotated{Keys: []RotatedSigningKey{}}
	for _, k := range keys {
		out.Keys = append(out.Keys, RotatedSigningKey{KID: k.ID, Alg: k.Alg, PreviousPublishedUntil: timeOrNull(k.PreviousExpires.UTC())})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Settings answers GET /api/v1/admin/settings: the effective configuration, read only,
// in the order of the configuration file, with every secret redacted.
type Settings struct {
	Settings []Setting `json:"settings"`
}

// Setting is one setting: its key as the file nests it, joined with dots
// ("server.addr"), and its value as YAML writes it. Redacted: the value held a secret,
// which Value no longer shows.
type Setting struct {
	Key      string `json:"key"`
	Value    string `json:"value"`
	Redacted bool   `json:"redacted"`
}

func settingsJSON(list []config.Setting) Settings {
	out := Settings{Settings: make([]Setting, 0, len(list))}
	for _, x := range list {
		out.Settings = append(out.Settings, Setting{Key: x.Key, Value: x.Value, Redacted: x.Redacted})
	}
	return out
}

func (s *Server) apiAdminSettings(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, settingsJSON(s.settings))
	return nil
}

func appKey(a store.OIDCApplication) store.Cursor { return store.Cursor{ID: a.ClientID} }

func (s *Server) apiAdminUserApplications(w http.ResponseWriter, r *http.Request) error {
	apps := listApplications(r.PathValue("id"))
	after, limit, err := pageParams(r, apps)
	if err != nil {
		return err
	}
	_, list, err := s.auth.UserApplications(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	page, next := pageInMemory(list, appKey, after, limit)
	writeJSON(w, http.StatusOK, pageOf(apps, page, next, func(a *store.OIDCApplication) Application { return applicationJSON(*a) }))
	return nil
}

func (s *Server) apiAdminRevokeApplication(w http.ResponseWriter, r *http.Request) error {
	grants, err := s.admin.RevokeApplication(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("client_id"), adminMeta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ApplicationRemoved{GrantsEnded: grants})
	return nil
}

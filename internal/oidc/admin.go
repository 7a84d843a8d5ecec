package oidc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
)

// AdminStore is the storage Admin uses outside transactions; inside WithTx it works on
// the transaction's full store.Store. Every store.Store is one.
type AdminStore interface {
	WithTx(ctx context.Context, fn func(store.Store) error) error
	GetOIDCClient(ctx context.Context, id string) (*store.OIDCClient, error)
	GetOIDCClientByName(ctx context.Context, name string) (*store.OIDCClient, error)
	ListOIDCClients(ctx context.Context) ([]store.OIDCClient, error)
	ListOIDCSigningKeys(ctx context.Context, now time.Time) ([]store.OIDCSigningKey, error)
	CreateOIDCSigningKey(ctx context.Context, k *store.OIDCSigningKey) error
}

var _ AdminStore = store.Store(nil)

// AdminOptions configure an Admin. Store and Keyring are required.
type AdminOptions struct {
	Store   AdminStore
	Keyring *secrets.Keyring
	// IDTokenLifetime is how long the provider's ID tokens live (zero: the default): a
	// replaced signing key stays published at least this long.
	IDTokenLifetime time.Duration
	Now             func() time.Time // default time.Now
}

// Admin manages the registered clients and the token signing keys: what the admin
// console, the admin API and the `twofold client` and `twofold keys` commands do. It
// knows nothing of HTTP; every change writes its audit row in its own transaction.
type Admin struct {
	st         AdminStore
	signing    *keyring // shared with the provider of the process (Options.Admin)
	idTokenTTL time.Duration
	now        func() time.Time
}

// NewAdmin returns the administration of clients and keys.
func NewAdmin(o AdminOptions) *Admin {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Admin{st: o.Store, signing: newKeyring(o.Store, o.Keyring, o.Now),
		idTokenTTL: orDefault(o.IDTokenLifetime, DefaultIDTokenLifetime), now: o.Now}
}

// More audit events of the administration.
const (
	EventClientChanged       = "oidc.client_changed"
	EventClientSecretRotated = "oidc.client_secret_rotated"
)

// ErrNoSuchClient answers a client_id no client has.
var ErrNoSuchClient = apperr.Msg(apperr.CodeNotFound, "err.client.unknown")

// Clients returns every client ordered by name.
func (a *Admin) Clients(ctx context.Context) ([]store.OIDCClient, error) {
	return a.st.ListOIDCClients(ctx)
}

// Client returns the client with the client_id; ErrNoSuchClient when there is none.
func (a *Admin) Client(ctx context.Context, id string) (*store.OIDCClient, error) {
	c, err := a.st.GetOIDCClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSuchClient
	}
	return c, err
}

// Find looks a client up by client_id, then by name (apperr not_found when neither), for
// the command line, where people type names.
func (a *Admin) Find(ctx context.Context, idOrName string) (*store.OIDCClient, error) {
	c, err := a.st.GetOIDCClient(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		c, err = a.st.GetOIDCClientByName(ctx, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.CodeNotFound, "No client has the id or name "+apperr.Quote(idOrName)+".")
	}
	return c, err
}

// Add validates and registers a client. The secret of a confidential client is returned
// once; only its SHA-256 is stored (it is 256 random bits, so no slow hash is needed). A
// taken name is an apperr conflict, anything invalid an apperr bad_request saying what.
func (a *Admin) Add(ctx context.Context, nc NewClient, m audit.Meta) (*RegisteredClient, error) {
	if err := validateClient(&nc); err != nil {
		return nil, err
	}
	id, err := newClientID()
	if err != nil {
		return nil, err
	}
	now := a.now()
	c := &store.OIDCClient{
		ID: id, Name: nc.Name, Public: nc.Public, FirstParty: nc.FirstParty,
		RedirectURIs: nc.RedirectURIs, PostLogoutRedirectURIs: nc.PostLogoutRedirectURIs,
		IDTokenAlg: nc.IDTokenAlg, CreatedAt: now,
	}
	var secret string
	if !nc.Public {
		if secret, err = newClientSecret(); err != nil {
			return nil, err
		}
		c.SecretHash = hashSecret(secret)
	}
	err = a.st.WithTx(ctx, func(tx store.Store) error {
		if err := tx.CreateOIDCClient(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, EventClientAdded, "", m, describeClient(c))
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, nameTaken(nc.Name)
	}
	if err != nil {
		return nil, err
	}
	return &RegisteredClient{Client: c, Secret: secret}, nil
}

func nameTaken(name string) error {
	return apperr.Msg(apperr.CodeConflict, "err.client.name_taken", "Name", apperr.Quote(name)).In("name")
}

// ClientChange is an edit of a client: nil fields stay as they are. A client's kind
// (confidential or public) never changes: register a new client instead.
type ClientChange struct {
	Name                   *string
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	FirstParty             *bool
	IDTokenAlg             *string
}

// Update applies ch to the client with the client_id, validated as a new client is, and
// returns the client as stored. The client's grants and tokens stay: a redirect URI or
// the consent rule applies from the next authorization on. ErrNoSuchClient for an unknown
// client, apperr bad_request or conflict for an invalid change.
func (a *Admin) Update(ctx context.Context, id string, ch ClientChange, m audit.Meta) (*store.OIDCClient, error) {
	var out *store.OIDCClient
	err := a.st.WithTx(ctx, func(tx store.Store) error {
		c, err := tx.GetOIDCClient(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoSuchClient
		} else if err != nil {
			return err
		}
		nc := NewClient{Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			Public: c.Public, FirstParty: c.FirstParty, IDTokenAlg: c.IDTokenAlg}
		if ch.Name != nil {
			nc.Name = *ch.Name
		}
		if ch.RedirectURIs != nil {
			nc.RedirectURIs = *ch.RedirectURIs
		}
		if ch.PostLogoutRedirectURIs != nil {
			nc.PostLogoutRedirectURIs = *ch.PostLogoutRedirectURIs
		}
		if ch.FirstParty != nil {
			nc.FirstParty = *ch.FirstParty
		}
		if ch.IDTokenAlg != nil {
			nc.IDTokenAlg = strings.ToUpper(*ch.IDTokenAlg)
		}
		if err := validateClient(&nc); err != nil {
			return err
		}
		next := *c
		next.Name, next.RedirectURIs, next.PostLogoutRedirectURIs = nc.Name, nc.RedirectURIs, nc.PostLogoutRedirectURIs
		next.FirstParty, next.IDTokenAlg = nc.FirstParty, nc.IDTokenAlg
		changed := changedFields(c, &next)
		if len(changed) == 0 {
			out = c
			return nil
		}
		if err := tx.UpdateOIDCClient(ctx, &next); errors.Is(err, store.ErrConflict) {
			return nameTaken(nc.Name)
		} else if err != nil {
			return err
		}
		out = &next
		return audit.Record(ctx, tx, a.now(), EventClientChanged, "", m,
			describeClient(&next)+": "+strings.Join(changed, ", ")+" changed")
	})
	return out, err
}

// changedFields names the settings in which next differs from c, as the API calls them.
func changedFields(c, next *store.OIDCClient) []string {
	var out []string
	if c.Name != next.Name {
		out = append(out, "name")
	}
	if !slices.Equal(c.RedirectURIs, next.RedirectURIs) {
		out = append(out, "redirect_uris")
	}
	if !slices.Equal(c.PostLogoutRedirectURIs, next.PostLogoutRedirectURIs) {
		out = append(out, "post_logout_redirect_uris")
	}
	if c.FirstParty != next.FirstParty {
		out = append(out, "first_party")
	}
	if c.IDTokenAlg != next.IDTokenAlg {
		out = append(out, "id_token_signed_response_alg")
	}
	return out
}

// ErrPublicClientSecret answers a secret rotation of a public client, which has none.
var ErrPublicClientSecret = apperr.Msg(apperr.CodeConflict, "err.client.public_secret")

// RotateSecret gives a confidential client a new secret and returns it: the only time it
// exists in clear. The old secret stops working at once; tokens already issued stay, but
// refreshing them needs the new secret. ErrNoSuchClient for an unknown client,
// ErrPublicClientSecret for a public one.
func (a *Admin) RotateSecret(ctx context.Context, id string, m audit.Meta) (*RegisteredClient, error) {
	secret, err := newClientSecret()
	if err != nil {
		return nil, err
	}
	var out *store.OIDCClient
	err = a.st.WithTx(ctx, func(tx store.Store) error {
		c, err := tx.GetOIDCClient(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoSuchClient
		} else if err != nil {
			return err
		}
		if c.Public {
			return ErrPublicClientSecret
		}
		c.SecretHash = hashSecret(secret)
		if err := tx.UpdateOIDCClient(ctx, c); err != nil {
			return err
		}
		out = c
		return audit.Record(ctx, tx, a.now(), EventClientSecretRotated, "", m, describeClient(c))
	})
	if err != nil {
		return nil, err
	}
	return &RegisteredClient{Client: out, Secret: secret}, nil
}

// Remove deletes the client with the client_id and, with it, every authorization
// request, consent, grant and token issued to it: they stop working at once.
// ErrNoSuchClient for an unknown client.
func (a *Admin) Remove(ctx context.Context, id string, m audit.Meta) (*store.OIDCClient, error) {
	var out *store.OIDCClient
	err := a.st.WithTx(ctx, func(tx store.Store) error {
		c, err := tx.GetOIDCClient(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoSuchClient
		} else if err != nil {
			return err
		}
		if err := tx.DeleteOIDCClient(ctx, c.ID); err != nil {
			return err
		}
		out = c
		return audit.Record(ctx, tx, a.now(), EventClientRemoved, "", m, describeClient(c))
	})
	return out, err
}

// SigningKeys returns the keys published in the JWKS (making the ES256 key when there is
// none yet): first the current ones (RetiredAt
// zero), which sign, by algorithm; then the retired ones, which stay published until their
// ExpiresAt so that tokens they signed can still be verified, the last to go first.
func (a *Admin) SigningKeys(ctx context.Context) ([]store.OIDCSigningKey, error) {
	// The JWKS always holds an ES256 key (the provider makes one when it first needs it):
	// so does this list.
	if _, err := a.signing.current(ctx, AlgES256); err != nil {
		return nil, err
	}
	keys, err := a.st.ListOIDCSigningKeys(ctx, a.now())
	if err != nil {
		return nil, err
	}
	for i := range keys {
		keys[i].PrivateEnc = nil // nobody outside the keyring needs even the sealed key
	}
	slices.SortStableFunc(keys, func(x, y store.OIDCSigningKey) int {
		if c := cmp.Compare(boolInt(!x.RetiredAt.IsZero()), boolInt(!y.RetiredAt.IsZero())); c != 0 {
			return c
		}
		if x.RetiredAt.IsZero() {
			return strings.Compare(x.Alg, y.Alg)
		}
		return y.ExpiresAt.Compare(x.ExpiresAt)
	})
	return keys, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// KeyRetention is how long a replaced key stays published when RotateKeys is given no
// duration: DefaultKeyRetention, or the shortest retention RotateKeys accepts when that
// is longer.
func (a *Admin) KeyRetention() time.Duration {
	return max(DefaultKeyRetention, a.minRetention())
}

// minRetention is the shortest time a replaced key stays published: as long as an ID
// token lives, after the last one an instance may still sign with it (KeyCacheTime).
func (a *Admin) minRetention() time.Duration { return a.idTokenTTL + KeyCacheTime }

// RotateKeys gives every algorithm in use (ES256 always) a new current key; the keys
// they replace stay published for keep (zero: KeyRetention), which may not be shorter
// than ID tokens live plus KeyCacheTime (apperr bad_request). The new keys sign from the
// next token on in this process (a provider made with Options.Admin set to a), on other
// instances within KeyCacheTime.
func (a *Admin) RotateKeys(ctx context.Context, keep time.Duration, m audit.Meta) ([]RotatedKey, error) {
	if keep == 0 {
		keep = a.KeyRetention()
	}
	if keep < a.minRetention() {
		return nil, apperr.New(apperr.CodeBadRequest, fmt.Sprintf(
			"Keeping the previous key %s is too short: keep it at least %s, as long as ID tokens live and other instances may still sign with it.",
			keep, a.minRetention()))
	}
	return a.signing.rotate(ctx, keep, func(st store.Store, keys []RotatedKey) error {
		return audit.Record(ctx, st, a.now(), EventKeysRotated, "", m,
			fmt.Sprintf("%d new keys, previous kept %s", len(keys), keep))
	})
}

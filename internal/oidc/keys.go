package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
)

// Signature algorithms of ID tokens. ES256 is the default; RS256 is for clients whose
// libraries know nothing else.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// ValidAlg reports whether alg is a signature algorithm twofold signs ID tokens with.
func ValidAlg(alg string) bool { return alg == AlgES256 || alg == AlgRS256 }

// DefaultKeyRetention is how long a replaced signing key stays in the JWKS: longer than any
// token it signed lives, so relying parties can still verify those.
const DefaultKeyRetention = 24 * time.Hour

// keyPurpose names the master key's sub-key that seals signing keys.
const keyPurpose = "oidc-signing-key"

// KeyCacheTime is how long an instance signs with the current keys it last read from the
// store. A rotation through the instance's own Admin takes effect at once; one on another
// instance, or by `twofold keys rotate`, within this time. The JWKS is always read from the
// store, so it lists a new key as soon as it exists, and a replaced key stays published
// for at least the ID token lifetime plus this time (Admin.RotateKeys), so every token an
// instance may still sign with it verifies.
const KeyCacheTime = time.Minute

// keyring manages the signing keys in the store. Every instance reads the same keys; parsed
// private keys are cached by key id, which never changes its key, and the current key of
// each algorithm for KeyCacheTime.
type keyring struct {
	store keyStore
	box   *secrets.Box
	now   func() time.Time

	mu     sync.Mutex
	parsed map[string]crypto.Signer

	// listMu guards the current keys, read from the store at loaded; one request at a
	// time reads them again once they are older than KeyCacheTime.
	listMu  sync.Mutex
	signing map[string]*signingKey // by algorithm
	loaded  time.Time
}

// keyStore is the storage of the keyring.
type keyStore interface {
	WithTx(ctx context.Context, fn func(store.Store) error) error
	ListOIDCSigningKeys(ctx context.Context, now time.Time) ([]store.OIDCSigningKey, error)
	CreateOIDCSigningKey(ctx context.Context, k *store.OIDCSigningKey) error
}

func newKeyring(st keyStore, kr *secrets.Keyring, now func() time.Time) *keyring {
	return &keyring{store: st, box: kr.Box(keyPurpose), now: now, parsed: map[string]crypto.Signer{}}
}

// signingKey is a private key the op package signs with.
type signingKey struct {
	id     string
	alg    jose.SignatureAlgorithm
	signer crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.signer }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a key published in the JWKS.
type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.PublicKey
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

// current returns the key that signs for alg, creating it when there is none yet. When
// several instances create one at once, the store keeps one and the others use it. The
// answer comes from memory while the keys read last are younger than KeyCacheTime.
func (r *keyring) current(ctx context.Context, alg string) (*signingKey, error) {
	r.listMu.Lock()
	defer r.listMu.Unlock()
	if k := r.signing[alg]; k != nil && r.fresh(r.now()) {
		return k, nil
	}
	for attempt := 0; attempt < 3; attempt++ {
		if err := r.load(ctx); err != nil {
			return nil, err
		}
		if k := r.signing[alg]; k != nil {
			return k, nil
		}
		if _, err := r.create(ctx, r.store, alg); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("oidc: no current %s signing key", alg)
}

// fresh reports whether the current keys read last may still be used at now.
func (r *keyring) fresh(now time.Time) bool {
	return !r.loaded.IsZero() && !now.Before(r.loaded) && now.Sub(r.loaded) < KeyCacheTime
}

// load reads the current keys from the store; r.listMu is held.
func (r *keyring) load(ctx context.Context) error {
	now := r.now()
	keys, err := r.store.ListOIDCSigningKeys(ctx, now)
	if err != nil {
		return err
	}
	signing := map[string]*signingKey{}
	for _, k := range keys {
		if !k.RetiredAt.IsZero() || signing[k.Alg] != nil {
			continue
		}
		sk, err := r.open(&k)
		if err != nil {
			return err
		}
		signing[k.Alg] = sk
	}
	r.signing, r.loaded = signing, now
	return nil
}

// forget drops the current keys from memory: the next signature reads them again.
func (r *keyring) forget() {
	r.listMu.Lock()
	r.signing, r.loaded = nil, time.Time{}
	r.listMu.Unlock()
}

// publicKeys returns every published key, making sure an ES256 key exists. It reads them
// from the store every time: the JWKS lists a key another instance made at once.
func (r *keyring) publicKeys(ctx context.Context) ([]*publicKey, error) {
	keys, err := r.store.ListOIDCSigningKeys(ctx, r.now())
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(keys, func(k store.OIDCSigningKey) bool { return k.Alg == AlgES256 && k.RetiredAt.IsZero() }) {
		r.forget()
		if _, err := r.current(ctx, AlgES256); err != nil {
			return nil, err
		}
		if keys, err = r.store.ListOIDCSigningKeys(ctx, r.now()); err != nil {
			return nil, err
		}
	}
	out := make([]*publicKey, 0, len(keys))
	for _, k := range keys {
		sk, err := r.open(&k)
		if err != nil {
			return nil, err
		}
		out = append(out, &publicKey{id: sk.id, alg: sk.alg, key: sk.signer.Public()})
	}
	return out, nil
}

// create generates a current key for alg and stores it through st.
func (r *keyring) create(ctx context.Context, st keyStore, alg string) (*store.OIDCSigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("oidc: unknown signature algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	kid := base64.RawURLEncoding.EncodeToString(id)
	sealed, err := r.box.Seal(der, signingKeyData(kid, alg))
	if err != nil {
		return nil, err
	}
	k := &store.OIDCSigningKey{ID: kid, Alg: alg, PrivateEnc: sealed, CreatedAt: r.now()}
	if err := st.CreateOIDCSigningKey(ctx, k); err != nil {
		return nil, err
	}
	return k, nil
}

// OpensSigningKey reports whether keys, a master key's keyring, opens the stored signing
// key k (app.KeyOpens: a key that opens none of a database's sealed data is not its own).
func OpensSigningKey(keys *secrets.Keyring, k *store.OIDCSigningKey) bool {
	_, err := keys.Box(keyPurpose).Open(k.PrivateEnc, signingKeyData(k.ID, k.Alg))
	return err == nil
}

// signingKeyData is the additional data a signing key is sealed with: its id and algorithm.
func signingKeyData(kid, alg string) []byte { return []byte(kid + "/" + alg) }

// open decrypts and parses a stored key (cached by id).
func (r *keyring) open(k *store.OIDCSigningKey) (*signingKey, error) {
	r.mu.Lock()
	signer, ok := r.parsed[k.ID]
	r.mu.Unlock()
	if !ok {
		der, err := r.box.Open(k.PrivateEnc, signingKeyData(k.ID, k.Alg))
		if err != nil {
			return nil, fmt.Errorf("open signing key %s (is this the master key the key was made with?): %w", k.ID, err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("parse signing key %s: %w", k.ID, err)
		}
		if signer, ok = parsed.(crypto.Signer); !ok {
			return nil, fmt.Errorf("signing key %s is not a signer", k.ID)
		}
		r.mu.Lock()
		r.parsed[k.ID] = signer
		r.mu.Unlock()
	}
	return &signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Alg), signer: signer}, nil
}

// RotatedKey describes a key that a rotation created.
type RotatedKey struct {
	ID, Alg         string
	PreviousExpires time.Time // when the key it replaced leaves the JWKS; zero when there was none
}

// rotate gives every algorithm in use (ES256 always) a new current key, in one
// transaction that done ends (writing the audit row); the keys they replace stay
// published for keep. This keyring signs with the new keys from the next token on.
func (r *keyring) rotate(ctx context.Context, keep time.Duration, done func(store.Store, []RotatedKey) error) ([]RotatedKey, error) {
	var out []RotatedKey
	defer r.forget()
	err := r.store.WithTx(ctx, func(st store.Store) error {
		out = out[:0]
		now := r.now()
		keys, err := st.ListOIDCSigningKeys(ctx, now)
		if err != nil {
			return err
		}
		algs := []string{AlgES256}
		if slices.ContainsFunc(keys, func(k store.OIDCSigningKey) bool { return k.Alg == AlgRS256 }) {
			algs = append(algs, AlgRS256)
		}
		for _, alg := range algs {
			n, err := st.RetireOIDCSigningKeys(ctx, alg, now, now.Add(keep))
			if err != nil {
				return err
			}
			k, err := r.create(ctx, st, alg)
			if err != nil {
				return err
			}
			rk := RotatedKey{ID: k.ID, Alg: alg}
			if n > 0 {
				rk.PreviousExpires = now.Add(keep)
			}
			out = append(out, rk)
		}
		return done(st, out)
	})
	return out, err
}

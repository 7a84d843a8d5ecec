package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// ErrDecrypt is returned by Box.Open for any ciphertext that does not open:
// wrong key or purpose, wrong additional data, tampering, truncation.
var ErrDecrypt = errors.New("secrets: cannot decrypt")

// Keyring derives purpose-bound sub-keys from the master key, so that a key
// used for one purpose (say, TOTP secrets) is useless for another (say,
// recovery code HMACs). A Keyring is safe for concurrent use.
type Keyring struct {
	master []byte
}

// NewKeyring returns a Keyring over a copy of master, which must be KeySize
// bytes.
func NewKeyring(master []byte) (*Keyring, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("secrets: master key is %d bytes, want %d", len(master), KeySize)
	}
	return &Keyring{master: append([]byte(nil), master...)}, nil
}

// Derive returns the KeySize-byte sub-key for purpose: HKDF-SHA256 of the
// master key with no salt and info "twofold/" + purpose. The same purpose
// always gives the same key; different purposes give independent keys.
// Purposes are fixed strings in code, such as "totp-secret".
func (k *Keyring) Derive(purpose string) []byte {
	key := make([]byte, KeySize)
	r := hkdf.New(sha256.New, k.master, nil, []byte("twofold/"+purpose))
	if _, err := io.ReadFull(r, key); err != nil {
		panic("secrets: hkdf: " + err.Error()) // unreachable: 32 bytes is far below HKDF's limit
	}
	return key
}

// Box returns an AES-256-GCM Box under the sub-key for purpose.
func (k *Keyring) Box(purpose string) *Box {
	block, err := aes.NewCipher(k.Derive(purpose))
	if err != nil {
		panic("secrets: " + err.Error()) // unreachable: the key is 32 bytes
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("secrets: " + err.Error()) // unreachable for AES
	}
	return &Box{aead: aead}
}

// Box encrypts small values at rest with AES-256-GCM. A sealed value is a
// random 12-byte nonce, the ciphertext and a 16-byte tag. The additional
// data given to Seal (for example the owning user's id) is authenticated but
// not stored: Open succeeds only with the same additional data, so a value
// copied to another row does not open. A Box is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// overhead is the number of bytes Seal adds to the plaintext.
const overhead = 12 + 16

// Seal encrypts and authenticates plaintext, binding it to additionalData.
// Sealing the same plaintext twice gives different results.
func (b *Box) Seal(plaintext, additionalData []byte) ([]byte, error) {
	return b.aead.Seal(nil, nil, plaintext, additionalData), nil
}

// Open decrypts a value made by Seal with the same purpose and additional
// data. Any failure, including short or empty input, returns ErrDecrypt; Open
// never panics.
func (b *Box) Open(ciphertext, additionalData []byte) ([]byte, error) {
	if len(ciphertext) < overhead {
		return nil, ErrDecrypt
	}
	pt, err := b.aead.Open(nil, nil, ciphertext, additionalData)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Package softkey is a software WebAuthn authenticator for tests: ES256 keys, "none"
// attestation, a signature counter and the user presence and verification flags, answering
// the JSON options twofold hands out with the JSON a browser's PublicKeyCredential.toJSON()
// produces. It builds authenticator data and attestation objects itself (with a small CBOR
// encoder), so tests can also make answers no real authenticator would.
package softkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Flags of authenticator data.
const (
	FlagUP = 0x01 // user present
	FlagUV = 0x04 // user verified
	FlagBE = 0x08 // backup eligible
	FlagBS = 0x10 // backup state
	FlagAT = 0x40 // attested credential data included
)

// Errors of the authenticator.
var (
	// ErrExcluded: the options exclude a credential this authenticator holds for the RP
	// (a browser reports InvalidStateError).
	ErrExcluded = errors.New("softkey: a credential of this authenticator is excluded")
	// ErrNoCredential: no credential of this authenticator matches the options.
	ErrNoCredential = errors.New("softkey: no matching credential")
)

// Credential is a key pair the authenticator holds.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	RPID       string
	UserHandle []byte
	Resident   bool
	// Counter is the signature counter; every assertion adds one first, unless NoCounter.
	Counter   uint32
	NoCounter bool
}

// Authenticator answers creation and request options. Its fields apply to the next
// answers; tests change them to make bad ones.
type Authenticator struct {
	// Origin is the origin reported in clientDataJSON, e.g. http://localhost:8080.
	Origin string
	// RPID, when set, is hashed into authenticator data instead of the options' RP ID.
	RPID string
	// UV sets the user verified flag; NoUP clears the user present flag.
	UV, NoUP bool
	// Resident makes new credentials discoverable (passkeys) and reports credProps.rk.
	Resident bool
	// BackupEligible and BackupState set the BE and BS flags.
	BackupEligible, BackupState bool
	AAGUID                      [16]byte
	Transports                  []string
	// Type, when set, replaces clientDataJSON's type ("webauthn.create" / "webauthn.get").
	Type string
	// Creds are the credentials it holds, oldest first.
	Creds []*Credential
}

// New returns an authenticator reporting origin that verifies its user and makes passkeys.
func New(origin string) *Authenticator {
	return &Authenticator{Origin: origin, UV: true, Resident: true, Transports: []string{"internal"}}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// creationOptions is the part of PublicKeyCredentialCreationOptions the authenticator reads.
type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Exclude []struct {
		ID string `json:"id"`
	} `json:"excludeCredentials"`
}

type requestOptions struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"`
	Allow     []struct {
		ID string `json:"id"`
	} `json:"allowCredentials"`
}

// unwrap accepts {"publicKey": {...}} or the options themselves.
func unwrap(optionsJSON []byte, dst any) error {
	var w struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(optionsJSON, &w); err == nil && len(w.PublicKey) > 0 {
		optionsJSON = w.PublicKey
	}
	return json.Unmarshal(optionsJSON, dst)
}

// ClientData returns clientDataJSON for a ceremony of typ with challenge at origin.
func ClientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// AuthData builds authenticator data: the RP ID's hash, flags, counter, and (when
// attested is not nil) the attested credential data.
func AuthData(rpID string, flags byte, counter uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append([]byte{}, h[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, counter)
	if attested != nil {
		out = append(out, attested...)
	}
	return out
}

// COSEKey encodes an ES256 public key as a COSE_Key.
func COSEKey(pub *ecdsa.PublicKey) []byte {
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	x, y := raw[1:33], raw[33:65]
	b, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	out, err := b.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		panic(err)
	}
	return out
}

// AttestationObject encodes authData with a "none" attestation statement.
func AttestationObject(authData []byte) []byte {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	out, err := em.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		panic(err)
	}
	return out
}

func (a *Authenticator) flags(extra byte) byte {
	f := extra
	if !a.NoUP {
		f |= FlagUP
	}
	if a.UV {
		f |= FlagUV
	}
	if a.BackupEligible {
		f |= FlagBE
	}
	if a.BackupState {
		f |= FlagBS
	}
	return f
}

func (a *Authenticator) rpIDFor(optionsRPID string) string {
	if a.RPID != "" {
		return a.RPID
	}
	return optionsRPID
}

// Create answers creation options (navigator.credentials.create()) with a new credential:
// it returns the RegistrationResponseJSON and the credential. ErrExcluded when the options
// exclude one of its credentials.
func (a *Authenticator) Create(optionsJSON []byte) ([]byte, *Credential, error) {
	var o creationOptions
	if err := unwrap(optionsJSON, &o); err != nil {
		return nil, nil, fmt.Errorf("softkey: creation options: %w", err)
	}
	for _, ex := range o.Exclude {
		id, _ := unb64(ex.ID)
		for _, c := range a.Creds {
			if bytes.Equal(c.ID, id) && c.RPID == o.RP.ID {
				return nil, nil, ErrExcluded
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return nil, nil, err
	}
	user, err := unb64(o.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("softkey: user.id: %w", err)
	}
	c := &Credential{ID: id, Key: key, RPID: o.RP.ID, UserHandle: user, Resident: a.Resident}
	return a.CreateWith(o.Challenge, c), c, a.keep(c)
}

func (a *Authenticator) keep(c *Credential) error {
	a.Creds = append(a.Creds, c)
	return nil
}

// CreateWith answers a registration challenge with credential c (already made), without
// keeping it: for answers a test builds on purpose.
func (a *Authenticator) CreateWith(challenge string, c *Credential) []byte {
	typ := "webauthn.create"
	if a.Type != "" {
		typ = a.Type
	}
	cd := ClientData(typ, challenge, a.Origin)
	attested := append([]byte{}, a.AAGUID[:]...)
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(c.ID)))
	attested = append(attested, c.ID...)
	attested = append(attested, COSEKey(&c.Key.PublicKey)...)
	ad := AuthData(a.rpIDFor(c.RPID), a.flags(FlagAT), c.Counter, attested)
	ext := map[string]any{}
	if a.Resident {
		ext["credProps"] = map[string]any{"rk": c.Resident}
	}
	transports := a.Transports
	if transports == nil {
		transports = []string{}
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64(c.ID), "rawId": b64(c.ID), "type": "public-key",
		"authenticatorAttachment": "cross-platform",
		"response": map[string]any{
			"clientDataJSON":    b64(cd),
			"attestationObject": b64(AttestationObject(ad)),
			"transports":        transports,
		},
		"clientExtensionResults": ext,
	})
	return out
}

// Get answers request options (navigator.credentials.get()): with an allow list, the
// first of its credentials listed; without, its newest discoverable credential for the
// RP. ErrNoCredential when none matches.
func (a *Authenticator) Get(optionsJSON []byte) ([]byte, error) {
	var o requestOptions
	if err := unwrap(optionsJSON, &o); err != nil {
		return nil, fmt.Errorf("softkey: request options: %w", err)
	}
	var pick *Credential
	if len(o.Allow) > 0 {
	allowed:
		for _, al := range o.Allow {
			id, _ := unb64(al.ID)
			for _, c := range a.Creds {
				if bytes.Equal(c.ID, id) && c.RPID == o.RPID {
					pick = c
					break allowed
				}
			}
		}
	} else {
		for i := len(a.Creds) - 1; i >= 0; i-- {
			if c := a.Creds[i]; c.Resident && c.RPID == o.RPID {
				pick = c
				break
			}
		}
	}
	if pick == nil {
		return nil, ErrNoCredential
	}
	return a.GetWith(o.Challenge, pick), nil
}

// Challenge returns the challenge of creation or request options.
func Challenge(optionsJSON []byte) (string, error) {
	var o struct {
		Challenge string `json:"challenge"`
	}
	if err := unwrap(optionsJSON, &o); err != nil {
		return "", err
	}
	return o.Challenge, nil
}

// GetWith answers challenge with credential c, whatever the options allow (another
// user's key, a removed one): the counter goes up by one first unless c.NoCounter.
func (a *Authenticator) GetWith(challenge string, c *Credential) []byte {
	if !c.NoCounter {
		c.Counter++
	}
	return a.Sign(challenge, c, c.Counter)
}

// Sign answers challenge with credential c and the given counter, leaving c alone.
func (a *Authenticator) Sign(challenge string, c *Credential, counter uint32) []byte {
	typ := "webauthn.get"
	if a.Type != "" {
		typ = a.Type
	}
	cd := ClientData(typ, challenge, a.Origin)
	ad := AuthData(a.rpIDFor(c.RPID), a.flags(0), counter, nil)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...)) // ES256 signs the SHA-256 of authData || hash(clientData)
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		panic(err)
	}
	resp := map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig)}
	if c.Resident {
		resp["userHandle"] = b64(c.UserHandle)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64(c.ID), "rawId": b64(c.ID), "type": "public-key",
		"authenticatorAttachment": "cross-platform",
		"response":                resp, "clientExtensionResults": map[string]any{},
	})
	return out
}

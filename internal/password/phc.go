package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Params are the argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams are the OWASP recommendation for argon2id: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}

// Limits on parameters, for configuration and for hashes read back from storage.
// A stored hash outside them is reported as malformed and never run.
const (
	maxMemoryKiB  = 4 << 20 // 4 GiB
	maxIterations = 100

	saltLen = 16 // bytes of salt in new hashes
	keyLen  = 32 // bytes of key in new hashes

	minStoredSaltLen = 8
	maxStoredSaltLen = 64
	minStoredKeyLen  = 16
	maxStoredKeyLen  = 64

	// maxPHCLen bounds the text parsed; a well-formed hash within the limits
	// above is far shorter.
	maxPHCLen = 256

	argon2Version = 19 // 0x13, the only version argon2id computes
)

// ErrMalformedHash is returned by Verify when the stored hash is not an
// argon2id PHC string it can use: wrong algorithm, version or syntax, bad
// base64, or parameters outside the accepted limits.
var ErrMalformedHash = errors.New("password: malformed hash")

// Validate reports whether p is usable: 1 <= Iterations <= 100,
// Parallelism >= 1, and 8*Parallelism <= MemoryKiB <= 4 GiB. Verify accepts
// stored hashes within the same limits, so any valid configuration can be
// verified later.
func (p Params) Validate() error {
	switch {
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("password: argon2id iterations %d out of range 1..%d", p.Iterations, maxIterations)
	case p.Parallelism < 1:
		return errors.New("password: argon2id parallelism must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Parallelism) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("password: argon2id memory %d KiB out of range %d..%d", p.MemoryKiB, 8*uint32(p.Parallelism), maxMemoryKiB)
	}
	return nil
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

var b64 = base64.RawStdEncoding.Strict()

// encode formats the PHC string
// "$argon2id$v=19$m=<KiB>,t=<iterations>,p=<parallelism>$<salt>$<key>"
// with unpadded standard base64, as the reference implementation does.
func (h phc) encode() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC parses an argon2id PHC string. Every failure wraps
// ErrMalformedHash; the message never includes the salt or key.
func parsePHC(s string) (phc, error) {
	var h phc
	if len(s) > maxPHCLen {
		return h, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxPHCLen)
	}
	fields := strings.Split(s, "$")
	if len(fields) != 6 || fields[0] != "" {
		return h, fmt.Errorf("%w: want 5 fields separated by '$'", ErrMalformedHash)
	}
	if fields[1] != "argon2id" {
		return h, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformedHash)
	}
	if fields[2] != "v="+strconv.Itoa(argon2Version) {
		return h, fmt.Errorf("%w: version is not %d", ErrMalformedHash, argon2Version)
	}
	p, err := parseParams(fields[3])
	if err != nil {
		return h, err
	}
	salt, err := b64.DecodeString(fields[4])
	if err != nil || len(salt) < minStoredSaltLen || len(salt) > maxStoredSaltLen {
		return h, fmt.Errorf("%w: salt is not base64 of %d..%d bytes", ErrMalformedHash, minStoredSaltLen, maxStoredSaltLen)
	}
	key, err := b64.DecodeString(fields[5])
	if err != nil || len(key) < minStoredKeyLen || len(key) > maxStoredKeyLen {
		return h, fmt.Errorf("%w: hash is not base64 of %d..%d bytes", ErrMalformedHash, minStoredKeyLen, maxStoredKeyLen)
	}
	return phc{params: p, salt: salt, key: key}, nil
}

// parseParams parses "m=<uint32>,t=<uint32>,p=<uint8>" in that order and
// checks the result with Params.Validate.
func parseParams(s string) (Params, error) {
	var p Params
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return p, fmt.Errorf("%w: want parameters m,t,p", ErrMalformedHash)
	}
	var vals [3]uint64
	for i, name := range [3]string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(parts[i], name+"=")
		if !ok {
			return p, fmt.Errorf("%w: want parameters m,t,p", ErrMalformedHash)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, fmt.Errorf("%w: parameter %s is not a number in range", ErrMalformedHash, name)
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return p, fmt.Errorf("%w: parameter p is not a number in range", ErrMalformedHash)
	}
	p = Params{MemoryKiB: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2])}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, nil
}

package recovery

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Shape of a recovery code: 25 Crockford base32 characters (125 bits), shown
// as 5 groups of 5 joined by '-'.
const (
	codeLength = 25
	groupSize  = 5
	// displayLength is the length of a formatted code, 29 characters.
	displayLength = codeLength + codeLength/groupSize - 1
	// maxInput bounds what Normalize looks at, so huge input is refused
	// before any work proportional to its size.
	maxInput = 64
)

// alphabet is Crockford's base32 alphabet: digits and letters without
// I, L, O and U.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ErrMalformedCode is returned by Normalize for input that is not a recovery
// code.
var ErrMalformedCode = errors.New("recovery: malformed recovery code")

// decode maps each input byte to the canonical character it stands for, or 0
// if it is not allowed in a recovery code: lowercase is folded to uppercase,
// I and L read as 1, O as 0.
var decode = func() (t [256]byte) {
	for i := 0; i < len(alphabet); i++ {
		c := alphabet[i]
		t[c] = c
		if 'A' <= c && c <= 'Z' {
			t[c+'a'-'A'] = c
		}
	}
	for _, alias := range []struct{ from, to byte }{{'I', '1'}, {'L', '1'}, {'O', '0'}} {
		t[alias.from] = alias.to
		t[alias.from+'a'-'A'] = alias.to
	}
	return t
}()

// Generate draws a new recovery code of 125 bits from r (crypto/rand.Reader
// in production) and returns it formatted for display: 5 groups of 5
// Crockford base32 characters joined by '-', 29 characters in all. It fails
// if r cannot supply enough bytes.
func Generate(r io.Reader) (string, error) {
	// One byte per character; 256 is a multiple of 32, so keeping the low 5
	// bits gives each character a uniform value.
	var raw [codeLength]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("recovery: read random bytes: %w", err)
	}
	b := make([]byte, 0, displayLength)
	for i, v := range raw {
		if i > 0 && i%groupSize == 0 {
			b = append(b, '-')
		}
		b = append(b, alphabet[v&0x1f])
	}
	return string(b), nil
}

// Normalize returns the canonical form of a recovery code as typed by a user:
// the 25 characters uppercased, with '-' and spaces removed and the Crockford
// aliases mapped (I and L to 1, O to 0). Anything else, including input longer
// than 64 bytes, gives ErrMalformedCode.
func Normalize(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrMalformedCode
	}
	var out strings.Builder
	out.Grow(codeLength)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == ' ' {
			continue
		}
		d := decode[c]
		if d == 0 || out.Len() == codeLength {
			return "", ErrMalformedCode
		}
		out.WriteByte(d)
	}
	if out.Len() != codeLength {
		return "", ErrMalformedCode
	}
	return out.String(), nil
}

// Hasher computes the keyed hash of a recovery code that is stored in the
// database instead of the code itself.
type Hasher struct{ key []byte }

// NewHasher returns a Hasher using key, which the caller derives from the
// master key. The key is copied. NewHasher panics if key is empty: an unkeyed
// hash would be a configuration mistake, not a choice.
func NewHasher(key []byte) *Hasher {
	if len(key) == 0 {
		panic("recovery: empty hash key")
	}
	return &Hasher{key: append([]byte(nil), key...)}
}

// Hash returns HMAC-SHA256 of normalized under the Hasher's key (32 bytes).
// normalized must come from Normalize, so that every way of typing a code
// gives the same hash. Compare hashes with hmac.Equal.
func (h *Hasher) Hash(normalized string) []byte {
	mac := hmac.New(sha256.New, h.key)
	mac.Write([]byte(normalized))
	return mac.Sum(nil)
}

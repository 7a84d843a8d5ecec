package totp

import (
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// SecretSize is the size of a shared secret in bytes (160 bits).
const SecretSize = 20

// Parameters fixed by the design: every authenticator app supports them.
const (
	digits        = 6  // digits in a code
	periodSeconds = 30 // length of a time step
	skew          = 1  // steps accepted before and after the current one
)

// maxCodeInput bounds the input NormalizeCode looks at, so hostile input is
// refused before any work proportional to its size is done. It leaves room for
// generous spacing around the 6 digits.
const maxCodeInput = 32

// ErrMalformedCode is returned by NormalizeCode for anything that is not
// exactly 6 ASCII digits once spaces and a single '-' are removed.
var ErrMalformedCode = errors.New("totp: code must be 6 digits")

var b32NoPadding = base32.StdEncoding.WithPadding(base32.NoPadding)

// GenerateSecret reads SecretSize bytes from r (crypto/rand.Reader in
// production) and returns them. It fails if r cannot supply them all.
func GenerateSecret(r io.Reader) ([]byte, error) {
	secret := make([]byte, SecretSize)
	if _, err := io.ReadFull(r, secret); err != nil {
		return nil, fmt.Errorf("totp: read secret: %w", err)
	}
	return secret, nil
}

// EncodeSecret returns secret as plain uppercase base32 without padding and
// without grouping, the form users type by hand and the one key URIs carry.
func EncodeSecret(secret []byte) string {
	return b32NoPadding.EncodeToString(secret)
}

// Step returns the number of the 30-second time step t falls in,
// floor(unix / 30). Steps before 1970 are negative.
func Step(t time.Time) int64 {
	u := t.Unix()
	s := u / periodSeconds
	if u%periodSeconds < 0 {
		s--
	}
	return s
}

// Code returns the 6-digit code of secret for the given step (the HOTP
// counter). Steps are non-negative for any time since 1970; Match never
// accepts a negative one.
func Code(secret []byte, step int64) string {
	return code(secret, step, otp.DigitsSix)
}

// code returns the RFC 4226 code of secret for counter step with the given
// number of digits. The tests use it with 8 digits to check the RFC 6238
// vectors.
func code(secret []byte, step int64, n otp.Digits) string {
	c, err := hotp.GenerateCodeCustom(EncodeSecret(secret), uint64(step), hotp.ValidateOpts{
		Digits:    n,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		// The only failure is a secret that is not valid base32, and
		// EncodeSecret always produces valid base32.
		panic("totp: " + err.Error())
	}
	return c
}

// NormalizeCode removes ASCII spaces and at most one '-' from s and returns
// the 6 ASCII digits that remain. Anything else (other characters, non-ASCII
// digits, a second '-', too few or too many digits, input longer than a few
// dozen bytes) gives ErrMalformedCode.
func NormalizeCode(s string) (string, error) {
	if len(s) > maxCodeInput {
		return "", ErrMalformedCode
	}
	var out [digits]byte
	n, dashes := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
		case c == '-':
			dashes++
			if dashes > 1 {
				return "", ErrMalformedCode
			}
		case '0' <= c && c <= '9':
			if n == digits {
				return "", ErrMalformedCode
			}
			out[n] = c
			n++
		default:
			return "", ErrMalformedCode
		}
	}
	if n != digits {
		return "", ErrMalformedCode
	}
	return string(out[:]), nil
}

// Match checks code against the steps T-1, T and T+1, where T = Step(now),
// and returns the step it matched. Every candidate is computed and compared
// in constant time, so the time taken does not reveal which one matched. If
// the code matches several steps (a rare coincidence), the latest is
// returned. A malformed code gives ok=false.
//
// Match knows nothing about replay: the caller must accept the step only if
// it is greater than the last step accepted for the same secret.
func Match(secret []byte, code string, now time.Time) (step int64, ok bool) {
	normalized, err := NormalizeCode(code)
	if err != nil {
		return 0, false
	}
	input := []byte(normalized)
	t := Step(now)
	matched := 0
	for cand := t - skew; cand <= t+skew; cand++ {
		if cand < 0 {
			continue // before 1970: never valid; depends only on now, not on the code
		}
		eq := subtle.ConstantTimeCompare([]byte(Code(secret, cand)), input)
		mask := -int64(eq) // all ones if equal, zero otherwise
		step = cand&mask | step&^mask
		matched |= eq
	}
	if matched == 0 {
		return 0, false
	}
	return step, true
}

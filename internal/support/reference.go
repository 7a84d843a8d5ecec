package support

import (
	"fmt"
	"io"
	"strings"
)

// referenceAlphabet has no characters that are easy to confuse when read aloud or
// typed from a phone call: no 0/O, 1/I/L, U/V, S/5 or B/8.
const referenceAlphabet = "234679ACDEFGHJKMNPQRTWXYZ"

const referenceLen = 6

// newReference draws TF-XXXXXX from r without modulo bias.
func newReference(r io.Reader) (string, error) {
	out := make([]byte, 0, 3+referenceLen)
	out = append(out, "TF-"...)
	buf := make([]byte, 16)
	for len(out) < cap(out) {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("read random: %w", err)
		}
		for _, b := range buf {
			// 250 is the largest multiple of 25 below 256.
			if b < 250 && len(out) < cap(out) {
				out = append(out, referenceAlphabet[int(b)%len(referenceAlphabet)])
			}
		}
	}
	return string(out), nil
}

// NormalizeReference turns a reference as typed ("tf-abc234 ", "TFABC234", "abc234")
// into its stored form, and reports whether it can be one.
func NormalizeReference(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) > 16 {
		return "", false
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "TF"), "-")
	if len(s) != referenceLen {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(referenceAlphabet, s[i]) < 0 {
			return "", false
		}
	}
	return "TF-" + s, true
}

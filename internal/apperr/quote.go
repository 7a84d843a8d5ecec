package apperr

import "strconv"

// MaxQuoted is how many characters of a value Quote repeats.
const MaxQuoted = 80

// Quote returns v as a message repeats a value someone gave: in double quotes, its first
// MaxQuoted characters and "…" when it is longer, and every character that is not printable
// written as a Go escape (\x00, \u00a0, \u202e): controls, format characters such as
// direction overrides and zero-width spaces, white space other than U+0020, and bytes that
// are not UTF-8. A value so repeated can neither swell a message nor hide in it or turn the
// text around it the other way. Every message that names what was sent quotes it with Quote.
func Quote(v string) string {
	n := 0
	for i := range v {
		if n == MaxQuoted {
			return strconv.Quote(v[:i] + "…")
		}
		n++
	}
	return strconv.Quote(v)
}

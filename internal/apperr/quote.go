package apperr

import (
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// MaxQuoted is how many characters of a value Quote repeats.
const MaxQuoted = 80

// MaxQuotedPath is how many characters of a file path QuotePath repeats: PATH_MAX on Linux.
const MaxQuotedPath = 4096

// Quote returns v as a message repeats a value someone gave: in double quotes, its first
// MaxQuoted characters and "…" when it is longer, and every character that is not printable
// written as a Go escape (\x00, \u00a0, \u202e): controls, format characters such as
// direction overrides and zero-width spaces, white space other than U+0020, and bytes that
// are not UTF-8. A value so repeated can neither swell a message nor hide in it or turn the
// text around it the other way. Every message that names what was sent quotes it with Quote.
func Quote(v string) string { return quote(v, MaxQuoted) }

// QuotePath is Quote for a file path the operator gave (a flag, the configuration): cut
// only past MaxQuotedPath characters, since a path cut short names another file. Every
// message that names a file quotes it with QuotePath, so that a newline or a terminal
// escape in a file name never reaches the terminal raw.
func QuotePath(path string) string { return quote(path, MaxQuotedPath) }

// QuotePathError returns err, when it is an *fs.PathError or an *os.LinkError as the os
// package returns them, with its paths quoted by QuotePath instead of raw; errors.Is and
// errors.As still find its cause. Any other error is returned as it is: wrap the error of
// an os call with it before wrapping it further (it looks at err itself, not at what err
// wraps).
func QuotePathError(err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		return fmt.Errorf("%s %s: %w", e.Op, QuotePath(e.Path), e.Err)
	case *os.LinkError:
		return fmt.Errorf("%s %s %s: %w", e.Op, QuotePath(e.Old), QuotePath(e.New), e.Err)
	}
	return err
}

func quote(v string, max int) string {
	n := 0
	for i := range v {
		if n == max {
			return strconv.Quote(v[:i] + "…")
		}
		n++
	}
	return strconv.Quote(v)
}

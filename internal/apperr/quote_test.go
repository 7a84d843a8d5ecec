package apperr_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/twofold-id/twofold/internal/apperr"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("u", 60000)
	for _, tc := range []struct{ name, in, want string }{
		{"a short value is quoted whole", "users:read", `"users:read"`},
		{"letters of any script stay", "Café – ä", `"Café – ä"`},
		{"a long value is cut to its first characters", long, `"` + strings.Repeat("u", apperr.MaxQuoted) + `…"`},
		{"the cut counts characters, not bytes", strings.Repeat("é", 100), `"` + strings.Repeat("é", apperr.MaxQuoted) + `…"`},
		{"a direction override is escaped", "\u202e<script>", `"\u202e<script>"`},
		{"a no-break space is escaped", "https://a.example/cb\u00a0", `"https://a.example/cb\u00a0"`},
		{"a zero-width space is escaped", "a\u200bb", `"a\u200bb"`},
		{"controls are escaped", "a\x00\r\n\tb", `"a\x00\r\n\tb"`},
		{"bytes that are not UTF-8 are escaped", "a\xffb", `"a\xffb"`},
		{"quotes inside are escaped", `say "hi"`, `"say \"hi\""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := apperr.Quote(tc.in)
			if got != tc.want {
				t.Errorf("Quote = %s, want %s", got, tc.want)
			}
			if !utf8.ValidString(got) || strings.ContainsFunc(got, func(r rune) bool { return !unicode.IsPrint(r) }) {
				t.Errorf("Quote = %+q holds a character that is not printable", got)
			}
		})
	}
}

func TestQuotePath(t *testing.T) {
	long := "/" + strings.Repeat("d", 200)
	if got := apperr.QuotePath(long); got != `"`+long+`"` {
		t.Errorf("QuotePath cut a path of %d characters: %s", len(long), got)
	}
	if got, want := apperr.QuotePath("/tmp/x\x1b[31m\n.db"), `"/tmp/x\x1b[31m\n.db"`; got != want {
		t.Errorf("QuotePath = %s, want %s", got, want)
	}
	if got := apperr.QuotePath(strings.Repeat("p", 10000)); len(got) != apperr.MaxQuotedPath+len(`"…"`) {
		t.Errorf("QuotePath of 10000 characters is %d bytes, want it cut at %d", len(got), apperr.MaxQuotedPath)
	}
}

func TestQuotePathError(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "x\x1b[31m\n")
	_, statErr := os.Stat(odd)
	renameErr := os.Rename(odd, odd+"y")
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"path error", statErr, "stat " + strconv.Quote(odd) + ": no such file or directory"},
		{"link error", renameErr, "rename " + strconv.Quote(odd) + " " + strconv.Quote(odd+"y") + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := apperr.QuotePathError(tc.err)
			if got.Error() != tc.want {
				t.Errorf("QuotePathError = %q, want %q", got, tc.want)
			}
			if !errors.Is(got, fs.ErrNotExist) {
				t.Error("the cause is lost: errors.Is(err, fs.ErrNotExist) is false")
			}
		})
	}
	t.Run("other errors are left as they are", func(t *testing.T) {
		other := errors.New("x\ny")
		if got := apperr.QuotePathError(other); got != other {
			t.Errorf("QuotePathError = %v, want the error given", got)
		}
	})
}

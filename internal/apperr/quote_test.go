package apperr_test

import (
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

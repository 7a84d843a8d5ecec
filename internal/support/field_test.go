package support

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFieldMessagesReadAsSentences: a field's English message reads as one sentence when the
// reason goes on from the field's name, and as two when the reason is a sentence of its own.
func TestFieldMessagesReadAsSentences(t *testing.T) {
	for _, tc := range []struct{ field, msg, want string }{
		{"reason", "is required.", `Field "reason" is required.`},
		{"phone", "may contain only digits, spaces and + - ( ) . /", `Field "phone" may contain only digits, spaces and + - ( ) . /`},
		{"email", "An address in brackets is not accepted.", `Field "email": An address in brackets is not accepted.`},
	} {
		if got := badField(tc.field, tc.msg, "err.field_required").Error(); got != "bad_request: "+tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestNoCaseShowsWhatWasTyped: the reference a 404 repeats shows nothing that hides (a NUL,
// a direction override), steers a terminal (an escape) or is not text, and is cut short.
// (The command-line sweep found `twofold case show` passing a terminal escape through.)
func TestNoCaseShowsWhatWasTyped(t *testing.T) {
	for _, ref := range []string{"\x00", "TF-\u202eAB", "\xff\xfe", "TF-ABCDEF\x00", "\x1b[31mTF", strings.Repeat("A", 100<<10)} {
		msg := errNoCase(ref).Error()
		if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == '\u202e' }) || !utf8.ValidString(msg) || len(msg) > 200 {
			t.Errorf("%.40q: %.300q", ref, msg)
		}
	}
	if msg := errNoCase("TF-7KQ3HX").Error(); !strings.Contains(msg, `"TF-7KQ3HX"`) {
		t.Errorf("the reference is not named: %q", msg)
	}
}

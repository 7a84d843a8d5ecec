package auth_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
)

var nameSeeds = []string{
	"alice", "ALICE", "ａｌｉｃｅ", " alice ", "alice@example.com", "Straße", "STRASSE", "ǅemal", "ﬁona",
	"İstanbul", "ΣΊΣΥΦΟΣ", "e\u0301", "\u212b", "a\u0000b", "\xff\xfe", "", "   ", strings.Repeat("x", 65),
	"x\u200by", "١٢٣", "bob.smith_2-x", "😀", "\u0130", "K\u212a", "\u0430lice", "r\u03bfot", "1\u0661", ".", "-_",
	"山田たろう", "taro山田", "\u0251dmin", "\u01a6oot", "bob\u3164",
}

// FuzzNormalizeLogin checks the lookup key every sign-in computes: it never panics, is
// stable (normalising a key again gives the same key), and keeps valid text valid.
func FuzzNormalizeLogin(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := auth.NormalizeLogin(s)
		if utf8.ValidString(s) && !utf8.ValidString(k) {
			t.Fatalf("NormalizeLogin(%q) = %q is not valid UTF-8", s, k)
		}
		if again := auth.NormalizeLogin(k); again != k {
			t.Fatalf("NormalizeLogin is not stable: %q -> %q -> %q", s, k, again)
		}
	})
}

// FuzzValidateUsername checks that whatever is typed as a new username is either refused
// with a reason (a bad_request) or accepted in a form that signs in: 1 to 64 letters,
// digits, '.', '_' and '-', at least one a letter or digit, none that shows nothing or that
// ordinary writing does not use, never '@', whose lookup key is the one sign-in computes.
func FuzzValidateUsername(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		display, norm, err := auth.ValidateUsername(s)
		if err != nil {
			if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeBadRequest || e.Message == "" {
				t.Fatalf("ValidateUsername(%q) = %v, want a bad_request with a reason", s, err)
			}
			return
		}
		if !utf8.ValidString(display) || display == "" || utf8.RuneCountInString(display) > 64 {
			t.Fatalf("ValidateUsername(%q) accepted %q", s, display)
		}
		for _, r := range display {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != '-' {
				t.Fatalf("ValidateUsername(%q) accepted %q with %q", s, display, r)
			}
			if unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) {
				t.Fatalf("ValidateUsername(%q) accepted %q with %U, which shows nothing", s, display, r)
			}
		}
		for _, r := range display + norm {
			if unicode.Is(auth.NotRecommended, r) {
				t.Fatalf("ValidateUsername(%q) accepted %q (key %q) with %U, which ordinary writing does not use", s, display, norm, r)
			}
		}
		if !strings.ContainsFunc(display, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			t.Fatalf("ValidateUsername(%q) accepted %q, which has no letter or digit", s, display)
		}
		if norm != auth.NormalizeLogin(s) || norm != auth.NormalizeLogin(display) {
			t.Fatalf("ValidateUsername(%q) key %q, but signing in as %q or %q looks up %q / %q",
				s, norm, s, display, auth.NormalizeLogin(s), auth.NormalizeLogin(display))
		}
		if strings.Contains(norm, "@") {
			t.Fatalf("ValidateUsername(%q) key %q holds '@', reserved for e-mail", s, norm)
		}
		if d2, n2, err := auth.ValidateUsername(display); err != nil || d2 != display || n2 != norm {
			t.Fatalf("ValidateUsername is not stable on %q: %q %q %v", display, d2, n2, err)
		}
	})
}

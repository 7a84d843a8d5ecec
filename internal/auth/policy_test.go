package auth_test

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

func TestMFARequired(t *testing.T) {
	tests := []struct {
		name     string
		policy   string
		role     string
		override string
		want     bool
	}{
		{"all requires every role", "all", store.RoleUser, "", true},
		{"none requires nobody", "none", store.RoleAdmin, "", false},
		{"listed role is required", "admin,support", store.RoleSupport, "", true},
		{"unlisted role is not required", "admin,support", store.RoleUser, "", false},
		{"override yes beats none", "none", store.RoleUser, store.MFAOverrideYes, true},
		{"override no beats all", "all", store.RoleAdmin, store.MFAOverrideNo, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			policy := config.ParseMFARequired(tc.policy)
			srv := testserver.New(t, testserver.Options{MFARequiredForRole: policy.RequiredFor})
			u := srv.CreateUser(t, "alice", "alice@example.com", tc.role)
			ctx := context.Background()
			if err := srv.Auth.SetMFAOverride(ctx, u, tc.override, auth.Meta{}); err != nil {
				t.Fatal(err)
			}
			u, err := srv.Store.GetUser(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.Auth.MFARequired(&u.Account); got != tc.want {
				t.Fatalf("MFARequired = %v, want %v", got, tc.want)
			}
			// The policy decides the state after the password step.
			res, err := srv.Auth.Login(ctx, "alice", testserver.Password, auth.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			wantState := store.StateAuthenticated
			if tc.want {
				wantState = store.StateEnrollmentRequired
			}
			if res.Current.Session.State != wantState {
				t.Fatalf("state after password = %s, want %s", res.Current.Session.State, wantState)
			}
		})
	}
}

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		in, wantNorm string
		ok           bool
	}{
		{"alice", "alice", true},
		{"  Alice ", "alice", true},
		{"ａｌｉｃｅ", "alice", true}, // fullwidth folds to ASCII under NFKC
		{"ALICE.b_c-d", "alice.b_c-d", true},
		{"", "", false},
		{"a b", "", false},
		{"alice@example.com", "", false}, // '@' is reserved for e-mail sign-in
		{"<script>", "", false},
		{string(make([]byte, 65)), "", false},
		{"ßtraße", "sstrasse", true}, // case folding, not just lower-casing
	}
	for _, tc := range tests {
		_, norm, err := auth.ValidateUsername(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateUsername(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && norm != tc.wantNorm {
			t.Errorf("ValidateUsername(%q) norm = %q, want %q", tc.in, norm, tc.wantNorm)
		}
	}
}

// TestValidateUsernameRefusesLookAlikes: a new name whose letters and digits mix scripts
// could pass for another account's ("аlice" with a Cyrillic "а"), so could one with a letter
// ordinary writing does not use ("ɑdmin" with a phonetic "ɑ", "ᴀdmin" with a small capital,
// "adminǃ" with a click letter), and a name without a letter or digit names nobody; all are
// refused with the reason, on the username field. Scripts written together (Japanese,
// Chinese, Korean, each with Latin) and the letters of ordinary writing stay allowed.
func TestValidateUsernameRefusesLookAlikes(t *testing.T) {
	const mixed, empty = "mixes letters or digits of different scripts", "at least one letter or digit"
	const uncommon = "a letter that ordinary writing does not use"
	for _, tc := range []struct {
		name, in, reason string
	}{
		{"cyrillic_a_in_latin", "\u0430lice", mixed},
		{"greek_omicron_in_latin", "r\u03bfot", mixed},
		{"latin_o_in_cyrillic", "\u0432o\u0432\u0430", mixed},
		{"cyrillic_and_greek", "\u0430\u03b1", mixed},
		{"fullwidth_cyrillic_in_latin", "\uff41\u0430", mixed},
		{"arabic_indic_digit_beside_ascii", "bob1\u0661", mixed},
		{"arabic_indic_digit_in_latin", "bob\u0661", mixed},
		{"two_sets_of_digits_alone", "1\u0661", mixed},
		{"devanagari_digits_in_arabic", "\u0645\u0968", mixed},
		{"dot", ".", empty},
		{"dots", "..", empty},
		{"hyphen", "-", empty},
		{"underscore", "_", empty},
		{"punctuation_only", "._-", empty},
		// Not UTF-8: it was said to be too long.
		{"not_utf8", "\xff\xfe", "letters, digits"},
		// Zero-width joiners join nothing in a username: "a\u200db" shows as "ab".
		{"zero_width_joiner", "a\u200db", "letters, digits"},
		{"zero_width_non_joiner", "\u0639\u0644\u06cc\u200c\u0631\u0636\u0627", "letters, digits"},
		// Hangul fillers are letters that show nothing: "bob" and "bobㅤ" look alike.
		{"hangul_filler_after_latin", "bob\u3164", "letters, digits"},
		{"halfwidth_hangul_filler", "bob\uffa0", "letters, digits"},
		{"hangul_fillers_alone", "\u115f\u1160", "letters, digits"},
		{"hangul_filler_in_korean", "\uae40\u3164\ubbfc\uc900", "letters, digits"},
		{"ipa_alpha", "\u0251dmin", uncommon},
		{"ipa_script_g", "\u0261eorge", uncommon},
		{"small_capital_a", "\u1d00dmin", uncommon},
		{"small_capital_r", "\u0280oot", uncommon},
		{"capital_folding_to_small_capital_r", "\u01a6oot", uncommon},
		{"click_letters_for_bars", "\u01c0\u01c0", uncommon},
		{"click_letter_for_bang", "admin\u01c3", uncommon},
		{"modifier_apostrophe", "jo\u02bcn", uncommon},
		{"modifier_turned_comma", "jo\u02bbn", uncommon},
		{"modifier_tone_letter_for_bang", "admin\ua71d", uncommon},
		{"dotless_j", "\u0237ohn", uncommon},
		{"latin_extended_c_alpha", "\u2c6ddmin", uncommon},
		{"latin_extended_d_small_capital_s", "\ua731am", uncommon},
		{"latin_extended_e_barred_alpha", "\uab30dmin", uncommon},
		{"greek_yot", "\u03f3\u03b1\u03bd\u03b9", uncommon},
		{"cyrillic_rounded_ve", "\u1c80\u043e\u0432\u0430", uncommon},
		{"old_cyrillic_dze", "\ua645\u043e\u0432\u0430", uncommon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := auth.ValidateUsername(tc.in)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.CodeBadRequest || e.Field != "username" || !strings.Contains(e.Message, tc.reason) {
				t.Fatalf("ValidateUsername(%q) = %v, want bad_request on username saying %q", tc.in, err, tc.reason)
			}
		})
	}
	for _, in := range []string{
		"alice", "root", "bob.smith_2-x", "ßtraße", "\u0432\u043e\u0432\u0430", "\u03c1\u03bf\u03c4", // Latin, Cyrillic, Greek
		"\u0645\u062d\u0645\u062f1", "\u0645\u062d\u0645\u062f\u0661", "\u0661\u0662\u0663", "42", "a.1", // one script and one set of digits
		"\u5c71\u7530\u305f\u308d\u3046", "\u30bf\u30ed\u30fc", "taro\u5c71\u7530", // Japanese: Han, Hiragana, Katakana, Latin; "ー" is shared
		"\uae40\ubbfc\uc900", "\u91d1\ubbfc\uc900", "kim\ubbfc\uc900", // Korean: Hangul, Han, Latin
		"\u738b\u3105\u3106", // Chinese with Bopomofo

		"\u00e9lodie", "bj\u00f8rn", "stra\u00dfe", "\u0142ukasz", "\u011fokhan", "nguy\u1ec5n", "ay\u015fe", // accented Latin
		"\u0259li", "\u018fli", // Azerbaijani schwa, small and capital
		"\u03c3\u03bf\u03c6\u03af\u03b1", "\u0451\u0436\u0438\u043a", "\u0441\u0435\u0440\u0456\u0439", // Greek with tonos, Russian, Ukrainian
		"\u0639\u0644\u06cc\u0631\u0636\u0627", // Persian without the non-joiner
	} {
		if _, _, err := auth.ValidateUsername(in); err != nil {
			t.Errorf("ValidateUsername(%q) = %v, want ok", in, err)
		}
	}
	for _, in := range []string{"\u30bf\u30edk\uae40", "\u3105\u30bf"} { // Japanese with Hangul, Bopomofo with Katakana
		if _, _, err := auth.ValidateUsername(in); err == nil {
			t.Errorf("ValidateUsername(%q) accepted, want refused: no language writes these scripts together", in)
		}
	}
}

// TestDigitZero: every decimal digit Unicode has belongs to a set of ten that starts at a
// zero, the rule that tells "1" from Arabic-Indic "١" and mathematical digits apart.
func TestDigitZero(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.IsDigit(r) {
			continue
		}
		z := auth.DigitZero(r)
		for d := z; d < z+10; d++ {
			if !unicode.IsDigit(d) || auth.DigitZero(d) != z {
				t.Fatalf("%U: set of ten from %U holds %U, not a digit of that set", r, z, d)
			}
		}
		if unicode.IsDigit(z-1) && auth.DigitZero(z-1) == z {
			t.Fatalf("%U: set from %U also holds %U", r, z, z-1)
		}
	}
}

func TestValidateEmail(t *testing.T) {
	good := []string{"alice@example.com", "Alice.B+tag@Example.COM"}
	bad := []string{"", "alice", "alice@", "@example.com", "alice@example", "Alice <alice@example.com>", "a b@example.com",
		// Characters nobody can see or type would make one address look like another, and
		// U+FFFD is what AsText puts in place of bytes that are not text.
		"alice@example.com\u200b", "al\u00adice@example.com", "a\ufffd@example.com", "alice\u202e@example.com",
		"a\u2060lice@example.com"}
	for _, in := range good {
		if _, _, err := auth.ValidateEmail(in); err != nil {
			t.Errorf("ValidateEmail(%q) = %v, want ok", in, err)
		}
	}
	for _, in := range bad {
		if _, _, err := auth.ValidateEmail(in); err == nil {
			t.Errorf("ValidateEmail(%q) accepted, want refused", in)
		}
	}
}

// TestValidateEmailRefusesRoutingForms: domain literals and "%" (a relay hop) are refused
// with a reason that says so, wherever an address is accepted.
func TestValidateEmailRefusesRoutingForms(t *testing.T) {
	for _, tc := range []struct{ in, reason string }{
		{"a@[127.0.0.1]", "IP address in brackets"},
		{"a@[192.0.2.1]", "IP address in brackets"},
		{"a@[IPv6:::1]", "IP address in brackets"},
		{"a@[10.0.0.1].example.com", "IP address in brackets"},
		{"a%evil.example@example.com", "percent sign"},
		{"%@example.com", "percent sign"},
		{"a@example.com%evil.example", "percent sign"},
		{"a@%65xample.com", "percent sign"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, _, err := auth.ValidateEmail(tc.in)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.CodeBadRequest || !strings.Contains(e.Message, tc.reason) {
				t.Fatalf("ValidateEmail(%q) = %v, want bad_request saying %q", tc.in, err, tc.reason)
			}
		})
	}
}

// TestNotRecommendedTable: unicode.Is searches the table by halves, so its ranges must be in
// order and apart; and it leaves alone the letters of ordinary writing: Latin-1 and Latin
// Extended-A, modern Greek, Russian and the other Cyrillic alphabets.
func TestNotRecommendedTable(t *testing.T) {
	tab := auth.NotRecommended
	if tab.LatinOffset != 0 {
		t.Errorf("LatinOffset = %d, want 0: no range is in Latin-1", tab.LatinOffset)
	}
	last := rune(-1)
	check := func(lo, hi, stride rune) {
		if lo > hi || lo <= last || stride != 1 {
			t.Errorf("range %U..%U (stride %d) after %U: out of order, overlapping or strided", lo, hi, stride, last)
		}
		last = hi
	}
	for _, r := range tab.R16 {
		check(rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	for _, r := range tab.R32 {
		check(rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	for _, ordinary := range [][2]rune{{0, 0x17f}, {0x386, 0x3ce}, {0x400, 0x45f}, {0x48a, 0x4ff}} {
		for r := ordinary[0]; r <= ordinary[1]; r++ {
			if unicode.Is(tab, r) {
				t.Errorf("%U %c is in the table", r, r)
			}
		}
	}
}

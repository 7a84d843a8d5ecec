package password

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestPolicyCheck(t *testing.T) {
	const (
		user  = "margaret"
		email = "m.hamilton@example.org"
	)
	tests := []struct {
		name   string
		policy Policy
		pw     string
		inputs []string
		reason string // substring of the reason; "" means accepted
	}{
		{"empty", DefaultPolicy, "", nil, "Enter a password"},
		{"invalid_utf8", DefaultPolicy, "correct horse \xff battery", nil, "not valid text"},
		{"nul", DefaultPolicy, "correct horse \x00 battery", nil, "not valid text"},
		{"too short", DefaultPolicy, "x7#Qm9!", nil, "at least 12 characters"},
		{"11 characters is too short", DefaultPolicy, "Zq8#vW2!pL0", nil, "at least 12 characters"},
		{"length counts code points not bytes", DefaultPolicy, "ñçüéåøßæðþ", nil, "at least 12 characters"},
		{"length counts after NFKC", DefaultPolicy, "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301", nil, "at least 12 characters"},
		{"configured minimum", Policy{MinLength: 20, MaxLength: 1024}, "violet anchor pumpkin", nil, ""},
		{"below configured minimum", Policy{MinLength: 20, MaxLength: 1024}, "violet anchor pump", nil, "at least 20 characters"},
		{"too long", DefaultPolicy, strings.Repeat("violet anchor ", 74), nil, "at most 1024 characters"},
		{"megabyte is too long", DefaultPolicy, strings.Repeat("x", 1<<20), nil, "at most 1024 characters"},
		{"1024 characters accepted", DefaultPolicy, strings.Repeat("violet anchor pumpkin ", 47)[:1024], nil, ""},
		{"128 characters under a 128 maximum", Policy{MinLength: 12, MaxLength: 128}, strings.Repeat("violet anchor pumpkin ", 6)[:128], nil, ""},
		{"zero policy uses defaults", Policy{}, "short", nil, "at least 12 characters"},
		{"contains username", DefaultPolicy, "xq7!Margaret-Vz9#", []string{user, email}, "must not contain your username"},
		{"contains e-mail local part", DefaultPolicy, "Zp4!m.hamilton?Wk", []string{user, email}, "must not contain your e-mail address"},
		{"contains whole e-mail", DefaultPolicy, "m.hamilton@example.org!", []string{user, email}, "must not contain your e-mail address"},
		{"username given as e-mail", DefaultPolicy, "Zp4!m.hamilton?Wk", []string{email}, "must not contain your e-mail address"},
		{"short username is not checked", DefaultPolicy, "violet al anchor pumpkin", []string{"al"}, ""},
		{"contains fullwidth username", DefaultPolicy, "xq7!ｍａｒｇａｒｅｔ-Vz9#", []string{user}, "must not contain your username"},
		{"common password 'password123456'", DefaultPolicy, "password123456", nil, "too common"},
		{"common password 'qwertyuiopasdf'", DefaultPolicy, "qwertyuiopasdf", nil, "too common"},
		{"repeated characters", DefaultPolicy, "aaaaaaaaaaaaaaaa", nil, "too common"},
		{"sequence", DefaultPolicy, "abcdefghijklmnop", nil, "too common"},
		{"leet common password", DefaultPolicy, "P@ssw0rd123456", nil, "too common"},
		{"guessable from username", DefaultPolicy, "margare7margare7", []string{user}, "too common"},
		{"weak prefix of a long password", DefaultPolicy, strings.Repeat("a", 100) + "violet anchor pumpkin", nil, "too common"},
		{"passphrase accepted", DefaultPolicy, "violet anchor pumpkin", nil, ""},
		{"passphrase with user inputs accepted", DefaultPolicy, "correct horse battery staple", []string{user, email}, ""},
		{"random password accepted", DefaultPolicy, "k9#Tq2!vXw7@Lm", nil, ""},
		{"no composition rules", DefaultPolicy, "lowercase only words here", nil, ""},
		{"non-Latin passphrase accepted", DefaultPolicy, "ночь улица фонарь аптека", nil, ""},
		{"ligatures are normalised", DefaultPolicy, "ﬁve ﬂuﬀy violets", nil, ""},
		{"8 characters meet a minimum of 8, then strength decides", Policy{MinLength: 8}, "k9#Tq2!v", nil, "too common"},
		{"7 characters under a minimum of 8", Policy{MinLength: 8}, "k9#Tq2!", nil, "at least 8 characters"},
		{"strong 10 characters under a minimum of 8", Policy{MinLength: 8}, "k9#Tq2!vXw", nil, ""},
		{"a configured minimum below 8 counts as 8", Policy{MinLength: 4}, "k9#Tq2!", nil, "at least 8 characters"},
		{"a configured maximum below 128 counts as 128", Policy{MinLength: 12, MaxLength: 64}, strings.Repeat("violet anchor pumpkin ", 6)[:128], nil, ""},
		{"129 characters over a maximum of 128", Policy{MinLength: 12, MaxLength: 128}, strings.Repeat("violet anchor pumpkin ", 6)[:129], nil, "at most 128 characters"},
		{"whole e-mail with a local part too short to check alone", DefaultPolicy, "violet al@example.org anchor", []string{"al", "al@example.org"}, "must not contain your e-mail address"},
		{"e-mail in other case and width", DefaultPolicy, "violet ＡＬ@Example.ORG anchor", []string{"al@example.org"}, "must not contain your e-mail address"},
		{"password equal to the username", DefaultPolicy, "margaret.hamilton", []string{"margaret.hamilton", email}, "must not contain your username"},
		{"spaces are not trimmed and are weak", DefaultPolicy, strings.Repeat(" ", 16), nil, "too common"},
		{"surrounding spaces count towards the length", DefaultPolicy, "  quokka#97  ", nil, ""},
		{"emoji passphrase accepted", DefaultPolicy, "🦊 jumps 🌙 over 🍄 twice", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.pw, tc.inputs...)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Check = %v, want accepted", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check = %v, want *PolicyError containing %q", err, tc.reason)
			}
			if !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", pe.Reason, tc.reason)
			}
			if !strings.HasSuffix(pe.Reason, ".") || strings.Contains(pe.Reason, tc.pw) && tc.pw != "" {
				t.Errorf("Reason = %q: want a sentence that does not repeat the password", pe.Reason)
			}
		})
	}
}

func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"", "password123456", "violet anchor pumpkin", "ﬁ", "\xff\xfe", "e\u0301", strings.Repeat("a", 200)} {
		f.Add(s, "margaret", "m.hamilton@example.org")
	}
	f.Fuzz(func(t *testing.T, pw, user, email string) {
		err := DefaultPolicy.Check(pw, user, email)
		if err == nil {
			n := utf8.RuneCountInString(norm.NFKC.String(pw))
			if !utf8.ValidString(pw) || n < DefaultPolicy.MinLength || n > DefaultPolicy.MaxLength {
				t.Errorf("Check(%q) accepted", pw)
			}
			return
		}
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Reason == "" {
			t.Errorf("Check(%q) = %v, want a *PolicyError with a reason", pw, err)
		}
	})
}

// BenchmarkPolicyCheck shows that long or repetitive passwords stay cheap:
// zxcvbn only ever sees the first 100 code points.
func BenchmarkPolicyCheck(b *testing.B) {
	cases := map[string]string{
		"passphrase":     "violet anchor pumpkin",
		"1024_mixed":     strings.Repeat("Pa55word1!", 103)[:1024],
		"1024_digits":    strings.Repeat("1", 1024),
		"1024_words":     strings.Repeat("password", 128),
		"1024_multibyte": strings.Repeat("ночь", 256),
		"100_dates":      strings.Repeat("19851231", 13)[:100],
		"100_keyboard":   strings.Repeat("qwertyuiop[]asdfghjkl;'zxcvbnm,./", 4)[:100],
	}
	for name, pw := range cases {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = DefaultPolicy.Check(pw, "margaret", "m.hamilton@example.org")
			}
		})
	}
}

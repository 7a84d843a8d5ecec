package password

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/twofold-id/twofold/internal/password/zxcvbn"
	"golang.org/x/text/unicode/norm"
)

// Policy says which new passwords are acceptable. Lengths count Unicode code
// points after NFKC normalisation. A zero field takes its DefaultPolicy value;
// a minimum below 8 counts as 8 and a maximum below 128 as 128 (NIST SP
// 800-63B 5.1.1.2). There are no composition rules.
type Policy struct {
	MinLength int // default 12; configuration never allows less than 8
	MaxLength int // default 1024; configuration never allows less than 128
}

// DefaultPolicy is the policy used when nothing is configured.
var DefaultPolicy = Policy{MinLength: 12, MaxLength: 1024}

// PolicyError says why a password was refused. Reason is a sentence safe to
// show to the user, in English; Key and Args name the same sentence in the
// message catalog (internal/i18n), for pages in other languages.
type PolicyError struct {
	Reason string
	Key    string
	Args   []any
}

func (e *PolicyError) Error() string { return "password: " + e.Reason }

const (
	// zxcvbnMaxRunes bounds the prefix given to zxcvbn, whose cost grows
	// quickly with length; a strong prefix makes a strong password.
	zxcvbnMaxRunes = 100
	// zxcvbnMinScore is the lowest acceptable zxcvbn score (0..4):
	// 3 means "safely unguessable", about 10^10 guesses.
	zxcvbnMinScore = 3
	// minPersonalLen is the shortest username or e-mail local part that a
	// password is forbidden to contain.
	minPersonalLen = 3
	// floorMinLength and floorMaxLength bound what a configuration may ask for:
	// never fewer than 8 characters required, never fewer than 128 accepted.
	floorMinLength = 8
	floorMaxLength = 128
)

// Check returns nil if password is acceptable and a *PolicyError otherwise.
// userInputs are personal strings the password must not be built on, such as
// the username and the e-mail address; for an e-mail address only its local
// part is checked for containment.
//
// The rules, in order: not empty; valid UTF-8; at least MinLength and at most
// MaxLength code points after NFKC; not containing a whole e-mail address, nor
// a username or e-mail local part of 3 or more code points (ignoring case);
// and not common or
// guessable (a zxcvbn score of at least 3, judged on the first 100 code
// points).
func (p Policy) Check(password string, userInputs ...string) error {
	minLen, maxLen := p.MinLength, p.MaxLength
	if minLen <= 0 {
		minLen = DefaultPolicy.MinLength
	}
	if maxLen <= 0 {
		maxLen = DefaultPolicy.MaxLength
	}
	minLen, maxLen = max(minLen, floorMinLength), max(maxLen, floorMaxLength)

	if password == "" {
		return &PolicyError{Reason: "Enter a password.", Key: "err.password_empty_new"}
	}
	if !utf8.ValidString(password) || strings.IndexByte(password, 0) >= 0 {
		return &PolicyError{Reason: "The password contains bytes that are not valid text; use ordinary characters.", Key: "err.password_not_text"}
	}
	// NFKC never shrinks text by more than a few code points per character,
	// so a huge input is refused before spending time normalising it.
	if len(password) > 64*maxLen {
		return tooLong(maxLen)
	}
	pw := norm.NFKC.String(password)
	n := utf8.RuneCountInString(pw)
	if n < minLen {
		return &PolicyError{Reason: fmt.Sprintf("The password must be at least %d characters long.", minLen), Key: "err.password_short", Args: []any{"Min", minLen}}
	}
	if n > maxLen {
		return tooLong(maxLen)
	}

	lower := strings.ToLower(pw)
	hints := make([]string, 0, len(userInputs)+1)
	for _, in := range userInputs {
		in = norm.NFKC.String(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		hints = append(hints, in)
		part, what, key := in, "your username", "err.password_has_username"
		if i := strings.LastIndexByte(in, '@'); i >= 0 {
			part, what, key = in[:i], "your e-mail address", "err.password_has_email"
			if part != "" {
				hints = append(hints, part)
			}
			// The whole address, even when its local part is too short to check alone.
			if strings.Contains(lower, strings.ToLower(in)) {
				return &PolicyError{Reason: fmt.Sprintf("The password must not contain %s.", what), Key: key}
			}
		}
		if utf8.RuneCountInString(part) >= minPersonalLen && strings.Contains(lower, strings.ToLower(part)) {
			return &PolicyError{Reason: fmt.Sprintf("The password must not contain %s.", what), Key: key}
		}
	}

	if zxcvbn.PasswordStrength(firstRunes(pw, zxcvbnMaxRunes), hints).Score < zxcvbnMinScore {
		return &PolicyError{Reason: "The password is too common or easy to guess. A few unrelated words make a strong password that is easy to remember.", Key: "err.password_common"}
	}
	return nil
}

func tooLong(maxLen int) error {
	return &PolicyError{Reason: fmt.Sprintf("The password must be at most %d characters long.", maxLen), Key: "err.password_long", Args: []any{"Max", maxLen}}
}

// firstRunes returns the prefix of s holding at most n code points.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

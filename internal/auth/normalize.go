package auth

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/twofold-id/twofold/internal/apperr"
)

const (
	maxUsername   = 64
	maxEmail      = 254
	maxIdentifier = 320
)

var folder = cases.Fold()

// NormalizeLogin turns a username or e-mail as typed into its lookup key: trimmed,
// NFKC-normalised and case-folded, so "Alice", "ALICE" and "ａｌｉｃｅ" are one name. Bytes
// that are not UTF-8 become U+FFFD, so the key is always valid text (PostgreSQL refuses
// anything else).
func NormalizeLogin(s string) string {
	// Trim last: NFKC can turn a character into a space and a combining mark ("¨" is
	// " \u0308"), and trimming first would leave a key that normalises to another key.
	k := norm.NFKC.String(foldCase(norm.NFKC.String(strings.ToValidUTF8(s, "\uFFFD"))))
	return strings.TrimSpace(k)
}

// foldCase is Unicode case folding. x/text's folder swaps the case of Cherokee letters
// instead of folding them (it turns "Ꮎ" into "ꮎ" and "ꮎ" back into "Ꮎ"), so a key would
// change each time it is normalised; Unicode folds Cherokee to its capital letters, which
// foldCase then does itself.
func foldCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cherokee, r) {
			return unicode.ToUpper(r)
		}
		return r
	}, folder.String(s))
}

// IsText reports whether s may be typed input: valid UTF-8 without NUL. No stored name,
// password or code is anything else, and PostgreSQL refuses other text outright.
func IsText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// AsText returns s with every NUL and every byte that is not UTF-8 replaced by U+FFFD,
// which no username or e-mail address contains: the result matches no account.
func AsText(s string) string {
	if IsText(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
}

// ValidateUsername checks a new username and returns its display and lookup forms.
// Allowed: 1 to 64 letters, digits, '.', '_' and '-', at least one of them a letter or a
// digit, and no letter that shows nothing (see blank); '@' is reserved for e-mail sign-in. No letter may be one Unicode does not recommend
// for identifiers (see notRecommended), in the name or in its lookup form, so that "ɑdmin"
// with a phonetic "ɑ" or "ᴀdmin" with a small capital cannot pass for "admin"; and the
// letters and digits must be of one script (see oneScript), so that "аlice" with a Cyrillic
// "а" cannot pass for "alice". Only new names are checked: existing accounts sign in by
// NormalizeLogin whatever their name.
func ValidateUsername(s string) (display, normalized string, err error) {
	display = norm.NFKC.String(strings.TrimSpace(s))
	bad := func(key string) error { return apperr.Msg(apperr.CodeBadRequest, key).In("username") }
	if display == "" {
		return "", "", bad("err.username_empty")
	}
	if !utf8.ValidString(display) {
		return "", "", bad("err.username_chars")
	}
	if utf8.RuneCountInString(display) > maxUsername {
		return "", "", bad("err.username_long")
	}
	letterOrDigit := false
	for _, r := range display {
		alnum := (unicode.IsLetter(r) || unicode.IsDigit(r)) && !blank(r)
		if !alnum && r != '.' && r != '_' && r != '-' {
			return "", "", bad("err.username_chars")
		}
		letterOrDigit = letterOrDigit || alnum
	}
	if !letterOrDigit {
		return "", "", bad("err.username_letter")
	}
	normalized = NormalizeLogin(display)
	// The lookup form too: "Ʀ" is not on the list, but it folds to the small capital "ʀ".
	if strings.ContainsFunc(display, uncommonLetter) || strings.ContainsFunc(normalized, uncommonLetter) {
		return "", "", bad("err.username_uncommon")
	}
	if !oneScript(display) {
		return "", "", bad("err.username_scripts")
	}
	return display, normalized, nil
}

// blank reports a code point that Unicode counts as a letter or a mark but that shows
// nothing (Default_Ignorable): the Hangul fillers, with which "bobㅤ" looks like "bob", the
// Khmer inherent vowels, the combining grapheme joiner and the variation selectors.
func blank(r rune) bool {
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r)
}

// Reasons ValidateEmail refuses an address that is well-formed but routes mail somewhere
// the domain does not say: a domain literal (an IP address in brackets) sends it to a host
// of the sender's choosing, and "%" is the old relay syntax (a%b@c is forwarded by c to b).
var (
	ErrEmailDomainLiteral = apperr.Msg(apperr.CodeBadRequest, "err.email_domain_literal")
	ErrEmailPercent       = apperr.Msg(apperr.CodeBadRequest, "err.email_percent")
)

// Unseen reports a character that shows nothing or stands for nothing: controls and format
// characters (zero-width space, soft hyphen, direction marks) would let two names look alike
// or turn the text around them the other way, and U+FFFD is what AsText puts where input was
// not text. No e-mail address holds one, nor any name people read but for the joiners that
// ContainsUnseen lets through.
func Unseen(r rune) bool { return !unicode.IsGraphic(r) || r == utf8.RuneError }

// The zero-width non-joiner and joiner: format characters, but ones that writing needs.
const (
	zwnj = '\u200c'
	zwj  = '\u200d'
)

// ContainsUnseen reports whether the name s holds a character that shows nothing (see
// Unseen), but for a joiner where writing needs one, after the rules of IDNA (RFC 5892,
// appendix A.1 and A.2) and of emoji: a zero-width joiner between two emoji (woman, joiner,
// laptop is one "woman technologist"; a variation selector or skin tone may stand between)
// or after a virama; a non-joiner after a virama or between two letters of a joining script
// (Arabic, Syriac, N'Ko, Mongolian: Persian words need it). Anywhere else a joiner shows
// nothing, so "Ac", U+200D, "me" would read as "Acme". A variation selector must follow
// what it varies. It is the rule for the names people give things and read: display names
// and the names of security keys, API tokens and OpenID Connect clients. Usernames allow no
// joiner at all.
func ContainsUnseen(s string) bool {
	prev := utf8.RuneError // what comes before the first character: nothing visible
	base := utf8.RuneError // prev, but for variation selectors and skin tones
	for i, r := range s {
		switch {
		case r == zwj || r == zwnj:
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !joins(r, prev, base, next) {
				return true
			}
		case variation(r):
			if !visible(prev) {
				return true
			}
		case Unseen(r):
			return true
		}
		if prev = r; !variation(r) && !skinTone(r) {
			base = r
		}
	}
	return false
}

// joins reports whether the joiner j, after prev (whose base is base) and before next, is
// one that writing needs (see ContainsUnseen).
func joins(j, prev, base, next rune) bool {
	if virama(prev) && visible(next) {
		return true
	}
	if j == zwj {
		return emoji(base) && emoji(next)
	}
	return unicode.IsLetter(prev) && unicode.IsLetter(next) && joining(prev) && joining(next)
}

// emoji is a pictographic symbol an emoji sequence joins (approximately: So, which holds
// U+FFFD too, the end of the text here).
func emoji(r rune) bool { return r != utf8.RuneError && unicode.Is(unicode.So, r) }

// variation reports whether r is a variation selector, which shows only on what it follows.
func variation(r rune) bool { return unicode.Is(unicode.Variation_Selector, r) }

// skinTone reports whether r is an emoji skin tone modifier (U+1F3FB–1F3FF).
func skinTone(r rune) bool { return r >= 0x1f3fb && r <= 0x1f3ff }

// joining reports whether r is of a script whose letters join, where a non-joiner shows.
func joining(r rune) bool {
	return unicode.In(r, unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mongolian)
}

// virama reports whether r is a mark of a Brahmic script, after which both joiners choose
// how a conjunct is drawn (approximately: its viramas; Go's tables carry no combining class).
func virama(r rune) bool {
	return unicode.Is(unicode.Mn, r) && unicode.In(r, unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi,
		unicode.Gujarati, unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam,
		unicode.Sinhala, unicode.Myanmar, unicode.Khmer, unicode.Tibetan)
}

// visible reports whether r shows something: not a space, nor anything Unseen (which a
// joiner is, and so is the U+FFFD that stands for the end of the text).
func visible(r rune) bool { return !Unseen(r) && !unicode.IsSpace(r) }

// ValidateEmail checks an e-mail address and returns its display and lookup forms. It
// refuses domain literals (ErrEmailDomainLiteral) and "%" (ErrEmailPercent), each with its
// reason, and anything else that is not a plain address with a generic bad_request.
func ValidateEmail(s string) (display, normalized string, err error) {
	display = norm.NFKC.String(strings.TrimSpace(s))
	bad := apperr.Msg(apperr.CodeBadRequest, "err.email_invalid").In("email")
	if display == "" || len(display) > maxEmail || !utf8.ValidString(display) || strings.ContainsFunc(display, Unseen) {
		return "", "", bad
	}
	if strings.ContainsRune(display, '%') {
		return "", "", ErrEmailPercent
	}
	if at := strings.LastIndexByte(display, '@'); at >= 0 && strings.HasPrefix(display[at+1:], "[") {
		return "", "", ErrEmailDomainLiteral
	}
	a, err := mail.ParseAddress(display)
	if err != nil || a.Address != display || a.Name != "" {
		return "", "", bad
	}
	at := strings.LastIndexByte(display, '@')
	if at < 1 || at == len(display)-1 || !strings.Contains(display[at+1:], ".") {
		return "", "", bad
	}
	return display, NormalizeLogin(display), nil
}

// maxDisplayName is the most characters a display name has.
const maxDisplayName = 100

// ValidateDisplayName checks the name a user goes by and returns it trimmed and in NFC
// (letters with accents compose; unlike a username it is not folded further). Empty is
// allowed and clears the name. Controls and format characters are refused, so a name cannot
// hide characters or reverse the text around it; only a joiner between two visible characters
// is allowed (see ContainsUnseen).
func ValidateDisplayName(s string) (string, error) {
	name := norm.NFC.String(strings.TrimSpace(s))
	if !utf8.ValidString(name) || ContainsUnseen(name) {
		return "", apperr.Msg(apperr.CodeBadRequest, "err.name_chars")
	}
	if utf8.RuneCountInString(name) > maxDisplayName {
		return "", apperr.Msg(apperr.CodeBadRequest, "err.name_long")
	}
	return name, nil
}

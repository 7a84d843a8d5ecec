package auth

import (
	"slices"
	"unicode"
)

// scriptSets are the scripts one username may combine beyond a single one: those that are
// written together (Japanese, Chinese with Bopomofo, Korean), each with Latin. They are
// Unicode UTS #39's "highly restrictive" level; none of them holds letters that pass for
// another's, as Cyrillic "а" passes for Latin "a".
var scriptSets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// oneScript reports whether the letters and digits of s are of one script, or of one of
// scriptSets, and its digits all of one set of ten (never "1" beside Arabic-Indic "١").
// Characters of the Common and Inherited scripts, which several scripts share (ASCII
// digits, '.', '_', '-', the Japanese "ー"), count for none.
func oneScript(s string) bool {
	var scripts []string
	zero := rune(-1)
	for _, r := range s {
		if unicode.IsDigit(r) {
			z := digitZero(r)
			if zero >= 0 && z != zero {
				return false
			}
			zero = z
		}
		name := scriptOf(r)
		if name != "" && name != "Common" && name != "Inherited" && !slices.Contains(scripts, name) {
			scripts = append(scripts, name)
		}
	}
	if len(scripts) <= 1 {
		return true
	}
	for _, set := range scriptSets {
		if !slices.ContainsFunc(scripts, func(sc string) bool { return !slices.Contains(set, sc) }) {
			return true
		}
	}
	return false
}

// scriptOf returns the name of r's script in Go's unicode tables ("Latin", "Cyrillic",
// "Common"), or "" for a code point that has none.
func scriptOf(r rune) string {
	if r < 0x80 {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return "Common"
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return ""
}

// digitZero returns the zero of the set of ten decimal digits r belongs to. Unicode encodes
// every such set as ten consecutive code points from 0 to 9, some right after another (the
// mathematical digits), so the set starts a multiple of ten after the run of digits does.
func digitZero(r rune) rune {
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return start + (r-start)/10*10
}

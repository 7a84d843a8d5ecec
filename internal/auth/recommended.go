package auth

import "unicode"

// notRecommended holds the letters (and the few marks) of the Latin, Greek and Cyrillic
// blocks that no new username may hold. They are the ones Unicode UTS #39 does not recommend
// for identifiers (Identifier_Status Restricted, as of Unicode 14): phonetic letters and
// small capitals that pass for ordinary ones ("ɑ", "ɡ", "ᴀ", "ʀ"), click letters that pass
// for punctuation ("ǀ", "ǃ"), and archaic, technical and obsolete letters ("ȷ", "ϳ", "ꙅ").
// The IPA's "ə" is not in: UTS #39 allows it, Azerbaijani writes it, and its capital "Ə" is
// ordinary. Beyond UTS #39 the table also holds:
//   - every modifier letter of these blocks: UTS #39 allows "ʻ" and "ʼ" (Hawaiian, Uzbek),
//     but they pass for an apostrophe, and "ꜝ" for '!', which no username holds;
//   - Latin Extended-G, phonetic letters like the IPA's that Unicode 14's table allows;
//   - the unassigned code points of the Latin and Cyrillic blocks, so that a letter a later
//     Unicode adds there is refused until someone looks at it.
//
// Code points that NFKC changes ("ǆ", "ℌ") never reach the check and are in or out,
// whichever makes fewer ranges.
var notRecommended = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x0180, 0x018e, 1}, // Latin Extended-B: ƀ Ɓ ƈ ƍ Ǝ...
		{0x0190, 0x019f, 1}, // Ɛ ƒ Ɣ ƛ Ɵ...
		{0x01a2, 0x01ae, 1}, // Ƣ Ʀ ƨ ƫ Ʈ...
		{0x01b1, 0x01c3, 1}, // Ʊ ƴ ƹ ƾ, the clicks ǀ ǁ ǂ ǃ
		{0x01dd, 0x01dd, 1}, // ǝ
		{0x01e4, 0x01e5, 1}, // Ǥ ǥ
		{0x01f6, 0x01f7, 1}, // Ƕ Ƿ
		{0x021c, 0x021d, 1}, // Ȝ ȝ
		{0x0220, 0x0225, 1}, // Ƞ ȡ Ȣ Ȥ
		{0x0234, 0x0258, 1}, // ȴ ȷ Ⱥ ɂ ɏ, IPA ɐ ɑ ɓ ɔ ɗ ɘ
		{0x025a, 0x02ff, 1}, // IPA ɛ ɡ ɪ ʀ ʍ ʔ..., spacing modifier letters ʰ ʻ ʼ ˬ...
		{0x0370, 0x0373, 1}, // Greek Ͱ ͱ Ͳ ͳ
		{0x0376, 0x0377, 1}, // Ͷ ͷ
		{0x037f, 0x037f, 1}, // Ϳ
		{0x03cf, 0x03fb, 1}, // Ϗ Ϙ Ϛ Ϝ ϳ ϸ ϻ, Coptic Ϣ...
		{0x0460, 0x0489, 1}, // Cyrillic Ѡ Ѣ Ѧ Ѯ Ѳ Ѵ Ҁ, combining titlo...
		{0x0500, 0x050f, 1}, // Komi Ԁ Ԃ Ԉ...
		{0x052a, 0x052d, 1}, // Ԫ ԫ Ԭ ԭ
		{0x1c80, 0x1c8f, 1}, // Cyrillic Extended-C: ᲀ ᲁ ᲂ (variants of в д о)...
		{0x1d00, 0x1dbf, 1}, // Phonetic Extensions and Supplement: ᴀ ᴄ ᴅ ᴇ ᶀ ᶏ...
		{0x1e9c, 0x1e9d, 1}, // ẜ ẝ
		{0x1e9f, 0x1e9f, 1}, // ẟ
		{0x1efa, 0x1eff, 1}, // Ỻ ỻ Ỽ ỽ Ỿ ỿ
		{0x2132, 0x214e, 1}, // Letterlike Ⅎ ⅎ
		{0x2c60, 0x2c7f, 1}, // Latin Extended-C: Ⱡ Ɫ Ɽ ⱥ Ɑ ⱱ...
		{0x2de0, 0x2dff, 1}, // Cyrillic Extended-A: combining letters ⷠ ⷡ...
		{0xa640, 0xa67d, 1}, // Cyrillic Extended-B: Ꙁ Ꙅ Ꙇ Ꙋ Ꙩ...
		{0xa680, 0xa69f, 1}, // Ꚁ Ꚃ Ꚙ...
		{0xa700, 0xa78c, 1}, // Modifier tone letters ꜗ ꜝ ꜟ, Latin Extended-D: ꜱ Ꜳ Ꝁ Ꝛ ꞈ ꞌ...
		{0xa78e, 0xa791, 1}, // ꞎ ꞏ Ꞑ ꞑ
		{0xa794, 0xa7a9, 1}, // ꞔ ꞕ Ꞗ Ꞙ Ꞡ Ꞩ...
		{0xa7ab, 0xa7ad, 1}, // Ɜ Ɡ Ɬ
		{0xa7af, 0xa7b7, 1}, // ꞯ Ʞ Ʇ Ʝ Ꭓ Ꞵ Ꞷ
		{0xa7ba, 0xa7bf, 1}, // Ꞻ Ꞽ Ꞿ
		{0xa7cb, 0xa7cf, 1}, // (unassigned in Unicode 15)
		{0xa7d2, 0xa7d2, 1}, // (unassigned)
		{0xa7d4, 0xa7d4, 1}, // (unassigned)
		{0xa7da, 0xa7ff, 1}, // Ꟶ ꟶ ꟺ ꟻ ꟼ ꟿ...
		{0xab30, 0xab65, 1}, // Latin Extended-E: ꬰ ꬴ ꭌ ꭎ ꭣ...
		{0xab68, 0xab6f, 1}, // ꭨ
	},
	R32: []unicode.Range32{
		{0x10780, 0x107bf, 1}, // Latin Extended-F: modifier letters 𐞀 𐞁...
		{0x1df00, 0x1dfff, 1}, // Latin Extended-G: 𝼀 𝼁... (extensions to the IPA)
		{0x1e030, 0x1e08f, 1}, // Cyrillic Extended-D: modifier letters
	},
}

// uncommonLetter reports whether r is a letter (or mark) of notRecommended.
func uncommonLetter(r rune) bool { return unicode.Is(notRecommended, r) }

package auth_test

import (
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
)

// Names with a zero-width joiner or non-joiner between two visible characters, which emoji
// sequences and Persian words need, and names where one hides or piles up, or with another
// character that shows nothing.
var (
	joinedNames = []string{
		"\U0001f469\u200d\U0001f4bb laptop",                // woman technologist: 👩, joiner, 💻
		"\U0001f468\u200d\U0001f469\u200d\U0001f467",       // family: 👨, joiner, 👩, joiner, 👧
		"\u2764\ufe0f\u200d\U0001f525 key",                 // heart on fire: ❤, emoji selector, joiner, 🔥
		"\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", // Persian "I want": می, non-joiner, خواهم
		"\u0915\u094d\u200d\u0937",                         // Devanagari क्, joiner, ष: a joiner after a virama
		"\U0001f44b\U0001f3fd\u200d\U0001f4bb",             // a skin tone between an emoji and the joiner
		"\u2764\ufe0f",                                     // a variation selector after what it varies
	}
	unseenNames = []string{
		"\u200dlaptop", "laptop\u200d", "\u200d", "\u200c", // at an end
		"lap\u200d\u200dtop", "lap\u200c\u200dtop", // doubled
		"lap \u200dtop", "lap\u200d top", "\U0001f469\u200d \U0001f4bb", // next to a space
		"ci\u202eevil", "\u2066ci\u2069", "c\u200bi", "ci\ufeff", "c\u00adi", "c\u200ei", "ci\x00", "ci\ufffd", // other format characters, controls
		"ci\xff",                                  // not UTF-8
		"Ac\u200dme", "Ac\u200cme", "ad\u200dmin", // a joiner between Latin letters shows nothing
		"\ufe0f", "\ufe0f\u200d\ufe0f", "a \ufe0f", // a variation selector with nothing to vary
		"\u0645\u200c\u0078", // a non-joiner between Arabic and Latin
	}
)

// TestContainsUnseen: a name may join two visible characters with U+200D or U+200C, and
// holds no other character that shows nothing.
func TestContainsUnseen(t *testing.T) {
	for _, name := range joinedNames {
		if auth.ContainsUnseen(name) {
			t.Errorf("ContainsUnseen(%q) = true, want false: the joiner joins two visible characters", name)
		}
	}
	for _, name := range unseenNames {
		if !auth.ContainsUnseen(name) {
			t.Errorf("ContainsUnseen(%q) = false, want true", name)
		}
	}
}

// TestValidateDisplayNameJoiners: a display name may be written with an emoji sequence or a
// Persian non-joiner, and holds no joiner that hides or any other character that shows
// nothing.
func TestValidateDisplayNameJoiners(t *testing.T) {
	for _, name := range joinedNames {
		if got, err := auth.ValidateDisplayName(name); err != nil || got != name {
			t.Errorf("ValidateDisplayName(%q) = %q, %v; want it as it is", name, got, err)
		}
	}
	for _, name := range unseenNames {
		if got, err := auth.ValidateDisplayName(name); err == nil {
			t.Errorf("ValidateDisplayName(%q) = %q, want refused", name, got)
		}
	}
}

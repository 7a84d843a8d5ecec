package auth

import (
	"strings"
	"testing"
)

// TestKeyNames: a key's name is tidied text; a name with a control or format character
// (which the admin console would show, reversed by a direction override) is refused, but
// for a joiner where writing needs one, as in an emoji sequence or a Persian word.
func TestKeyNames(t *testing.T) {
	for in, want := range map[string]string{"": "", "  YubiKey   5C ": "YubiKey 5C", "Schlüssel 🔑": "Schlüssel 🔑"} {
		if got, err := keyName(in); err != nil || got != want {
			t.Errorf("keyName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// A woman technologist (👩, joiner, 💻) and Persian with a non-joiner.
	for _, in := range []string{"\U0001f469\u200d\U0001f4bb laptop", "\u06a9\u0644\u06cc\u062f \u0645\u06cc\u200c\u0631\u0648\u062f"} {
		if got, err := keyName(in); err != nil || got != in {
			t.Errorf("keyName(%q) = %q, %v; want it as it is", in, got, err)
		}
	}
	for _, in := range []string{
		"Key\u202eyek", "Key\u200b", "Key\x00", "Key\xff", strings.Repeat("k", MaxKeyName+1),
		"\u200dKey", "Key\u200d", "K\u200d\u200dey", "Key \u200c 2", // joiners that join nothing
	} {
		if _, err := keyName(in); err != errKeyName {
			t.Errorf("keyName(%q): %v, want errKeyName", in, err)
		}
	}
}

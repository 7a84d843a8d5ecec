package auth

import (
	"strings"
	"testing"
)

// TestKeyNames: a key's name is tidied text; a name with a control or format character
// (which the admin console would show, reversed by a direction override) is refused.
func TestKeyNames(t *testing.T) {
	for in, want := range map[string]string{"": "fallback", "  YubiKey   5C ": "YubiKey 5C", "Schlüssel 🔑": "Schlüssel 🔑"} {
		if got, err := keyName(in, "fallback"); err != nil || got != want {
			t.Errorf("keyName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Key\u202eyek", "Key\u200b", "Key\x00", "Key\xff", strings.Repeat("k", MaxKeyName+1)} {
		if _, err := keyName(in, "fallback"); err != errKeyName {
			t.Errorf("keyName(%q): %v, want errKeyName", in, err)
		}
	}
}

package recovery_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/recovery"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var displayForm = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$`)

// generate calls recovery.Generate and fails the test on error.
func generate(t *testing.T, r io.Reader) string {
	t.Helper()
	code, err := recovery.Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestGenerate(t *testing.T) {
	t.Run("code_is_5_groups_of_5_and_normalizes_to_25_characters", func(t *testing.T) {
		code := generate(t, rand.Reader)
		if len(code) != 29 || !displayForm.MatchString(code) {
			t.Fatalf("Generate = %q, want 5 groups of 5 Crockford characters joined by '-'", code)
		}
		n, err := recovery.Normalize(code)
		if err != nil {
			t.Fatalf("Normalize(%q): %v", code, err)
		}
		if want := strings.ReplaceAll(code, "-", ""); n != want {
			t.Errorf("Normalize(%q) = %q, want %q", code, n, want)
		}
	})

	t.Run("codes_are_unique_across_1000_draws", func(t *testing.T) {
		seen := make(map[string]bool, 1000)
		for range 1000 {
			code := generate(t, rand.Reader)
			if seen[code] {
				t.Fatalf("code %s drawn twice", code)
			}
			seen[code] = true
		}
	})

	t.Run("entropy_source_is_honoured", func(t *testing.T) {
		seed := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
		a := generate(t, bytes.NewReader(seed))
		b := generate(t, bytes.NewReader(seed))
		if a != b {
			t.Errorf("same source gave %s and %s", a, b)
		}
		other := generate(t, bytes.NewReader(bytes.Repeat([]byte{0}, 32)))
		if other != "00000-00000-00000-00000-00000" {
			t.Errorf("all-zero source gave %s", other)
		}
		// Each source byte gives one character from its low 5 bits; the
		// high bits, set here, are ignored.
		all := make([]byte, 25)
		for i := range all {
			all[i] = 0xE0 | byte(i)
		}
		if got, want := generate(t, bytes.NewReader(all)), "01234-56789-ABCDE-FGHJK-MNPQR"; got != want {
			t.Errorf("Generate = %s, want %s", got, want)
		}
	})

	t.Run("every_character_of_the_alphabet_can_appear", func(t *testing.T) {
		src := make([]byte, 25*2)
		for i := range src {
			src[i] = byte(i)
		}
		all := generate(t, bytes.NewReader(src[:25])) + generate(t, bytes.NewReader(src[25:]))
		for _, c := range crockford {
			if !strings.ContainsRune(all, c) {
				t.Errorf("character %c never produced", c)
			}
		}
	})

	t.Run("short_source_is_an_error", func(t *testing.T) {
		if _, err := recovery.Generate(bytes.NewReader(make([]byte, 24))); err == nil {
			t.Error("no error for a 24-byte source")
		}
	})
}

func TestNormalize(t *testing.T) {
	const canonical = "7K3QH9XG2MABCDE0123456789"
	tests := []struct {
		name  string
		input string
		want  string // "" means ErrMalformedCode
	}{
		{"display_form", "7K3QH-9XG2M-ABCDE-01234-56789", canonical},
		{"no_dashes", canonical, canonical},
		{"lowercase", "7k3qh-9xg2m-abcde-01234-56789", canonical},
		{"spaces_instead_of_dashes", "7K3QH 9XG2M ABCDE 01234 56789", canonical},
		{"surrounding_spaces", "  7K3QH-9XG2M-ABCDE-01234-56789  ", canonical},
		{"mixed_separators", "7K3-QH9 XG2M-ABC DE01-234 56789", canonical},
		{"O_reads_as_zero", "7K3QH-9XG2M-ABCDE-O1234-56789", canonical},
		{"o_reads_as_zero", "7K3QH-9XG2M-ABCDE-o1234-56789", canonical},
		{"I_and_L_read_as_one", "7K3QH-9XG2M-ABCDE-0I234-56789", canonical},
		{"i_and_l_read_as_one", "7K3QH-9XG2M-ABCDE-0l234-56789", canonical},
		{"too_short", "7K3QH-9XG2M-ABCDE-01234-5678", ""},
		{"too_long", "7K3QH-9XG2M-ABCDE-01234-56789A", ""},
		{"U_is_not_in_the_alphabet", "7K3QH-9XG2M-ABCDE-01234-5678U", ""},
		{"punctuation", "7K3QH_9XG2M_ABCDE_01234_56789", ""},
		{"tab", "7K3QH\t9XG2M-ABCDE-01234-56789", ""},
		{"unicode_letter", "7K3QH-9XG2M-ABCDÉ-01234-56789", ""},
		{"fullwidth_digit", "7K3QH-9XG2M-ABCDE-01234-5678９", ""},
		{"nul_byte", "7K3QH-9XG2M-ABCDE-01234-5678\x00", ""},
		{"empty", "", ""},
		{"only_separators", "----- -----", ""},
		{"over_64_bytes_of_separators", strings.Repeat("-", 40) + canonical, ""},
		{"huge", strings.Repeat("A", 1<<20), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := recovery.Normalize(tc.input)
			if tc.want == "" {
				if !errors.Is(err, recovery.ErrMalformedCode) || got != "" {
					t.Errorf("Normalize(%.40q) = %q, %v; want ErrMalformedCode", tc.input, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", tc.input, got, err, tc.want)
			}
		})
	}
}

func TestHasher(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	const code = "7K3QH9XG2MABCDE0123456789"

	t.Run("hash_is_HMAC-SHA256_of_the_normalized_code", func(t *testing.T) {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(code))
		if got, want := recovery.NewHasher(key).Hash(code), mac.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("Hash = %x, want %x", got, want)
		}
	})

	t.Run("different_key_gives_different_hash", func(t *testing.T) {
		other := bytes.Clone(key)
		other[0] ^= 1
		if bytes.Equal(recovery.NewHasher(key).Hash(code), recovery.NewHasher(other).Hash(code)) {
			t.Error("two keys gave the same hash")
		}
	})

	t.Run("different_code_gives_different_hash", func(t *testing.T) {
		h := recovery.NewHasher(key)
		if bytes.Equal(h.Hash(code), h.Hash("7K3QH9XG2MABCDE0123456788")) {
			t.Error("two codes gave the same hash")
		}
	})

	t.Run("same_code_typed_differently_gives_same_hash", func(t *testing.T) {
		h := recovery.NewHasher(key)
		want := h.Hash(code)
		for _, typed := range []string{"7K3QH-9XG2M-ABCDE-01234-56789", "7k3qh 9xg2m abcde o1234 56789", "7k3qh9xg2mabcde0l23456789"} {
			n, err := recovery.Normalize(typed)
			if err != nil {
				t.Fatalf("Normalize(%q): %v", typed, err)
			}
			if got := h.Hash(n); !bytes.Equal(got, want) {
				t.Errorf("hash of %q = %x, want %x", typed, got, want)
			}
		}
	})

	t.Run("key_is_copied", func(t *testing.T) {
		k := bytes.Clone(key)
		h := recovery.NewHasher(k)
		before := h.Hash(code)
		k[0] ^= 1
		if !bytes.Equal(h.Hash(code), before) {
			t.Error("changing the caller's key slice changed the hash")
		}
	})

	t.Run("empty_key_panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("NewHasher(nil) did not panic")
			}
		}()
		recovery.NewHasher(nil)
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"7K3QH-9XG2M-ABCDE-01234-56789", "7k3qh 9xg2m abcde o1234 56789", "", "U", "-----", "\xff", "7K3QH-9XG2M-ABCDE-01234-5678U"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := recovery.Normalize(s)
		if err != nil {
			if !errors.Is(err, recovery.ErrMalformedCode) {
				t.Fatalf("Normalize(%q) error = %v, want ErrMalformedCode", s, err)
			}
			return
		}
		if len(got) != 25 {
			t.Fatalf("Normalize(%q) = %q, want 25 characters", s, got)
		}
		for i := 0; i < len(got); i++ {
			if !strings.ContainsRune(crockford, rune(got[i])) {
				t.Fatalf("Normalize(%q) = %q, character %q not in the alphabet", s, got, got[i])
			}
		}
		if again, err := recovery.Normalize(got); err != nil || again != got {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

package totp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/twofold-id/twofold/internal/totp"
)

// vectors mirrors testdata/otp-vectors.json (RFC 4226 Appendix D and
// RFC 6238 Appendix B).
type vectors struct {
	HOTP struct {
		SecretASCII  string   `json:"secret_ascii"`
		SecretBase32 string   `json:"secret_base32"`
		Digits       int      `json:"digits"`
		Codes        []string `json:"codes_by_counter"`
	} `json:"hotp"`
	TOTP struct {
		Period  int64             `json:"period"`
		T0      int64             `json:"t0"`
		Digits  int               `json:"digits"`
		Secrets map[string]string `json:"secrets_ascii"`
		Cases   []struct {
			Unix    int64  `json:"unix"`
			StepHex string `json:"step_hex"`
			SHA1    string `json:"SHA1"`
		} `json:"cases"`
	} `json:"totp"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "otp-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse otp-vectors.json: %v", err)
	}
	return v
}

// rfcSecret is the 20-byte SHA1 seed of RFC 4226 and RFC 6238.
var rfcSecret = []byte("12345678901234567890")

func TestCode(t *testing.T) {
	v := loadVectors(t)

	t.Run("RFC_4226_HOTP_vectors", func(t *testing.T) {
		if v.HOTP.Digits != 6 || len(v.HOTP.Codes) != 10 {
			t.Fatalf("unexpected vector file: digits=%d codes=%d", v.HOTP.Digits, len(v.HOTP.Codes))
		}
		secret := []byte(v.HOTP.SecretASCII)
		if got := totp.EncodeSecret(secret); got != v.HOTP.SecretBase32 {
			t.Errorf("EncodeSecret = %q, want %q", got, v.HOTP.SecretBase32)
		}
		for counter, want := range v.HOTP.Codes {
			if got := totp.Code(secret, int64(counter)); got != want {
				t.Errorf("Code(counter %d) = %s, want %s", counter, got, want)
			}
		}
	})

	if v.TOTP.Period != 30 || v.TOTP.T0 != 0 || v.TOTP.Digits != 8 || len(v.TOTP.Cases) == 0 {
		t.Fatalf("unexpected TOTP vectors: %+v", v.TOTP)
	}
	secret := []byte(v.TOTP.Secrets["SHA1"])
	for _, tc := range v.TOTP.Cases {
		now := time.Unix(tc.Unix, 0)
		t.Run("RFC_6238_SHA1_at_"+now.UTC().Format(time.RFC3339), func(t *testing.T) {
			step := totp.Step(now)
			if got := fmt.Sprintf("%016X", step); got != tc.StepHex {
				t.Errorf("Step = %s, want %s", got, tc.StepHex)
			}
			if got := totp.CodeDigits(secret, step, otp.DigitsEight); got != tc.SHA1 {
				t.Errorf("8-digit code = %s, want %s", got, tc.SHA1)
			}
			if got, want := totp.Code(secret, step), tc.SHA1[2:]; got != want {
				t.Errorf("Code = %s, want the last 6 digits of the vector %s", got, want)
			}
		})
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		name string
		unix int64
		want int64
	}{
		{"epoch_is_step_0", 0, 0},
		{"last_second_of_step_0", 29, 0},
		{"first_second_of_step_1", 30, 1},
		{"RFC_6238_time_59", 59, 1},
		{"one_second_before_epoch_is_step_-1", -1, -1},
		{"thirty_seconds_before_epoch_is_step_-1", -30, -1},
		{"thirty_one_seconds_before_epoch_is_step_-2", -31, -2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := totp.Step(time.Unix(tc.unix, 0)); got != tc.want {
				t.Errorf("Step(@%d) = %d, want %d", tc.unix, got, tc.want)
			}
		})
	}
	t.Run("sub-second_part_is_ignored", func(t *testing.T) {
		if got := totp.Step(time.Unix(59, 999_999_999)); got != 1 {
			t.Errorf("Step(@59.999999999) = %d, want 1", got)
		}
	})
}

func TestMatch(t *testing.T) {
	// Step 1234567890/30 = 41152263, so these are the first and the last
	// second of one step.
	boundaries := []struct {
		name string
		unix int64
	}{
		{"first_second_of_step", 1234567890},
		{"last_second_of_step", 1234567919},
	}
	offsets := []struct {
		name   string
		offset int64
		ok     bool
	}{
		{"previous_step_is_accepted", -1, true},
		{"current_step_is_accepted", 0, true},
		{"next_step_is_accepted", +1, true},
		{"two_steps_back_is_refused", -2, false},
		{"two_steps_ahead_is_refused", +2, false},
		{"ten_steps_back_is_refused", -10, false},
	}
	for _, b := range boundaries {
		now := time.Unix(b.unix, 0)
		T := totp.Step(now)
		if T != 41152263 {
			t.Fatalf("Step(@%d) = %d, test assumes 41152263", b.unix, T)
		}
		for _, o := range offsets {
			t.Run(b.name+"/"+o.name, func(t *testing.T) {
				code := totp.Code(rfcSecret, T+o.offset)
				step, ok := totp.Match(rfcSecret, code, now)
				if ok != o.ok {
					t.Fatalf("Match(code of T%+d) ok = %v, want %v", o.offset, ok, o.ok)
				}
				if ok && step != T+o.offset {
					t.Errorf("Match(code of T%+d) step = %d, want %d", o.offset, step, T+o.offset)
				}
			})
		}
	}

	now := time.Unix(1234567890, 0)
	T := totp.Step(now)
	code := totp.Code(rfcSecret, T)
	tests := []struct {
		name   string
		secret []byte
		code   string
		ok     bool
	}{
		{"formatted_code_is_accepted", rfcSecret, " " + code[:3] + "-" + code[3:] + " ", true},
		{"wrong_secret_is_refused", []byte("09876543210987654321"), code, false},
		{"wrong_code_is_refused", rfcSecret, flipDigit(code), false},
		{"malformed_code_is_refused", rfcSecret, code + "0", false},
		{"empty_code_is_refused", rfcSecret, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := totp.Match(tc.secret, tc.code, now)
			if ok != tc.ok {
				t.Fatalf("Match(%q) ok = %v, want %v", tc.code, ok, tc.ok)
			}
			if ok && step != T {
				t.Errorf("Match(%q) step = %d, want %d", tc.code, step, T)
			}
			if !ok && step != 0 {
				t.Errorf("Match(%q) step = %d on failure, want 0", tc.code, step)
			}
		})
	}

	t.Run("steps_before_1970_are_never_matched", func(t *testing.T) {
		now := time.Unix(0, 0) // T = 0, so T-1 = -1
		if _, ok := totp.Match(rfcSecret, totp.Code(rfcSecret, -1), now); ok {
			t.Error("code of step -1 accepted")
		}
		if step, ok := totp.Match(rfcSecret, totp.Code(rfcSecret, 0), now); !ok || step != 0 {
			t.Errorf("code of step 0 = (%d, %v), want (0, true)", step, ok)
		}
	})
}

// flipDigit returns code with its last digit changed.
func flipDigit(code string) string {
	last := code[len(code)-1]
	return code[:len(code)-1] + string('0'+(last-'0'+1)%10)
}

func TestGenerateSecret(t *testing.T) {
	t.Run("reads_SecretSize_bytes_from_the_source", func(t *testing.T) {
		src := bytes.NewReader(bytes.Repeat([]byte{0xAB}, 64))
		secret, err := totp.GenerateSecret(src)
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Repeat([]byte{0xAB}, totp.SecretSize); !bytes.Equal(secret, want) {
			t.Errorf("secret = %x, want %x", secret, want)
		}
		if left := src.Len(); left != 64-totp.SecretSize {
			t.Errorf("source has %d bytes left, want %d", left, 64-totp.SecretSize)
		}
	})
	t.Run("short_source_is_an_error", func(t *testing.T) {
		_, err := totp.GenerateSecret(bytes.NewReader(make([]byte, totp.SecretSize-1)))
		if err == nil {
			t.Fatal("no error for a short source")
		}
	})
	t.Run("secret_is_160_bits", func(t *testing.T) {
		if totp.SecretSize*8 != 160 {
			t.Errorf("SecretSize = %d bytes, want 160 bits", totp.SecretSize)
		}
	})
}

func TestEncodeSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		want   string
	}{
		{"RFC_seed", rfcSecret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{"no_padding", []byte("f"), "MY"},
		{"uppercase_without_grouping", bytes.Repeat([]byte{0xff}, 20), strings.Repeat("7", 32)},
		{"empty", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := totp.EncodeSecret(tc.secret); got != tc.want {
				t.Errorf("EncodeSecret(%x) = %q, want %q", tc.secret, got, tc.want)
			}
		})
	}
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // "" means ErrMalformedCode
	}{
		{"six_digits", "123456", "123456"},
		{"leading_zeros_kept", "000123", "000123"},
		{"spaces_anywhere", " 123 456 ", "123456"},
		{"one_dash", "123-456", "123456"},
		{"dash_and_spaces", " 123 - 456 ", "123456"},
		{"two_dashes", "12-34-56", ""},
		{"empty", "", ""},
		{"only_spaces", "      ", ""},
		{"five_digits", "12345", ""},
		{"seven_digits", "1234567", ""},
		{"letters", "abcdef", ""},
		{"digit_and_letter", "12345a", ""},
		{"tab", "123\t456", ""},
		{"newline", "123456\n", ""},
		{"nul_byte", "123\x00456", ""},
		{"arabic_indic_digits", "١٢٣٤٥٦", ""},
		{"fullwidth_digits", "１２３４５６", ""},
		{"ascii_and_unicode_digit", "12345٦", ""},
		{"non_breaking_space", "123\u00a0456", ""},
		{"invalid_utf8", "123\xff456", ""},
		{"plus_sign", "+123456", ""},
		{"one_megabyte", strings.Repeat("1", 1<<20), ""},
		{"one_megabyte_of_spaces_around_a_code", strings.Repeat(" ", 1<<19) + "123456" + strings.Repeat(" ", 1<<19), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := totp.NormalizeCode(tc.input)
			if tc.want == "" {
				if !errors.Is(err, totp.ErrMalformedCode) {
					t.Errorf("NormalizeCode(%.40q) = %q, %v; want ErrMalformedCode", tc.input, got, err)
				}
				if got != "" {
					t.Errorf("NormalizeCode(%.40q) returned %q with an error, want empty", tc.input, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("NormalizeCode(%q) = %q, %v; want %q", tc.input, got, err, tc.want)
			}
		})
	}
}

func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"123456", " 123 456 ", "123-456", "", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12-34-56", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := totp.NormalizeCode(s)
		if err != nil {
			if !errors.Is(err, totp.ErrMalformedCode) {
				t.Fatalf("NormalizeCode(%q) error = %v, want ErrMalformedCode", s, err)
			}
			return
		}
		if len(got) != 6 {
			t.Fatalf("NormalizeCode(%q) = %q, want 6 digits", s, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < '0' || got[i] > '9' {
				t.Fatalf("NormalizeCode(%q) = %q, want only ASCII digits", s, got)
			}
		}
		if again, err := totp.NormalizeCode(got); err != nil || again != got {
			t.Fatalf("NormalizeCode is not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

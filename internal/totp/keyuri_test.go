package totp_test

import (
	"bytes"
	"flag"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pquerna/otp"

	"github.com/twofold-id/twofold/internal/totp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != strings.TrimSuffix(string(want), "\n") {
		t.Errorf("%s differs from golden file %s:\n got: %s\nwant: %s", name, path, got, want)
	}
}

func TestKeyURI(t *testing.T) {
	t.Run("matches_golden_file", func(t *testing.T) {
		golden(t, "keyuri.golden", totp.KeyURI("twofold", "alice@example.com", rfcSecret))
	})

	t.Run("parses_back_with_pquerna_otp", func(t *testing.T) {
		key, err := otp.NewKeyFromURL(totp.KeyURI("twofold", "alice@example.com", rfcSecret))
		if err != nil {
			t.Fatal(err)
		}
		checks := []struct{ field, got, want string }{
			{"type", key.Type(), "totp"},
			{"issuer", key.Issuer(), "twofold"},
			{"account", key.AccountName(), "alice@example.com"},
			{"secret", key.Secret(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
			{"algorithm", key.Algorithm().String(), "SHA1"},
			{"digits", key.Digits().String(), "6"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
			}
		}
		if key.Period() != 30 {
			t.Errorf("period = %d, want 30", key.Period())
		}
	})

	names := []struct {
		name            string
		issuer, account string
	}{
		{"spaces", "Example Co", "Alice Smith"},
		{"colons", "a:b", "c:d"},
		{"reserved_characters", "x/y?z#&=+%", "a&b=c+d@e/f?g#h%"},
		{"unicode", "Zürich Bank", "李@example.com"},
		{"empty_account", "twofold", ""},
	}
	for _, tc := range names {
		t.Run("round_trips_"+tc.name, func(t *testing.T) {
			uri := totp.KeyURI(tc.issuer, tc.account, rfcSecret)
			issuer, account, query := parseKeyURI(t, uri)
			if issuer != tc.issuer || account != tc.account {
				t.Errorf("label of %s = (%q, %q), want (%q, %q)", uri, issuer, account, tc.issuer, tc.account)
			}
			if got := query.Get("issuer"); got != tc.issuer {
				t.Errorf("issuer parameter of %s = %q, want %q", uri, got, tc.issuer)
			}
			if got := query.Get("secret"); got != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
				t.Errorf("secret parameter of %s = %q", uri, got)
			}
			if strings.Contains(uri, "+") {
				t.Errorf("%s contains '+', want spaces as %%20", uri)
			}
		})
	}
}

// parseKeyURI splits a key URI the way an authenticator app does: the label
// at its only literal colon, then each half unescaped.
func parseKeyURI(t *testing.T, uri string) (issuer, account string, query url.Values) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("parse %s: %v", uri, err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("%s: scheme/host = %s/%s, want otpauth/totp", uri, u.Scheme, u.Host)
	}
	label := strings.TrimPrefix(u.EscapedPath(), "/")
	if strings.Count(label, ":") != 1 {
		t.Fatalf("%s: label %q must have exactly one literal colon", uri, label)
	}
	rawIssuer, rawAccount, _ := strings.Cut(label, ":")
	if issuer, err = url.PathUnescape(rawIssuer); err != nil {
		t.Fatal(err)
	}
	if account, err = url.PathUnescape(rawAccount); err != nil {
		t.Fatal(err)
	}
	return issuer, account, u.Query()
}

func TestQRCodePNG(t *testing.T) {
	uri := totp.KeyURI("twofold", "alice@example.com", rfcSecret)

	for _, size := range []int{200, 256, 301} {
		t.Run("is_a_square_PNG_of_the_requested_size", func(t *testing.T) {
			data, err := totp.QRCodePNG(uri, size)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
				t.Errorf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), size, size)
			}
			// The quiet zone leaves the corners white.
			if r, g, b, _ := img.At(0, 0).RGBA(); r != 0xffff || g != 0xffff || b != 0xffff {
				t.Errorf("top-left pixel is not white")
			}
		})
	}

	for _, size := range []int{-1, 0, 10} {
		t.Run("too_small_a_size_is_an_error", func(t *testing.T) {
			if _, err := totp.QRCodePNG(uri, size); err == nil {
				t.Errorf("QRCodePNG(size %d) gave no error", size)
			}
		})
	}
}

package secrets

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"testing"
)

func testKeyring(t testing.TB) *Keyring {
	t.Helper()
	master := bytes.Repeat([]byte{0x42}, KeySize)
	k, err := NewKeyring(master)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

func TestNewKeyring(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewKeyring(make([]byte, n)); err == nil {
			t.Errorf("NewKeyring(%d bytes) succeeded, want an error", n)
		}
	}
	master := bytes.Repeat([]byte{1}, KeySize)
	k, err := NewKeyring(master)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	before := k.Derive("x")
	master[0] = 2 // the caller's slice is copied
	if !bytes.Equal(before, k.Derive("x")) {
		t.Error("changing the caller's master slice changed derived keys")
	}
}

func TestDerive(t *testing.T) {
	k := testKeyring(t)

	t.Run("deterministic_and_32_bytes", func(t *testing.T) {
		a, b := k.Derive("totp-secret"), k.Derive("totp-secret")
		if len(a) != KeySize || !bytes.Equal(a, b) {
			t.Errorf("Derive = %x, %x; want the same %d bytes twice", a, b, KeySize)
		}
	})
	t.Run("different_purposes_give_different_keys", func(t *testing.T) {
		seen := map[string]string{}
		for _, p := range []string{"", "totp-secret", "recovery-code", "session", "totp-secret ", "TOTP-secret"} {
			key := string(k.Derive(p))
			if other, ok := seen[key]; ok {
				t.Errorf("purposes %q and %q give the same key", p, other)
			}
			seen[key] = p
		}
	})
	t.Run("different_masters_give_different_keys", func(t *testing.T) {
		other, _ := NewKeyring(bytes.Repeat([]byte{0x43}, KeySize))
		if bytes.Equal(k.Derive("p"), other.Derive("p")) {
			t.Error("two master keys give the same sub-key")
		}
	})
	t.Run("is_HKDF_SHA256_with_twofold_info", func(t *testing.T) {
		want, err := hkdf.Key(sha256.New, bytes.Repeat([]byte{0x42}, KeySize), nil, "twofold/totp-secret", KeySize)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Derive("totp-secret"); !bytes.Equal(got, want) {
			t.Errorf("Derive = %x, want %x", got, want)
		}
	})
}

func TestBox(t *testing.T) {
	k := testKeyring(t)
	box := k.Box("totp-secret")
	ad := []byte("user:42")
	seal := func(t *testing.T, pt, ad []byte) []byte {
		t.Helper()
		ct, err := box.Seal(pt, ad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		return ct
	}

	t.Run("round_trip", func(t *testing.T) {
		for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("JBSWY3DPEHPK3PXP"), bytes.Repeat([]byte{7}, 4096)} {
			for _, ad := range [][]byte{nil, ad} {
				ct := seal(t, pt, ad)
				if len(ct) != len(pt)+overhead {
					t.Errorf("len(Seal(%d bytes)) = %d, want %d", len(pt), len(ct), len(pt)+overhead)
				}
				got, err := box.Open(ct, ad)
				if err != nil || !bytes.Equal(got, pt) {
					t.Errorf("Open = %q, %v; want %q", got, err, pt)
				}
			}
		}
	})
	t.Run("same_plaintext_seals_differently", func(t *testing.T) {
		if bytes.Equal(seal(t, []byte("s"), ad), seal(t, []byte("s"), ad)) {
			t.Error("two Seals are equal: nonce reused")
		}
	})
	t.Run("another_box_of_the_same_purpose_opens_it", func(t *testing.T) {
		ct := seal(t, []byte("secret"), ad)
		if got, err := testKeyring(t).Box("totp-secret").Open(ct, ad); err != nil || string(got) != "secret" {
			t.Errorf("Open = %q, %v", got, err)
		}
	})

	ct := seal(t, []byte("JBSWY3DPEHPK3PXP"), ad)
	failures := []struct {
		name string
		box  *Box
		ct   []byte
		ad   []byte
	}{
		{"wrong_additional_data", box, ct, []byte("user:43")},
		{"missing_additional_data", box, ct, nil},
		{"other_purpose", k.Box("recovery-code"), ct, ad},
		{"truncated_tag", box, ct[:len(ct)-1], ad},
		{"extra_byte", box, append(append([]byte(nil), ct...), 0), ad},
		{"nonce_only", box, ct[:12], ad},
		{"shorter_than_nonce", box, ct[:5], ad},
		{"one_byte", box, []byte{0}, ad},
		{"empty", box, []byte{}, ad},
		{"nil", box, nil, ad},
	}
	for i := range ct {
		tampered := append([]byte(nil), ct...)
		tampered[i] ^= 0x01
		failures = append(failures, struct {
			name string
			box  *Box
			ct   []byte
			ad   []byte
		}{"tampered_byte", box, tampered, ad})
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.box.Open(tc.ct, tc.ad)
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Errorf("Open = %q, %v; want nil, ErrDecrypt", got, err)
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	k := testKeyring(f)
	box := k.Box("fuzz")
	ct, err := box.Seal([]byte("hello"), []byte("ad"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct, []byte("ad"))
	f.Add([]byte{}, []byte{})
	f.Add(ct[:12], []byte("ad"))
	f.Add(ct[:27], []byte("ad"))
	f.Add(ct[:28], []byte("ad"))
	f.Fuzz(func(t *testing.T, ct, ad []byte) {
		pt, err := box.Open(ct, ad)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) || pt != nil {
				t.Errorf("Open = %q, %v; want nil, ErrDecrypt", pt, err)
			}
			return
		}
		// Only a genuine Seal output opens; the seed is the only one here.
		if string(pt) != "hello" || string(ad) != "ad" {
			t.Errorf("forged ciphertext %x opened to %q", ct, pt)
		}
	})
}

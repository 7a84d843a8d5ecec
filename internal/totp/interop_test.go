package totp_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/totp"
)

// These tests check our codes and QR codes against independent
// implementations: oathtool (oath-toolkit) and zbarimg (zbar).

// run runs an external tool with a timeout and returns its standard output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func TestInteropOathtool(t *testing.T) {
	oathtool := testutil.RequireTool(t, "oathtool")

	random, err := totp.GenerateSecret(bytes.NewReader([]byte("a fixed 20-byte seed, not random at all")))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []struct {
		name   string
		secret []byte
	}{
		{"RFC_secret", rfcSecret},
		{"other_secret", random},
	}
	times := []int64{0, 59, 1111111109, 1111111111, 1234567890, 1234567919, 1700000000, 2000000000, 20000000000}

	for _, s := range secrets {
		for _, unix := range times {
			t.Run(s.name+"_at_"+strconv.FormatInt(unix, 10), func(t *testing.T) {
				got := strings.TrimSpace(run(t, oathtool,
					"--totp", "--base32", totp.EncodeSecret(s.secret), "--now", "@"+strconv.FormatInt(unix, 10)))
				want := totp.Code(s.secret, totp.Step(time.Unix(unix, 0)))
				if got != want {
					t.Errorf("oathtool says %s, Code says %s", got, want)
				}
			})
		}
	}
}

func TestInteropZbarimg(t *testing.T) {
	zbarimg := testutil.RequireTool(t, "zbarimg")

	tests := []struct {
		name            string
		issuer, account string
		size            int
	}{
		{"plain", "twofold", "alice@example.com", 256},
		{"escaped_label", "Example Co", "bob:smith@example.com", 300},
		{"unicode_label", "Zürich Bank", "李@example.com", 256},
		{"small_image", "twofold", "alice@example.com", 120},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uri := totp.KeyURI(tc.issuer, tc.account, rfcSecret)
			data, err := totp.QRCodePNG(uri, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "qr.png")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSuffix(run(t, zbarimg, "--raw", "-q", file), "\n")
			if got != uri {
				t.Errorf("zbarimg decoded\n%q\nwant\n%q", got, uri)
			}
		})
	}
}

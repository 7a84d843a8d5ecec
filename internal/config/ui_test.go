package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
)

// TestValidateUI: the branding is refused, with the reason, when the accent colour is
// too pale or too dark for one of the schemes, or the logo or name are unusable.
func TestValidateUI(t *testing.T) {
	dir := t.TempDir()
	logo := filepath.Join(dir, "logo.png")
	if err := os.WriteFile(logo, []byte("\x89PNG"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, make([]byte, config.MaxLogoBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ui   config.UI
		want string // "" accepts
	}{
		{"defaults", config.UI{ProductName: "twofold"}, ""},
		{"mid-tone accent and a logo", config.UI{ProductName: "Example ID", AccentColor: "#2f6fd0", LogoFile: logo}, ""},
		{"pale accent fails the light scheme", config.UI{ProductName: "x", AccentColor: "#9ecbff"}, "against the light scheme's background"},
		{"dark accent fails the dark scheme", config.UI{ProductName: "x", AccentColor: "#0b2a5c"}, "against the dark scheme's background"},
		{"accent not a colour", config.UI{ProductName: "x", AccentColor: "blue"}, "not a colour written #rrggbb"},
		{"empty name", config.UI{ProductName: " "}, "ui.product_name"},
		{"svg logo", config.UI{ProductName: "x", LogoFile: filepath.Join(dir, "logo.svg")}, "not a .png"},
		{"missing logo", config.UI{ProductName: "x", LogoFile: filepath.Join(dir, "none.png")}, "ui.logo_file"},
		{"large logo", config.UI{ProductName: "x", LogoFile: big}, "at most 256 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.UI = tc.ui
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

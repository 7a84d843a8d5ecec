package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/contrast"
)

// UI is the branding of the pages: the product's name, its logo and the accent colour of
// buttons and focus rings.
type UI struct {
	// ProductName replaces "twofold" in the header and the page titles.
	ProductName string `yaml:"product_name"`
	// LogoFile is a PNG, JPEG or WebP image shown in the header beside the name; empty
	// shows the name alone.
	LogoFile string `yaml:"logo_file"`
	// AccentColor (#rrggbb) colours buttons and focus rings; empty keeps the built-in blue.
	AccentColor string `yaml:"accent_color"`
}

// DefaultProductName is ui.product_name unless set.
const DefaultProductName = "twofold"

// MaxLogoBytes bounds ui.logo_file: the server holds it in memory and sends it with
// every page.
const MaxLogoBytes = 256 << 10

// PageBackgrounds are the colours an accent colour sits on: the page and the card, in
// the light and the dark scheme (internal/web/static/style.css; a test keeps them equal).
var PageBackgrounds = map[string][]string{
	"light": {"#f6f7f9", "#ffffff"},
	"dark":  {"#111418", "#1b1f24"},
}

// LogoTypes are the logo files' extensions and the types they are served as. SVG is left
// out: opened by itself it could run script on the server's origin.
var LogoTypes = map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}

// applyUIEnv reads TWOFOLD_UI_PRODUCT_NAME, TWOFOLD_UI_LOGO_FILE and TWOFOLD_UI_ACCENT_COLOR.
func (c *Config) applyUIEnv(getenv func(string) string) []error {
	for name, dst := range map[string]*string{
		"TWOFOLD_UI_PRODUCT_NAME": &c.UI.ProductName,
		"TWOFOLD_UI_LOGO_FILE":    &c.UI.LogoFile,
		"TWOFOLD_UI_ACCENT_COLOR": &c.UI.AccentColor,
	} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	return nil
}

// validateUI reports an invalid ui setting, and an accent colour with too little contrast
// (3:1, as WCAG asks of controls) against a page background of either scheme.
func (c *Config) validateUI() []error {
	var p []error
	bad := func(format string, args ...any) { p = append(p, fmt.Errorf(format, args...)) }
	name := c.UI.ProductName
	if strings.TrimSpace(name) == "" || len([]rune(name)) > 64 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		bad("ui.product_name: %s must be 1 to 64 characters without control characters", apperr.Quote(name))
	}
	if f := c.UI.LogoFile; f != "" {
		if _, ok := LogoTypes[strings.ToLower(filepath.Ext(f))]; !ok {
			bad("ui.logo_file: %s is not a .png, .jpg or .webp file", apperr.Quote(f))
		} else if st, err := os.Stat(f); err != nil {
			bad("ui.logo_file: %v", err)
		} else if !st.Mode().IsRegular() || st.Size() > MaxLogoBytes {
			bad("ui.logo_file: %s must be a file of at most %d KiB", apperr.Quote(f), MaxLogoBytes>>10)
		}
	}
	if a := c.UI.AccentColor; a != "" {
		if !contrast.Valid(a) {
			bad("ui.accent_color: %s is not a colour written #rrggbb", apperr.Quote(a))
			return p
		}
		for _, scheme := range []string{"light", "dark"} {
			for _, bg := range PageBackgrounds[scheme] {
				if r, _ := contrast.Ratio(a, bg); r < contrast.UI {
					bad("ui.accent_color: %s has a contrast of %.2f:1 against the %s scheme's background %s; buttons and focus rings need at least 3:1 (choose a mid-tone colour)", a, r, scheme, bg)
				}
			}
		}
	}
	return p
}

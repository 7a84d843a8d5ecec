package web_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestBranding: ui.product_name, ui.logo_file and ui.accent_color change every page, the
// colour through a style sheet and the logo through a route, so the pages keep a CSP
// without inline style; without them the pages are twofold's own.
func TestBranding(t *testing.T) {
	t.Parallel()
	logo := filepath.Join(t.TempDir(), "logo.png")
	png := []byte("\x89PNG\r\n\x1a\nlogo")
	if err := os.WriteFile(logo, png, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) {
		c.UI = config.UI{ProductName: "Example ID", LogoFile: logo, AccentColor: "#2f6fd0"}
	}})
	c := srv.Client(t)
	wantPage(t, c.Get("/login"), http.StatusOK, "<title>Sign in · Example ID</title>",
		`<link rel="stylesheet" href="/brand.css">`, `<img src="/brand/logo" alt="" height="28">Example ID</a>`)
	r := c.Get("/brand.css")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "text/css; charset=utf-8" ||
		!bytes.Contains(r.Body, []byte("--brand: #2f6fd0; --on-brand: #ffffff;")) {
		t.Errorf("/brand.css: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	r = c.Get("/brand/logo")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" || !bytes.Equal(r.Body, png) {
		t.Errorf("/brand/logo: %d %s %q", r.Status, r.Header.Get("Content-Type"), r.Body)
	}

	plain := newServer(t).Client(t)
	r = plain.Get("/login")
	wantPage(t, r, http.StatusOK, "<title>Sign in · twofold</title>")
	if bytes.Contains(r.Body, []byte("/brand")) {
		t.Error("an unbranded page links the brand's style sheet or logo")
	}
	for _, path := range []string{"/brand.css", "/brand/logo"} {
		if r := plain.Get(path); r.Status != http.StatusNotFound {
			t.Errorf("%s without branding: %d, want 404", path, r.Status)
		}
	}
}

package web_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/contrast"
)

// TestStyleContrast checks the colours of style.css, in the light and the dark scheme,
// against WCAG 2.2 AA: text 4.5:1 on what it sits on; the borders of fields and the focus
// ring 3:1 (axe-core checks text on the rendered pages, but not these).
func TestStyleContrast(t *testing.T) {
	css, err := os.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	light := styleVars(t, string(css), ":root {")
	dark := styleVars(t, string(css), "@media (prefers-color-scheme: dark) {")
	for name, v := range light {
		if _, ok := dark[name]; !ok {
			dark[name] = v
		}
	}
	pairs := []struct {
		fg, bg string
		min    float64
	}{
		{"fg", "bg", contrast.Text}, {"fg", "card", contrast.Text},
		{"muted", "bg", contrast.Text}, {"muted", "card", contrast.Text},
		{"accent", "bg", contrast.Text}, {"accent", "card", contrast.Text},
		{"on-accent", "accent", contrast.Text}, {"on-err", "err", contrast.Text},
		{"ok", "card", contrast.Text}, {"warn", "card", contrast.Text}, {"err", "card", contrast.Text},
		{"err", "err-bg", contrast.Text}, {"ok", "ok-bg", contrast.Text}, {"warn", "warn-bg", contrast.Text},
		{"accent", "open-bg", contrast.Text}, {"fg", "subtle", contrast.Text}, {"accent", "pressed", contrast.Text},
		{"field", "card", contrast.UI}, {"focus", "card", contrast.UI}, {"focus", "bg", contrast.UI},
	}
	for scheme, vars := range map[string]map[string]string{"light": light, "dark": dark} {
		// The configuration checks an accent colour against these.
		if want := []string{vars["bg"], vars["card"]}; !equalColours(want, config.PageBackgrounds[scheme]) {
			t.Errorf("%s: config.PageBackgrounds is %v, style.css has %v", scheme, config.PageBackgrounds[scheme], want)
		}
		for _, p := range pairs {
			r, err := contrast.Ratio(vars[p.fg], vars[p.bg])
			if err != nil {
				t.Errorf("%s: --%s on --%s: %v", scheme, p.fg, p.bg, err)
				continue
			}
			if r < p.min {
				t.Errorf("%s: --%s %s on --%s %s is %.2f:1, want at least %.1f:1", scheme, p.fg, vars[p.fg], p.bg, vars[p.bg], r, p.min)
			}
		}
	}
}

// equalColours compares colours written #rgb or #rrggbb.
func equalColours(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if r, err := contrast.Ratio(a[i], b[i]); err != nil || r != 1 {
			return false
		}
	}
	return true
}

var styleVar = regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]+)`)

// styleVars returns the custom properties set in the first :root block after marker.
func styleVars(t *testing.T, css, marker string) map[string]string {
	t.Helper()
	i := strings.Index(css, marker)
	if i < 0 {
		t.Fatalf("style.css has no %q", marker)
	}
	block := css[i:]
	block = block[strings.Index(block, ":root {"):]
	block = block[:strings.Index(block, "}")]
	vars := map[string]string{}
	for _, m := range styleVar.FindAllStringSubmatch(block, -1) {
		vars[m[1]] = m[2]
	}
	return vars
}

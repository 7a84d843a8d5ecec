package web_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/i18n/i18ntest"
)

// TestTemplatesHaveNoUntranslatedText fails on text in a page template that does not
// come from the message catalog: every word a person reads goes through {{t "key"}}.
func TestTemplatesHaveNoUntranslatedText(t *testing.T) {
	names, err := filepath.Glob("templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := i18ntest.Untranslated(n, string(src), true)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			t.Errorf("internal/web/%s has text that is not in the message catalog: %q\n"+
				"\tMove it into the catalog: add a key (for example \"%s.something\") with its English, German and French text "+
				"to internal/i18n/locales/en.json, de.json and fr.json, and write {{t \"%[2]s.something\"}} in the template "+
				"(thtml and a key ending in _html for text with links or markup; arguments as pairs: {{t \"key\" \"Name\" .Name}}).",
				n, text, strings.TrimSuffix(filepath.Base(n), ".html"))
		}
	}
}

// TestTemplatesUseKnownKeys fails on a {{t "key"}} whose key the catalog lacks.
func TestTemplatesUseKnownKeys(t *testing.T) {
	err := fs.WalkDir(os.DirFS("templates"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := os.ReadFile(filepath.Join("templates", p))
		if err != nil {
			return err
		}
		keys, _, err := i18ntest.Keys(p, string(src))
		if err != nil {
			return err
		}
		for _, k := range keys {
			for _, l := range i18n.Languages {
				if !i18n.Has(l.Tag, k) {
					t.Errorf("internal/web/templates/%s uses the key %q, which internal/i18n/locales/%s.json lacks", p, k, l.Tag)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

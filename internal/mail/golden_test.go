package mail_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/i18n/i18ntest"
	"github.com/twofold-id/twofold/internal/mail"
)

var update = flag.Bool("update", false, "rewrite the golden files of the mails under testdata/golden")

// TestMailGolden renders every mail in every language and compares subject, text and HTML
// with testdata/golden/KIND.LANG.txt and .html; -update writes them (read the diff before
// committing: it is what people receive).
func TestMailGolden(t *testing.T) {
	d := mail.Data{Product: "Example ID", Name: "ada", Reference: "TF-ABC234", NewEmail: "ada.new@example.org",
		Link: "https://id.example.com/link?token=abc&x=1", At: time.Date(2030, 3, 4, 5, 6, 0, 0, time.UTC),
		ExpiresAt: time.Date(2030, 3, 5, 5, 6, 0, 0, time.UTC), IP: "192.0.2.1", UserAgent: "Firefox on Linux"}
	for _, l := range i18n.Languages {
		for _, kind := range mail.Kinds {
			t.Run(kind+"."+l.Tag, func(t *testing.T) {
				d := d
				d.Lang = l.Tag
				m, err := mail.Compose(kind, "ada@example.com", d)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, kind+"."+l.Tag+".txt", "Subject: "+m.Subject+"\n\n"+m.Text)
				golden(t, kind+"."+l.Tag+".html", m.HTML)
				if l.Tag != i18n.Default && strings.Contains(m.Text, "Hello ") {
					t.Errorf("the %s mail greets in English:\n%s", l.Tag, m.Text)
				}
			})
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./internal/mail -run TestMailGolden -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./internal/mail -run TestMailGolden -update rewrites it):\n--- want\n%s\n--- got\n%s", p, want, got)
	}
}

// TestMailTemplatesHaveNoUntranslatedText fails on text in a mail template that does not
// come from the message catalog.
func TestMailTemplatesHaveNoUntranslatedText(t *testing.T) {
	names, err := filepath.Glob("templates/*")
	if err != nil || len(names) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := i18ntest.Untranslated(n, string(src), strings.HasSuffix(n, ".html"))
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			t.Errorf("internal/mail/%s has text that is not in the message catalog: %q\n"+
				"\tMove it into the catalog: add a key (for example \"mail.KIND.p1\") with its English, German and French text "+
				"to internal/i18n/locales/en.json, de.json and fr.json, and write {{t \"mail.KIND.p1\" .}} in the template "+
				"(t takes the mail's data: {{.Name}}, {{.Product}}, {{.Link}}, {{.At}}, {{.Expires}}, … in the message).", n, text)
		}
	}
}

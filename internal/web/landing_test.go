package web

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzReturnPath feeds arbitrary return paths: whatever returnPath accepts is a clean path
// that a browser, reading "\" as "/" and skipping tabs and line breaks, resolves on our
// host, and that returnPath accepts again unchanged.
func FuzzReturnPath(f *testing.F) {
	for _, s := range []string{"/account/security", "/oidc/continue?id=a%2Fb", `/./\evil.example`, `/x/../\evil.example`,
		"/./%5Cevil.example", "/%255Cevil.example", "//evil.example", "/.//evil.example", "/%2F%2Fevil.example",
		"/\t/evil.example", "https:evil.example", "/\uff0fevil.example", "/a/b/../../..//evil.example", "/?next=//x#//y"} {
		f.Add(s)
	}
	ours, _ := url.Parse("https://ours.example/login")
	f.Fuzz(func(t *testing.T, raw string) {
		clean, ok := returnPath(raw)
		if !ok {
			return
		}
		if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") || strings.ContainsRune(clean, '\\') || !printableASCII(clean) {
			t.Fatalf("returnPath(%q) = %q: not a clean path", raw, clean)
		}
		asBrowser := strings.Map(func(r rune) rune {
			switch r {
			case '\t', '\n', '\r':
				return -1
			case '\\':
				return '/'
			}
			return r
		}, clean)
		u, err := ours.Parse(asBrowser)
		if err != nil || u.Host != ours.Host || u.Scheme != ours.Scheme {
			t.Fatalf("returnPath(%q) = %q, which a browser takes to %v (%v)", raw, clean, u, err)
		}
		if again, ok := returnPath(clean); !ok || again != clean {
			t.Fatalf("returnPath(%q) = %q, but returnPath of that = %q, %v", raw, clean, again, ok)
		}
	})
}

package i18n_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/i18n/i18ntest"
)

// dynamicKeys are the key families Go code builds at run time instead of naming them.
var dynamicKeys = []string{"status."} // the error page's title: "status." + the HTTP status

// TestCatalogComplete fails when a language lacks a key another has, or a message differs
// from English in the arguments it takes.
func TestCatalogComplete(t *testing.T) {
	en := i18n.Keys(i18n.Default)
	if len(en) == 0 {
		t.Fatal("the English catalog is empty")
	}
	args := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	argsOf := func(lang, key string) string {
		raw, err := os.ReadFile(filepath.Join("locales", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		// The names a message uses, in any of its forms, sorted: the forms of a plural
		// message may leave the count out (French "dans la minute").
		set := map[string]bool{}
		for _, m := range args.FindAllStringSubmatch(messageText(t, raw, key), -1) {
			set[m[1]] = true
		}
		delete(set, "Count")
		var out []string
		for a := range set {
			out = append(out, a)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	for _, l := range i18n.Languages[1:] {
		for _, k := range en {
			if !i18n.Has(l.Tag, k) {
				t.Errorf("locales/%s.json lacks %q (English: %q)", l.Tag, k, i18n.T("en", k))
			} else if a, b := argsOf("en", k), argsOf(l.Tag, k); a != b {
				t.Errorf("locales/%s.json: %q takes the arguments [%s], English [%s]", l.Tag, k, b, a)
			}
		}
		for _, k := range i18n.Keys(l.Tag) {
			if !i18n.Has(i18n.Default, k) {
				t.Errorf("locales/%s.json has %q, which English lacks", l.Tag, k)
			}
		}
	}
}

// messageText returns the JSON text of key's message in raw, all its forms together.
func messageText(t *testing.T, raw []byte, key string) string {
	t.Helper()
	i := strings.Index(string(raw), strconv.Quote(key)+":")
	if i < 0 {
		return ""
	}
	rest := string(raw[i:])
	if end := strings.Index(rest, "\n \""); end > 0 {
		rest = rest[:end]
	}
	return rest
}

// TestCatalogKeysUsed fails on a key used in Go or a template that the catalog lacks, and
// on a key nothing uses.
func TestCatalogKeysUsed(t *testing.T) {
	used := map[string]bool{}
	built := append([]string(nil), dynamicKeys...)
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go"):
			goKeys(t, p, used)
		case strings.Contains(p, string(filepath.Separator)+"templates"+string(filepath.Separator)):
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			keys, prefixes, err := i18ntest.Keys(p, string(src))
			if err != nil {
				return err
			}
			for _, prefix := range prefixes {
				built = append(built, prefix)
				if !hasPrefix(i18n.Keys(i18n.Default), prefix) {
					t.Errorf("%s builds keys starting with %q, and the catalog has none", p, prefix)
				}
			}
			for _, k := range keys {
				used[k] = true
				if !i18n.Has(i18n.Default, k) {
					t.Errorf("%s uses the key %q, which the catalog lacks: add it to internal/i18n/locales/*.json", p, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range i18n.Keys(i18n.Default) {
		dynamic := false
		for _, prefix := range built {
			dynamic = dynamic || strings.HasPrefix(k, prefix)
		}
		if !used[k] && !dynamic {
			t.Errorf("the catalog's key %q is used nowhere: remove it from internal/i18n/locales/*.json", k)
		}
	}
}

func hasPrefix(keys []string, prefix string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// keyFuncs are the functions whose second argument is a catalog key: i18n.T and HTML
// (lang, key), apperr.Msg (code, key), and the web server's tr (request, key).
var keyFuncs = map[string]bool{"T": true, "HTML": true, "Msg": true, "tr": true}

// goKeys adds every string literal of the Go file p that is a catalog key to used, and
// fails on a literal key passed to a keyFuncs function that the catalog lacks.
func goKeys(t *testing.T, p string, used map[string]bool) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				if s, err := strconv.Unquote(n.Value); err == nil && i18n.Has(i18n.Default, s) {
					used[s] = true
				}
			}
		case *ast.CallExpr:
			name := ""
			switch fn := n.Fun.(type) {
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			case *ast.Ident:
				name = fn.Name
			}
			if keyFuncs[name] && len(n.Args) >= 2 {
				if lit, ok := n.Args[1].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && !i18n.Has(i18n.Default, s) {
						t.Errorf("%s: %s(…, %q): the catalog lacks this key", p, name, s)
					}
				}
			}
		}
		return true
	})
}

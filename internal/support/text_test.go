package support

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/i18n"
)

// TestSayNamesEveryArgument reads every say call of the package whose key is written out
// and checks that it passes exactly the arguments the catalog's sentence names, so no
// timeline entry says "<no value>" in any language (the catalog test checks that every
// language names the same ones). The calls with a key chosen at run time are the stale
// reasons (no arguments), the factors (Name) and the closing (Reason), which
// TestTimelineInTheReadersLanguage says in full.
func TestSayNamesEveryArgument(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "i18n", "locales", i18n.Default+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var catalog map[string]json.RawMessage
	if err := json.Unmarshal(raw, &catalog); err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "say" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			calls++
			var passed []string
			for i := 1; i < len(call.Args); i += 2 {
				a, ok := call.Args[i].(*ast.BasicLit)
				if !ok {
					t.Errorf("%s: say(%q, …) names an argument that is not written out", fset.Position(call.Pos()), key)
					continue
				}
				s, _ := strconv.Unquote(a.Value)
				passed = append(passed, s)
			}
			if len(call.Args)%2 == 0 {
				t.Errorf("%s: say(%q, …) has an argument without a value", fset.Position(call.Pos()), key)
			}
			var wanted []string // in every form of the sentence
			for _, m := range named.FindAllStringSubmatch(string(catalog[key]), -1) {
				wanted = append(wanted, m[1])
			}
			slices.Sort(passed)
			slices.Sort(wanted)
			wanted = slices.Compact(wanted)
			if !i18n.Has(i18n.Default, key) {
				t.Errorf("%s: say(%q): the catalog lacks the sentence", fset.Position(call.Pos()), key)
			} else if !slices.Equal(passed, wanted) {
				t.Errorf("%s: say(%q) passes %v, the sentence names %v", fset.Position(call.Pos()), key, passed, wanted)
			}
			return true
		})
	}
	if calls < 20 {
		t.Errorf("found %d say calls with a written-out key; the package has more: is the walk broken?", calls)
	}
}

// TestAnUnknownVerificationIsSaidAsStored: a method this release does not know (a newer
// release's, read during a rolling upgrade) is named as stored, and the entry keeps its
// whole English text instead of an empty one.
func TestAnUnknownVerificationIsSaidAsStored(t *testing.T) {
	for _, v := range append(slices.Clone(Verifications), "sms") {
		body := say("timeline.reset_requested", "Agent", "alice", "Username", "ada", "How", verifiedBy(v), "Note", "n").English()
		if !strings.HasPrefix(body, "alice asks to reset the MFA of ada (verified by ") || strings.Contains(body, "<no value>") {
			t.Errorf("verification %q: %q", v, body)
		}
		if v == "sms" && !strings.Contains(body, "verified by sms: n)") {
			t.Errorf("verification %q: %q, want it named as stored", v, body)
		}
	}
}

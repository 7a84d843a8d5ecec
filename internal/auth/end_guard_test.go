package auth_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// endingCalls are the store operations that end sessions, session-bound and offline OIDC
// grants or pending setups for a user. Only End may call them, so that one table decides.
var endingCalls = map[string]bool{
	"DeleteSession":              true,
	"DeleteUserSessions":         true,
	"DeleteUserOIDCGrants":       true,
	"DeleteSessionOIDCGrants":    true,
	"DeleteOtherOIDCGrants":      true,
	"DeleteOrphanedPendingTOTP":  true,
	"DeleteUserOIDCClientAccess": true,
}

// TestOnlyEndEndsAccess fails when code outside End (and the store itself) calls a store
// operation that ends a user's sessions or grants: such a call would be a second rule.
func TestOnlyEndEndsAccess(t *testing.T) {
	root := filepath.Join("..", "..")
	allowed := filepath.Join("internal", "auth", "end.go")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == filepath.Join("internal", "store") || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || rel == allowed {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && endingCalls[sel.Sel.Name] {
					t.Errorf("%s calls %s: end access through (*auth.Service).End", fset.Position(call.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

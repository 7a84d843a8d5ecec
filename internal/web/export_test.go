package web

import (
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/oidc"
)

// DocumentedRoutes is the route table of docs/api.md: pattern to access level.
func DocumentedRoutes(t *testing.T) map[string]string { return documentedRoutes(t) }

// PagePosts lists the patterns of every form POST route the router registers (the JSON
// API and the OpenID Connect protocol endpoints aside).
func PagePosts(t *testing.T) []string {
	var out []string
	for _, rt := range allRoutes(t).routeTable {
		path, isPost := strings.CutPrefix(rt.pattern, "POST ")
		if _, protocol := oidc.ProtocolMethods[path]; isPost && !protocol && !strings.HasPrefix(path, "/api/") {
			out = append(out, rt.pattern)
		}
	}
	return out
}

// AdminRoute is an admin route: its pattern and the scope a token needs for it.
type AdminRoute struct{ Pattern, Scope string }

// AdminRoutes lists every route of level admin.
func AdminRoutes(t *testing.T) []AdminRoute {
	var out []AdminRoute
	for _, rt := range allRoutes(t).routeTable {
		if rt.access == administrator {
			out = append(out, AdminRoute{rt.pattern, string(rt.scope)})
		}
	}
	return out
}

// Probe is a method and path that pattern matches, each wildcard filled in.
func Probe(pattern string) (method, path string) {
	r := probe(pattern)
	return r.Method, r.URL.Path
}

// RouteLevels is every registered route's pattern with its level as docs/api.md shows it.
func RouteLevels(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, rt := range allRoutes(t).routeTable {
		out[rt.pattern] = rt.level()
	}
	return out
}

// OpenAPI is the embedded OpenAPI description.
func OpenAPI() []byte { return openAPI }

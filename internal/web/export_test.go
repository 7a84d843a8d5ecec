package web

import (
	"strings"
	"testing"
)

// DocumentedRoutes is the route table of docs/api.md: pattern to access level.
func DocumentedRoutes(t *testing.T) map[string]string { return documentedRoutes(t) }

// PagePosts lists the patterns of every form POST route the router registers (the JSON
// API aside).
func PagePosts(t *testing.T) []string {
	var out []string
	for _, rt := range allRoutes(t).routeTable {
		if strings.HasPrefix(rt.pattern, "POST ") && !strings.HasPrefix(rt.pattern, "POST /api/") {
			out = append(out, rt.pattern)
		}
	}
	return out
}

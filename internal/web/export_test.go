package web

import "testing"

// DocumentedRoutes is the route table of docs/api.md: pattern to access level.
func DocumentedRoutes(t *testing.T) map[string]string { return documentedRoutes(t) }

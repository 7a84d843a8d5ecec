package apitoken

import "slices"

// Scopes an API token can have; each admin API route names the one it needs.
const (
	ScopeUsersRead    = "users:read"    // list and read users
	ScopeUsersWrite   = "users:write"   // create, change, sign out, reset and delete users
	ScopeAuditRead    = "audit:read"    // read and export the audit log
	ScopeClientsWrite = "clients:write" // manage OIDC clients and signing keys
	ScopeCasesRead    = "cases:read"    // read support cases
)

// Scopes are all scopes, in the order they are shown.
var Scopes = []string{ScopeUsersRead, ScopeUsersWrite, ScopeAuditRead, ScopeClientsWrite, ScopeCasesRead}

// ValidScope reports whether s is one of Scopes.
func ValidScope(s string) bool { return slices.Contains(Scopes, s) }

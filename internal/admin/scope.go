package admin

import (
	"slices"

	"github.com/twofold-id/twofold/internal/audit"
)

// Scope is what an API token may do on the admin API; every admin route names the one it
// needs. A console session of an administrator holds every scope.
type Scope string

// The scopes.
const (
	ScopeUsersRead    Scope = "users:read"
	ScopeUsersWrite   Scope = "users:write"
	ScopeAuditRead    Scope = "audit:read"
	ScopeClientsWrite Scope = "clients:write"
	ScopeCasesRead    Scope = "cases:read"
)

// Scopes lists every scope, in the order docs and forms show them.
var Scopes = []Scope{ScopeUsersRead, ScopeUsersWrite, ScopeAuditRead, ScopeClientsWrite, ScopeCasesRead}

// ValidScope reports whether s names a scope.
func ValidScope(s string) bool { return slices.Contains(Scopes, Scope(s)) }

// Actor is who performs an admin action: an administrator's session, or an API token
// (TokenID) acting for the administrator who made it (UserID).
type Actor struct {
	UserID  string
	TokenID string
}

// AuditID is the actor as the audit log records it: the administrator's user id, or
// "token:" and the token's id for an API token.
func (a Actor) AuditID() string {
	if a.TokenID != "" {
		return audit.TokenActorPrefix + a.TokenID
	}
	return a.UserID
}

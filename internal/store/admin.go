package store

import (
	"context"
)

// Account statuses the admin list filters by. An account has one: disabled first, then
// invited (no password yet: the invitation is not accepted), then locked (a failure
// budget reached the lock), else active.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
	UserInvited  = "invited"
	UserLocked   = "locked"
)

// ValidUserStatus reports whether s is one of the account statuses.
func ValidUserStatus(s string) bool {
	return s == UserActive || s == UserDisabled || s == UserInvited || s == UserLocked
}

// Second factors the admin list filters by: none at all, an authenticator app, or at
// least one security key or passkey.
const (
	MFANone = "none"
	MFAApp  = "app"
	MFAKey  = "key"
)

// ValidMFAFilter reports whether s is one of the second-factor filters.
func ValidMFAFilter(s string) bool { return s == MFANone || s == MFAApp || s == MFAKey }

// UserFilter selects users for the admin list; zero values match everything.
type UserFilter struct {
	// ID selects the one user with that id.
	ID string
	// Query matches, case-insensitively, a part of the username, e-mail or display name.
	Query  string
	Role   string
	Status string // UserActive, UserDisabled, UserInvited or UserLocked
	MFA    string // MFANone, MFAApp or MFAKey
	// LockedAt is the number of failures at which a budget is locked (the throttle
	// policy's MaxFailures); it decides UserLocked.
	LockedAt int
	// After is the last row of the page before: the list goes on after it.
	After Cursor
	// Limit caps the rows returned; 0 returns every row.
	Limit int
}

// UserSummary is a user in the admin list, with its status and second factors.
type UserSummary struct {
	User
	Status string
	TOTP   bool // an authenticator app is set up
	Keys   int  // security keys and passkeys
}

// Cursor is the summary's position in the admin list.
func (u UserSummary) Cursor() Cursor { return Cursor{At: u.CreatedAt, ID: u.ID} }

// UserCounts counts the users a filter matches, by status.
type UserCounts struct {
	All, Active, Disabled, Invited, Locked int
}

// AdminStore is what the admin console reads beyond Store's single-row lookups. Its methods
// follow the same rules as Store's.
type AdminStore interface {
	// SearchUsers returns the users f selects, newest first (by creation time, then id),
	// starting after f.After, at most f.Limit. Users created after a page was read come
	// before it, never inside a later page: paging is stable under inserts.
	SearchUsers(ctx context.Context, f UserFilter) ([]UserSummary, error)
	// CountUsers counts the users f selects by status; f.Status, f.After and f.Limit are
	// ignored, so the counts are those of each status tab.
	CountUsers(ctx context.Context, f UserFilter) (UserCounts, error)
	// ListUserCases returns the cases about the user that are not closed, newest first:
	// those opened with the user's address (emailNorm), and those whose e-mail ownership
	// was proven for the user.
	ListUserCases(ctx context.Context, userID, emailNorm string) ([]SupportCase, error)
	// LockAdmins counts the enabled administrators and, inside WithTx, locks their rows
	// until the transaction ends: two transactions that each take away one of the last
	// two administrators take turns, and the second one counts one.
	LockAdmins(ctx context.Context) (int, error)
	// LockUser returns the user with id and, inside WithTx, locks the row until the
	// transaction ends: a change decided on the row (an API token's, allowed only on a
	// plain user) cannot land on a role changed meanwhile. ErrNotFound when there is none.
	LockUser(ctx context.Context, id string) (*User, error)
}

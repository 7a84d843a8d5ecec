// Package invite owns invitations: accounts an administrator creates without a password,
// whose owner sets one through a single-use link mailed to them.
package invite

package auth

import (
	"context"
	"errors"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// ErrTokenOnPrivileged refuses an API token's change to an administrator's or a support
// agent's account, and a token's change that would make one. A token is automation: it
// may leak with a script's configuration, and whoever holds it must neither act on the
// people who would revoke it nor make themselves an administrator or an agent (who
// approves MFA resets: one token would otherwise fill both halves of dual control).
var ErrTokenOnPrivileged = apperr.Msg(apperr.CodeTokenCannotManageAdmins, "err.admin_token_on_admin")

// TokenMayChange refuses (ErrTokenOnPrivileged) an API token's change, described by m, of
// the account u as read, when u holds a privileged role. Callers check it again on the
// row their transaction locked (tokenMayChangeIn).
func TokenMayChange(m Meta, u *store.User) error {
	if m.ByToken() && store.PrivilegedRole(u.Role) {
		return ErrTokenOnPrivileged
	}
	return nil
}

// TokenMayGiveRole refuses (ErrTokenOnPrivileged) an API token that would give an
// account a privileged role, by invitation or by a role change.
func TokenMayGiveRole(m Meta, role string) error {
	if m.ByToken() && store.PrivilegedRole(role) {
		return ErrTokenOnPrivileged
	}
	return nil
}

// TokenMayChangeIn is TokenMayChange on the account id as the transaction st sees it: for
// an API token's change it locks the administrators' rows and then the account's (the
// order keepAnAdmin takes them in), so a promotion landing between an earlier read and
// this write is seen, and one landing later waits for the write. Other actors' changes
// pass without a lock.
func TokenMayChangeIn(ctx context.Context, st store.Store, id string, m Meta) error {
	if !m.ByToken() {
		return nil
	}
	_, err := lockTarget(ctx, st, id, m)
	return err
}

// lockTarget locks and returns the account id as the transaction st sees it, for a change
// described by m that is decided on the fresh row: for an API token the administrators'
// rows first (as TokenMayChangeIn), then the account's, refused (ErrTokenOnPrivileged)
// when a token's target holds a privileged role. apperr not_found when there is none.
func lockTarget(ctx context.Context, st store.Store, id string, m Meta) (*store.User, error) {
	if m.ByToken() {
		if _, err := st.LockAdmins(ctx); err != nil {
			return nil, err
		}
	}
	fresh, err := st.LockUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.CodeNotFound, "No such user.")
	}
	if err != nil {
		return nil, err
	}
	return fresh, TokenMayChange(m, fresh)
}

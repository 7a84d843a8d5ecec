package admin

import (
	"context"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// errTokenOnAdmin refuses an API token's change to an administrator's account, and a
// token's change that would make one. A token is automation: it may leak with a script's
// configuration, and whoever holds it must not be able to disable, demote, delete, sign
// out, reset or mail a reset link to the people who would revoke it, nor make themselves
// an administrator (who holds every scope and mints tokens). Only an administrator signed
// in with a second factor changes administrators.
var errTokenOnAdmin = apperr.Msg(apperr.CodeTokenCannotManageAdmins, "err.admin_token_on_admin")

// target returns the account id names for a change by actor: apperr not_found for an
// unknown id, token_cannot_manage_admins when actor is an API token and the account is an
// administrator's. Every change the service makes to an existing account starts here, so
// no route or command can forget the rule.
func (s *Service) target(ctx context.Context, actor Actor, id string) (*store.User, error) {
	u, err := s.user(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor.TokenID != "" && u.Role == store.RoleAdmin {
		return nil, errTokenOnAdmin
	}
	return u, nil
}

// mayGiveRole refuses (token_cannot_manage_admins) an API token that would give an
// account the role admin, by invitation or by a role change.
func (a Actor) mayGiveRole(role string) error {
	if a.TokenID != "" && role == store.RoleAdmin {
		return errTokenOnAdmin
	}
	return nil
}

package admin

import (
	"context"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// target returns the account id names for a change by actor: apperr not_found for an
// unknown id, token_cannot_manage_admins when actor is an API token and the account is an
// administrator's or a support agent's (auth.ErrTokenOnPrivileged). Every change the
// service makes to an existing account starts here, so no route or command can forget
// the rule; the write itself checks it again on the row its transaction locks (auth's
// TokenMayChangeIn), so a promotion landing in between is not missed.
func (s *Service) target(ctx context.Context, actor Actor, id string) (*store.User, error) {
	u, err := s.user(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := auth.TokenMayChange(actor.meta(Meta{}), u); err != nil {
		return nil, err
	}
	return u, nil
}

// mayGiveRole refuses (token_cannot_manage_admins) an API token that would give an
// account a privileged role (admin or support), by invitation or by a role change.
func (a Actor) mayGiveRole(role string) error {
	return auth.TokenMayGiveRole(a.meta(Meta{}), role)
}

// meta is m with the actor an API token's when a is one, so the checks the write makes
// in its transaction know a token asked for it whatever the caller put in m.
func (a Actor) meta(m Meta) Meta {
	if a.TokenID != "" {
		m.ActorID = a.AuditID()
	}
	return m
}

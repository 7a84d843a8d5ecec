package auth

import (
	"context"
	"log/slog"
	"time"
)

// Housekeep deletes expired sessions, pending secrets, setup tokens and idle password
// failure budgets every interval until ctx ends. Each round is idempotent, so every
// instance of a scaled-out deployment may run it.
func (s *Service) Housekeep(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			log.Warn("housekeeping failed", "err", err)
		} else if n > 0 {
			log.Debug("housekeeping", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeleteExpired runs one housekeeping round and returns how many rows it deleted.
func (s *Service) DeleteExpired(ctx context.Context) (int, error) {
	now := s.now()
	n, err := s.store.DeleteExpired(ctx, now, now.Add(-s.idle))
	if err != nil {
		return n, err
	}
	forgotten, err := s.forgetIdleBudgets(ctx, now)
	return n + forgotten, err
}

package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/twofold-id/twofold/internal/audit"
)

// Housekeep deletes expired sessions, pending secrets, setup tokens, idle password
// failure budgets and audit events past the retention every interval until ctx ends.
// Each round is idempotent, so every instance of a scaled-out deployment may run it.
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
	// Idle sessions are found by their stored last-seen times: write the noted ones first.
	// The cutoff is taken before: a touch noted after the batch was taken is then of a
	// session seen after it, never idle by it.
	now := s.now()
	if err := s.flushNoted(ctx); err != nil {
		return 0, err
	}
	idleBefore := now.Add(-s.idle)
	if s.batchTouches {
		// Another server on the same SQLite file may hold a later time, not written yet.
		idleBefore = idleBefore.Add(-s.touchFlush - touchGrace)
	}
	n, err := s.store.DeleteExpired(ctx, now, idleBefore)
	if err != nil {
		return n, err
	}
	forgotten, err := s.forgetIdleBudgets(ctx, now)
	if err != nil {
		return n + forgotten, err
	}
	pruned, err := s.pruneAudit(ctx, now)
	return n + forgotten + pruned, err
}

// housekeepingMeta names housekeeping as the actor of what it audits.
var housekeepingMeta = Meta{IP: "housekeeping", UserAgent: "twofold"}

// pruneAudit deletes the audit events older than the retention, cut at midnight UTC, so
// the rounds of one day (on every instance) prune once and write one audit.pruned event.
func (s *Service) pruneAudit(ctx context.Context, now time.Time) (int, error) {
	if s.retention <= 0 {
		return 0, nil
	}
	before := now.Add(-s.retention).UTC().Truncate(24 * time.Hour)
	return audit.Prune(ctx, s.store, now, before, housekeepingMeta, false)
}

package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// touchFlushInterval is how often the last-seen times noted in memory are written, all in
// one commit (BatchTouches), unless Options.TouchFlushInterval says otherwise.
const touchFlushInterval = 5 * time.Second

// touches are the last-seen times of sessions noted since the last write. Written one by
// one, each would be a commit of its own: a signed-in session writes its last-seen time
// once a minute, so a thousand active sessions commit 17 times a second, and on SQLite
// every commit empties the session cache (sqlstore's sessionCache). Written in batches,
// they commit once every touchFlushInterval, however many sessions are active.
type touches struct {
	mu      sync.Mutex
	pending map[string]time.Time // session id: when it was last seen
	closed  bool                 // no batches any more: write each touch at once
}

// note keeps at as the session's last-seen time unless a later one is noted; false when
// batches are over and the caller must write the touch itself.
func (t *touches) note(id string, at time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if p, ok := t.pending[id]; !ok || at.After(p) {
		t.pending[id] = at
	}
	return true
}

// seen is the last-seen time noted for the session and not written yet.
func (t *touches) seen(id string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.pending[id]
	return at, ok
}

// take returns the noted times and forgets them; close as well ends the batches.
func (t *touches) take(close bool) map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pending
	t.pending = make(map[string]time.Time)
	t.closed = t.closed || close
	return p
}

// seenAt is when the session was last seen: the stored time, or a later one noted and not
// written yet. Only a session not written back for touchInterval can have one noted.
func (s *Service) seenAt(sess *store.Session, now time.Time) time.Time {
	seen := sess.LastSeenAt
	if t := s.batch.Load(); t != nil && now.Sub(seen) >= touchInterval {
		if at, ok := t.seen(sess.ID); ok && at.After(seen) {
			seen = at
		}
	}
	return seen
}

// touch records that the session was seen at now: noted for the next batch while
// FlushTouches runs, else written at once.
func (s *Service) touch(ctx context.Context, id string, now time.Time) error {
	if t := s.batch.Load(); t != nil && t.note(id, now) {
		return nil
	}
	if err := s.store.TouchSession(ctx, id, now); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// writeTouches writes the noted last-seen times in one transaction; a session ended since
// is skipped. What could not be written is noted again for the next batch.
func (s *Service) writeTouches(ctx context.Context, t *touches, close bool) error {
	p := t.take(close)
	if len(p) == 0 {
		return nil
	}
	err := s.store.WithTx(ctx, func(st store.Store) error {
		for id, at := range p {
			if err := st.TouchSession(ctx, id, at); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil && !close {
		for id, at := range p {
			t.note(id, at)
		}
	}
	return err
}

// BatchTouches batches the sessions' last-seen times (Options.BatchTouches) until ctx
// ends: instead of a commit per session and minute, one every touchFlushInterval. Then it
// writes what is noted and ends the batches; the returned channel closes after that, so
// the store may close. A server runs it beside its housekeeping (App.Housekeep); without
// it, each touch is written at once, as on PostgreSQL, where instances read each other's
// last-seen times.
func (s *Service) BatchTouches(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	t := &touches{pending: make(map[string]time.Time)}
	if !s.batchTouches || !s.batch.CompareAndSwap(nil, t) {
		close(done) // off, or batching already
		return done
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(s.touchFlush)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				s.batch.Store(nil)
				final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				if err := s.writeTouches(final, t, true); err != nil {
					s.log.Warn("writing the sessions' last-seen times failed", "err", err)
				}
				return
			case <-tick.C:
				if err := s.writeTouches(ctx, t, false); err != nil && ctx.Err() == nil {
					s.log.Warn("writing the sessions' last-seen times failed; retrying", "err", err)
				}
			}
		}
	}()
	return done
}

// flushNoted writes the noted last-seen times now (housekeeping, before it deletes idle
// sessions by their stored times).
func (s *Service) flushNoted(ctx context.Context) error {
	if t := s.batch.Load(); t != nil {
		return s.writeTouches(ctx, t, false)
	}
	return nil
}

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

// touchGrace is how much longer than the idle timeout housekeeping waits before it deletes
// a session by its stored last-seen time, on top of the interval between two batches:
// another server on the same SQLite file may hold a later time not written yet.
const touchGrace = 5 * time.Second

// touch is a session's last-seen time noted in memory.
type touch struct {
	at    time.Time
	dirty bool // not written yet
}

// touches are the last-seen times noted in memory. Written one by one, each would be a
// commit of its own: a signed-in session writes its last-seen time once a minute, so a
// thousand active sessions commit 17 times a second, and on SQLite every commit empties
// the session cache (sqlstore's sessionCache). Written in batches, they commit once every
// touchFlushInterval, however many sessions are active. Dirty ones are not written yet;
// clean ones were written and stay for a minute, so a request that read the row before the
// batch committed still finds them.
type touches struct {
	mu     sync.Mutex
	seenAt map[string]touch
	closed bool
	flush  sync.Mutex // one batch write at a time: a failed one leaves its touches dirty for the next
}

// note keeps at as the session's last-seen time unless a later one is noted; false when
// batches are over and the caller must write the touch itself.
func (t *touches) note(id string, at time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if p, ok := t.seenAt[id]; !ok || at.After(p.at) {
		t.seenAt[id] = touch{at: at, dirty: true}
	}
	return true
}

// seen is the last-seen time noted for the session, written or not.
func (t *touches) seen(id string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.seenAt[id]
	return p.at, ok
}

// dirty returns the touches not written yet (and with close ends the batches); clean ones
// older than touchInterval are forgotten, the stored time says as much.
func (t *touches) dirty(close bool, now time.Time) map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = t.closed || close
	p := make(map[string]time.Time)
	for id, x := range t.seenAt {
		switch {
		case x.dirty:
			p[id] = x.at
		case now.Sub(x.at) > touchInterval:
			delete(t.seenAt, id)
		}
	}
	return p
}

// written marks the touches of p clean unless a later one was noted meanwhile.
func (t *touches) written(p map[string]time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, at := range p {
		if x, ok := t.seenAt[id]; ok && x.at.Equal(at) {
			t.seenAt[id] = touch{at: at}
		}
	}
}

// seenAt is when the session was last seen: the stored time, or a later one noted. Only a
// session not written back for touchInterval can have one noted.
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
// BatchTouches runs, else written at once.
func (s *Service) touch(ctx context.Context, id string, now time.Time) error {
	if t := s.batch.Load(); t != nil && t.note(id, now) {
		return nil
	}
	if err := s.store.TouchSession(ctx, id, now); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// writeTouches writes the noted last-seen times not written yet in one transaction (with
// close, for the last time); a session ended since is skipped. One write runs at a time,
// and what a failed one could not write stays dirty for the next.
func (s *Service) writeTouches(ctx context.Context, t *touches, close bool) error {
	t.flush.Lock()
	defer t.flush.Unlock()
	p := t.dirty(close, s.now())
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
	if err == nil {
		t.written(p)
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
	t := &touches{seenAt: make(map[string]touch)}
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
				final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				// Closed first (new touches are written at once), consulted until written.
				if err := s.writeTouches(final, t, true); err != nil {
					s.log.Warn("writing the sessions' last-seen times failed", "err", err)
				}
				s.batch.Store(nil)
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

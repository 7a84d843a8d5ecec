package auth_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestBatchedTouches: with the last-seen times batched (SQLite), a touch noted in memory
// keeps the session alive at once, housekeeping writes the noted times before it deletes
// idle sessions by the stored ones, the end of the batches writes what is left, and after
// it each touch is written at once again.
func TestBatchedTouches(t *testing.T) {
	// An hour between batches: here only housekeeping and the end write them.
	svc, clock := newService(t, auth.Options{IdleTimeout: time.Minute, Lifetime: time.Hour,
		BatchTouches: true, TouchFlushInterval: time.Hour})
	cur := signedIn(t, svc)
	ctx, stop := context.WithCancel(context.Background())
	done := svc.BatchTouches(ctx)
	defer func() { stop(); <-done }()
	stored := func() time.Time {
		t.Helper()
		list, err := fullStore(svc).ListUserSessions(context.Background(), cur.User.ID, clock.Now())
		if err != nil || len(list) != 1 {
			t.Fatalf("sessions: %d, %v", len(list), err)
		}
		return list[0].LastSeenAt
	}
	start := stored()

	clock.Advance(time.Minute) // a touch is due: noted, not written
	seen := clock.Now()
	if !alive(t, svc, cur.Token) {
		t.Fatal("session ended at its idle timeout's last instant")
	}
	if got := stored(); !got.Equal(start) {
		t.Fatalf("stored last-seen %v, want %v until the batch is written", got, start)
	}
	clock.Advance(59 * time.Second) // idle by the stored time, not by the noted one
	if !alive(t, svc, cur.Token) {
		t.Fatal("a touch noted in memory did not keep the session alive")
	}
	if n, err := svc.DeleteExpired(context.Background()); err != nil || n != 0 {
		t.Fatalf("DeleteExpired = %d, %v; want the noted touch written first and nothing deleted", n, err)
	}
	if got := stored(); !got.Equal(seen) {
		t.Fatalf("stored last-seen %v after housekeeping, want the noted %v", got, seen)
	}

	clock.Advance(time.Second) // a minute after the written touch: the next is due
	seen = clock.Now()
	if !alive(t, svc, cur.Token) {
		t.Fatal("session ended")
	}
	stop()
	<-done
	if got := stored(); !got.Equal(seen) {
		t.Fatalf("stored last-seen %v after the batches ended, want %v", got, seen)
	}
	clock.Advance(time.Minute)
	if !alive(t, svc, cur.Token) {
		t.Fatal("session ended")
	}
	if got := stored(); !got.Equal(clock.Now()) {
		t.Fatalf("stored last-seen %v without batches, want %v written at once", got, clock.Now())
	}
}

// TestTouchesAreWrittenAtOnceWithoutBatches: PostgreSQL's setting (BatchTouches off)
// writes each touch in the request, so other instances see it.
func TestTouchesAreWrittenAtOnceWithoutBatches(t *testing.T) {
	svc, clock := newService(t, auth.Options{IdleTimeout: time.Minute, Lifetime: time.Hour})
	cur := signedIn(t, svc)
	ctx, stop := context.WithCancel(context.Background())
	done := svc.BatchTouches(ctx)
	defer func() { stop(); <-done }()
	clock.Advance(time.Minute)
	if !alive(t, svc, cur.Token) {
		t.Fatal("session ended")
	}
	list, err := fullStore(svc).ListUserSessions(context.Background(), cur.User.ID, clock.Now())
	if err != nil || len(list) != 1 || !list[0].LastSeenAt.Equal(clock.Now()) {
		t.Fatalf("sessions %+v, %v: want last seen %v", list, err, clock.Now())
	}
}

// countingStore counts the stored last-seen times read.
type countingStore struct {
	*sqlstore.DB
	reads atomic.Int32
}

func (c *countingStore) SessionLastSeen(ctx context.Context, id string) (time.Time, error) {
	c.reads.Add(1)
	return c.DB.SessionLastSeen(ctx, id)
}

// TestStoredLastSeenReadOnceAMinute: on PostgreSQL, whose session cache may answer an older
// last-seen time than stored, a session's requests read the stored time once it is a minute
// old, and then not again until the next minute: the touch written then is answered from
// memory. With batched touches (SQLite), whose cache every commit empties, it is never read.
func TestStoredLastSeenReadOnceAMinute(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		st := &countingStore{DB: testserver.Postgres(t)}
		svc, clock := newService(t, auth.Options{Store: st})
		cur := signedIn(t, svc)
		for start := time.Now(); ; time.Sleep(5 * time.Millisecond) { // the cache answers once it listens
			hits, _, _ := st.SessionCacheStats()
			if !alive(t, svc, cur.Token) {
				t.Fatal("session ended")
			}
			if h, _, _ := st.SessionCacheStats(); h > hits {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatal("no session check came from the cache within 10 seconds")
			}
		}
		// A lookup whose barrier is slow reads the database, which holds the touch: only
		// answers from memory could ask for more reads.
		for minute := range int32(3) {
			clock.Advance(time.Minute)
			for range 5 {
				if !alive(t, svc, cur.Token) {
					t.Fatal("session ended")
				}
			}
			if got := st.reads.Load(); got != minute+1 {
				t.Fatalf("after %d minutes of 5 requests each: %d reads of the stored last-seen time, want %d", minute+1, got, minute+1)
			}
		}
	})
	t.Run("sqlite_batched", func(t *testing.T) {
		db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "twofold.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st := &countingStore{DB: db}
		svc, clock := newService(t, auth.Options{Store: st, BatchTouches: true, TouchFlushInterval: time.Second})
		ctx, stop := context.WithCancel(context.Background())
		done := svc.BatchTouches(ctx)
		defer func() { stop(); <-done }()
		cur := signedIn(t, svc)
		for range 3 {
			clock.Advance(time.Minute)
			for range 5 {
				if !alive(t, svc, cur.Token) {
					t.Fatal("session ended")
				}
			}
		}
		if got := st.reads.Load(); got != 0 {
			t.Fatalf("%d reads of the stored last-seen time with batched touches, want none", got)
		}
	})
}

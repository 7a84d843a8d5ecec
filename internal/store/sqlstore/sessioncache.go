package sqlstore

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// sessionCache keeps what GetSessionUser read for a token hash for as long as nobody
// commits to the database. On SQLite every commit, by this process or any other (`twofold
// user sign-out`, a second server on the same file), changes the WAL-index header
// (commitWatch); on PostgreSQL every commit that changes a session, user, authenticator or
// security key notifies every instance, and a lookup waits until its instance has received
// whatever was committed before it began (notifyWatch). An entry is answered only while
// the mark is still the one seen before the entry was read. A session ended, a user
// disabled or an authenticator removed anywhere is therefore refused at the next request,
// exactly as without the cache. The cache answers only the rows; every time-dependent
// decision (expiry, idle timeout) is made again on each request.
//
// One column is the exception on PostgreSQL: a session's last-seen time, which every
// instance writes once a minute per session it serves, notifies nobody (migration 29), so
// an entry may hold an older one than stored. The time this instance wrote or read last
// (TouchSession, SessionLastSeen) is answered in its place when later; a caller that
// decides on the time reads the stored one first (auth.Service.Authenticate).
//
// Any commit the watch sees, even one that touches another account, empties the cache: it
// cannot tell which rows a commit changed. Under sign-ins, or anything else that writes, it hits less often;
// under the page and API requests of signed-in users, which write at most once a minute
// per session (the last-seen time), it answers nearly every request.
type sessionCache struct {
	mu sync.RWMutex
	// watch is nil once closed: then nothing is answered or kept.
	watch watcher
	// at is the header every entry was read under; entries maps token hashes to what
	// GetSessionUser read.
	at      commitMark
	entries map[string]*store.SessionUser
	// seen maps session IDs to the latest last-seen time this instance wrote or read. It
	// outlives commits: what it answers is only ever a time the session was seen at, and a
	// session ended since has no entry it could be answered with.
	seen map[string]time.Time
	// hits and misses count the lookups, for tests and measurements.
	hits, misses atomic.Uint64
}

// A watcher tells whether anyone committed since an earlier look: commitWatch on SQLite,
// notifyWatch on PostgreSQL.
type watcher interface {
	// mark returns what was committed until now; equal marks mean nothing was committed in
	// between. ok is false when it cannot tell: then nothing is answered from the cache.
	mark(ctx context.Context) (m commitMark, ok bool)
	// latest is mark or older, without waiting: a mark to read the database under (what
	// was committed after it changes the mark), and good to tell that a mark is out of date,
	// but not to answer from the cache.
	latest() (m commitMark, ok bool)
	// waits reports whether mark waits (for a round trip to the database); then it is
	// taken only for an entry that may be answered.
	waits() bool
	// stop stops watching, and returns what lets go of the rest once the pool is closed.
	stop() (release func())
}

// sessionCacheEntries bounds the cache. An entry is a few hundred bytes; when full, the
// cache starts over, as it does at every commit.
const sessionCacheEntries = 4096

func newSessionCache(w watcher) *sessionCache {
	return &sessionCache{watch: w, entries: make(map[string]*store.SessionUser), seen: make(map[string]time.Time)}
}

// saw notes at as a stored last-seen time of the session id.
func (c *sessionCache) saw(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watch == nil || !at.After(c.seen[id]) {
		return
	}
	if len(c.seen) >= sessionCacheEntries {
		clear(c.seen)
	}
	c.seen[id] = at
}

// answer is a copy of e for a caller, with the latest last-seen time noted. Call it with
// c.mu held.
func (c *sessionCache) answer(e *store.SessionUser) *store.SessionUser {
	x := copyOf(e)
	if at, ok := c.seen[x.Session.ID]; ok && at.After(x.Session.LastSeenAt) {
		x.Session.LastSeenAt = at
	}
	return x
}

// get returns a copy of the entry for key when nobody committed since it was read. Else
// it returns the mark to read the database under (ok: a mark was taken; put only with one).
// A mark taken before the read is good for that: whatever was committed after it changes
// the mark, so the entry is never answered under a later one.
func (c *sessionCache) get(ctx context.Context, key []byte) (x *store.SessionUser, m commitMark, ok bool) {
	c.mu.RLock()
	if c.watch == nil {
		c.mu.RUnlock()
		return nil, m, false
	}
	w := c.watch
	// Under the lock: SQLite's latest reads memory that close unmaps.
	m, ok = w.latest()
	e := c.entries[string(key)]
	if !ok || m != c.at || e == nil || !w.waits() {
		defer c.mu.RUnlock()
		if ok && m == c.at && e != nil { // SQLite: latest is the mark
			c.hits.Add(1)
			return c.answer(e), m, true
		}
		// Nothing to answer: the database is read under latest's mark, with no barrier.
		c.misses.Add(1)
		return nil, m, ok
	}
	c.mu.RUnlock()
	// PostgreSQL, with an entry that may be answered: only under a mark that waited for
	// a barrier, taken without the lock.
	m, ok = w.mark(ctx)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if ok && c.watch != nil && m == c.at {
		if e := c.entries[string(key)]; e != nil {
			c.hits.Add(1)
			return c.answer(e), m, true
		}
	}
	c.misses.Add(1)
	return nil, m, ok
}

// put keeps x, read from the database after the header was m. Correctness rests on get
// alone: x is answered only while the header is still m, that is while nothing was
// committed since before x was read. put merely keeps a slow reader's older mark from
// emptying a newer cache: x starts the cache over only when m is still current.
func (c *sessionCache) put(key []byte, m commitMark, x *store.SessionUser) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watch == nil {
		return
	}
	if m != c.at {
		if now, ok := c.watch.latest(); !ok || now != m {
			return
		}
		c.at = m
		clear(c.entries)
	}
	if len(c.entries) >= sessionCacheEntries {
		clear(c.entries)
	}
	c.entries[string(key)] = copyOf(x)
}

// close stops the cache and unmaps the header; lookups in flight finish first.
// It returns what lets go of the -shm file, to call once the pool is closed.
func (c *sessionCache) close() (release func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	release = func() {}
	if c.watch != nil {
		release = c.watch.stop()
		c.watch = nil
	}
	clear(c.entries)
	clear(c.seen)
	return release
}

// stats reports the lookups answered from the cache and the others.
func (c *sessionCache) stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// barriers is how many barriers a watch on PostgreSQL sent (ok false for other watches and
// once closed).
func (c *sessionCache) barriers() (n uint64, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if w, isPG := c.watch.(*notifyWatch); isPG {
		return w.syncs.Load(), true
	}
	return 0, false
}

// copyOf gives the caller a SessionUser of its own: callers set fields of what they get.
func copyOf(x *store.SessionUser) *store.SessionUser {
	y := *x
	y.Session.TokenHash = slices.Clone(x.Session.TokenHash)
	y.Session.AMR = slices.Clone(x.Session.AMR)
	y.Session.NoticeEnc = slices.Clone(x.Session.NoticeEnc)
	return &y
}

package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyWatch is the commit watch of a PostgreSQL database: it tells the session cache
// whether anything a session check reads (sessions, users, authenticators, security
// keys) changed since an earlier look, in this process or any other instance.
//
// Migration 28 gives those four tables a trigger that notifies the channel
// sessionsChannel, with the schema as payload, in every transaction that changes them;
// PostgreSQL delivers a transaction's notifications when it commits, to every listening
// connection, in the order the transactions committed. A listener goroutine holds one
// connection of its own that listens, and counts what it receives in an epoch.
//
// What the epoch has counted says nothing by itself of commits the listener has not
// received yet. So a mark is taken by a barrier: after the caller asked, the watch
// notifies a channel of its own (twofold_sync_ and a random id; the payload numbers the
// barrier) on a pooled connection, and waits until its listener receives that
// notification. Everything
// committed before the caller asked was committed before the sync, so the listener has
// received it by then (PostgreSQL delivers the notifications of all the channels a
// connection listens on in one order); the epoch at that moment is the mark. Callers that ask while a
// barrier is on its way wait for the next one, which is sent once that one is back:
// under load one barrier (one statement) answers many requests, which is what the cache
// saves. When the listener is not connected (starting, or lost its connection: then the
// epoch moves on, as notifications may have been missed) no mark is taken and the session
// check reads the database, as it does without a cache.
type notifyWatch struct {
	url    string
	schema string // the tables' schema, as the trigger's payload names it
	sync   string // the channel of this watch's barriers
	pool   *sql.DB

	epoch atomic.Uint64
	// up is true while the listener listens; it is set only after LISTEN, with the epoch
	// moved on, so no barrier completes on a connection that might have missed a commit.
	up atomic.Bool

	mu       sync.Mutex
	seq      uint64
	next     *barrier // joined by callers, not sent yet
	inFlight *barrier // sent, not received back yet

	// syncs counts the barriers sent, for tests and measurements.
	syncs atomic.Uint64
	// triggers is the version of the triggers the listener found enabled (triggersVersion).
	triggers atomic.Pointer[string]
	// wait is barrierWait, longer in tests that must not read the database for a slow
	// barrier.
	wait atomic.Int64

	// cancelConn ends the current listening connection (restart); guarded by mu.
	cancelConn context.CancelFunc

	start   func() // starts the listener, once
	cancel  context.CancelFunc
	stopped chan struct{}
}

// sessionsChannel is the channel the triggers of migration 28 notify.
const sessionsChannel = "twofold_sessions"

// barrierWait bounds how long a session check waits for a barrier before it reads the
// database instead (a barrier takes a millisecond or two; it waits longer behind other
// notifying commits, which PostgreSQL lets commit one at a time). barrierLost is how long
// a barrier sent may take to come back before the listening connection is started over.
const (
	barrierWait = 100 * time.Millisecond
	barrierLost = 2 * time.Second
)

// A barrier is one sync notification; done is closed when it came back (ok) or cannot.
type barrier struct {
	seq   uint64
	done  chan struct{}
	ok    bool
	epoch uint64
}

// newNotifyWatch is the watch of the database at url whose tables are in schema; it
// sends its barriers on pool. Its listener starts at the first look (latest or mark): a
// command that checks no session holds no listening connection.
func newNotifyWatch(url, schema string, pool *sql.DB) *notifyWatch {
	b := make([]byte, 8)
	rand.Read(b)
	ctx, cancel := context.WithCancel(context.Background())
	w := &notifyWatch{url: url, schema: schema, sync: "twofold_sync_" + hex.EncodeToString(b), pool: pool, cancel: cancel, stopped: make(chan struct{})}
	w.wait.Store(int64(barrierWait))
	w.start = sync.OnceFunc(func() { go w.listen(ctx) })
	return w
}

// listenRetry is how long the listener waits before it connects again: at first, and at
// most, after connections that never listened.
const (
	listenRetry    = time.Second
	listenRetryMax = time.Minute
)

// listen keeps a listening connection, connecting again when it fails: after a second,
// or longer each time a connection did not get as far as listening.
func (w *notifyWatch) listen(ctx context.Context) {
	defer close(w.stopped)
	wait := listenRetry
	for ctx.Err() == nil {
		if w.listenOnce(ctx) {
			wait = listenRetry
		} else {
			wait = min(2*wait, listenRetryMax)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// probeWait bounds how long a new listening connection waits for its first sync (its
// probe) before it gives up: notifications that never arrive (a connection pooler in
// transaction mode, which does not keep LISTEN) must not make session checks wait.
const probeWait = 2 * time.Second

// triggerRows selects the rows of pg_trigger of migration 28's triggers (29 replaced the
// one on sessions) as t, each with the row of its function in pg_proc as f.
const triggerRows = `FROM pg_trigger t JOIN pg_proc f ON f.oid = t.tgfoid WHERE (t.tgrelid, t.tgname) IN (
	('sessions'::regclass, 'sessions_changed'), ('users'::regclass, 'users_changed'),
	('totp_credentials'::regclass, 'totp_credentials_changed'),
	('webauthn_credentials'::regclass, 'webauthn_credentials_changed'))`

// triggersVersion is the version of those rows: ALTER TABLE … DISABLE or ENABLE TRIGGER,
// DROP and CREATE TRIGGER each write a trigger's row anew, CREATE OR REPLACE FUNCTION its
// function's, with a new xmin. A silent change made while a trigger was off (or its
// function did not notify), and the trigger then enabled again, so changes the version.
const triggersVersion = `(SELECT string_agg(t.tgname || ':' || t.xmin::text || ':' || f.xmin::text, ',' ORDER BY t.tgname) ` +
	triggerRows + `)`

// triggersEnabled counts those triggers that are in place and fire always (also under
// session_replication_role = replica), all four must be, and reads their version.
const triggersEnabled = `SELECT COUNT(*) FILTER (WHERE t.tgenabled = 'A'), ` + triggersVersion + ` ` + triggerRows

// listenOnce connects, checks that the triggers notify, listens, proves with a probe that
// notifications arrive, and then counts them until the connection fails. listened reports
// whether it got that far.
func (w *notifyWatch) listenOnce(ctx context.Context) (listened bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.mu.Lock()
	w.cancelConn = cancel
	w.mu.Unlock()
	defer w.down()
	conn, err := pgx.Connect(ctx, w.url)
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	var triggers int
	var version string
	if err := conn.QueryRow(ctx, triggersEnabled).Scan(&triggers, &version); err != nil || triggers != 4 {
		return false // disabled, dropped (a migration down), or not readable: no cache
	}
	w.triggers.Store(&version) // before LISTEN: a change of them after it fails every barrier
	if _, err := conn.Exec(ctx, "LISTEN "+sessionsChannel+"; LISTEN "+w.sync); err != nil {
		return false
	}
	w.epoch.Add(1) // whatever was committed before LISTEN was not received
	probe, cancelProbe := context.WithTimeout(ctx, probeWait)
	defer cancelProbe()
	if err := w.notifySync(probe, 0, &version); err != nil {
		return false
	}
	for {
		wait := ctx
		if !w.up.Load() {
			wait = probe
		}
		n, err := conn.WaitForNotification(wait)
		if err != nil {
			return listened
		}
		if n.Channel == w.sync {
			switch seq, err := strconv.ParseUint(n.Payload, 10, 64); {
			case err == nil && seq == 0:
				listened = true
				w.up.Store(true) // the probe: barriers (numbered from 1) may be sent now
			case err == nil:
				w.arrived(seq)
			}
		} else if n.Payload == w.schema {
			w.epoch.Add(1)
		}
		// Other schemas' changes change nothing here.
	}
}

// notifySync sends barrier seq (0: the probe) on a pooled connection. A transaction that
// notifies commits while it holds PostgreSQL's notify lock, which orders the queue, so
// notifying commits take turns: the barrier's does not wait for its WAL record to reach
// the disk (synchronous_commit off for it alone), as it changes nothing to keep.
//
// It notifies only while the triggers are the version the listener found enabled before
// it listened, in the barrier's own snapshot, taken after the lookups it serves began: a
// trigger disabled before one of them began (and any change it then missed, even if it was
// enabled again) fails the barrier, with errTriggersChanged, and the lookups read the
// database.
func (w *notifyWatch) notifySync(ctx context.Context, seq uint64, version *string) error {
	if version == nil {
		return errTriggersChanged
	}
	var notified int
	err := w.pool.QueryRowContext(ctx, `SELECT 1 FROM (SELECT set_config('synchronous_commit', 'off', true),
		pg_notify($1, $2) WHERE `+triggersVersion+` = $3) AS barrier`,
		w.sync, strconv.FormatUint(seq, 10), *version).Scan(&notified)
	if errors.Is(err, sql.ErrNoRows) {
		return errTriggersChanged
	}
	return err
}

// errTriggersChanged is a barrier refused because the triggers changed since the listener
// checked them.
var errTriggersChanged = errors.New("the session triggers changed since the listener checked them")

// down marks the listener disconnected: the epoch moves on (notifications may be lost
// from now on), and the barrier on its way fails, as may the next.
func (w *notifyWatch) down() {
	w.up.Store(false)
	w.epoch.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range []*barrier{w.inFlight, w.next} {
		if b != nil {
			close(b.done)
		}
	}
	w.inFlight, w.next = nil, nil
}

// arrived completes barrier seq with the epoch now, and sends the next one.
func (w *notifyWatch) arrived(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.inFlight
	if b == nil || b.seq != seq {
		return // failed already, when the listener was down
	}
	b.ok, b.epoch = true, w.epoch.Load()
	close(b.done)
	w.inFlight = nil
	w.sendNext()
}

// sendNext sends the barrier callers joined, if any, unless one is on its way. Called
// with mu held.
func (w *notifyWatch) sendNext() {
	if w.inFlight != nil || w.next == nil {
		return
	}
	b := w.next
	w.inFlight, w.next = b, nil
	w.syncs.Add(1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), barrierLost)
		defer cancel()
		version := w.triggers.Load()
		if err := w.notifySync(ctx, b.seq, version); err != nil {
			w.fail(b) // no pooled connection in time, the database is gone, or the triggers changed
			// Checks them again (the cache answers once all four are enabled), unless the
			// listener did since it read the version.
			if errors.Is(err, errTriggersChanged) && w.triggers.Load() == version {
				w.restart()
			}
			return
		}
		t := time.NewTimer(barrierLost)
		defer t.Stop()
		select {
		case <-b.done:
		case <-t.C:
			// Sent, and not back within barrierLost: the listening connection may be dead
			// without knowing it yet. Start it over; until it listens again, session
			// checks read the database.
			w.restart()
		}
	}()
}

// fail ends barrier b without a mark, and sends the next one.
func (w *notifyWatch) fail(b *barrier) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inFlight != b {
		return
	}
	close(b.done)
	w.inFlight = nil
	w.sendNext()
}

// mark waits for a barrier sent after the call and returns the epoch it came back at;
// ok is false when none could be had within barrierWait or ctx.
func (w *notifyWatch) mark(ctx context.Context) (commitMark, bool) {
	w.start()
	w.mu.Lock()
	if !w.up.Load() { // under mu: down clears the barriers after it set up to false
		w.mu.Unlock()
		return commitMark{}, false
	}
	if w.next == nil {
		w.seq++
		w.next = &barrier{seq: w.seq, done: make(chan struct{})}
	}
	b := w.next
	w.sendNext()
	w.mu.Unlock()
	t := time.NewTimer(time.Duration(w.wait.Load()))
	defer t.Stop()
	select {
	case <-b.done:
	case <-ctx.Done():
		return commitMark{}, false
	case <-t.C:
		return commitMark{}, false // the sender gives the barrier up, or starts the listener over
	}
	if !b.ok {
		return commitMark{}, false
	}
	return epochMark(b.epoch), true
}

// restart drops the listening connection, which fails the barriers (down), and lets the
// listener connect again.
func (w *notifyWatch) restart() {
	w.up.Store(false)
	w.mu.Lock()
	cancel := w.cancelConn
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// latest is the epoch now, without a barrier: a mark that may be older than commits
// already made, good only to tell that a mark is out of date.
func (w *notifyWatch) latest() (commitMark, bool) {
	w.start()
	return epochMark(w.epoch.Load()), w.up.Load()
}

// waits: a mark is a round trip.
func (w *notifyWatch) waits() bool { return true }

// epochMark puts an epoch in a commitMark, whose other words stay zero.
func epochMark(e uint64) commitMark { return commitMark{uint32(e), uint32(e >> 32)} }

// stop stops the listener, if it started, and waits for it; nothing is left to let go
// of.
func (w *notifyWatch) stop() (release func()) {
	w.cancel()
	w.start() // a listener that never started starts now, on a canceled context, and ends
	<-w.stopped
	return func() {}
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"unsafe"
)

// commitWatch tells whether anyone, in this process or another, committed to a SQLite
// database in WAL mode since an earlier look, without asking SQLite: it reads the
// WAL-index header in the database's -shm file, which SQLite rewrites at every commit
// (https://sqlite.org/walformat.html, "The WAL-Index Header"). That header is how every
// SQLite connection on a host learns of every other's commits, so its layout is fixed
// for all SQLite versions that share a database file.
//
// The header is 48 bytes, kept twice: a writer writes the second copy, then the first; a
// reader reads the first, then the second, and trusts them only when they agree. Among
// its fields, iChange counts the transactions, mxFrame is the last valid WAL frame, and the
// salts change whenever the WAL starts over. A commit therefore always changes it, while a
// checkpoint, which changes no row, leaves it alone.
type commitWatch struct {
	mem []byte // the -shm file's first bytes, mapped shared and read-only
	// pin is a connection of this process's own, held open for as long as the mapping:
	// SQLite deletes a -shm file when the last connection of any process closes, and
	// starts a new one (which the mapping would not see) at the next open. While pin is
	// open, this process holds the file's shared lock, so nobody can delete, truncate or
	// reinitialise it.
	pin   *sql.Conn
	pinDB *sql.DB
	// release lets go of the -shm file's descriptor (mapShared); DB.Close calls it after
	// the pool is closed.
	release func()
}

// commitMark is the first copy of the WAL-index header: equal marks, read at two times,
// mean nobody committed in between.
type commitMark [12]uint32

// walHeaderSize is the size of one copy of the WAL-index header; mapped is how much of
// the -shm file the watch maps: both copies.
const (
	walHeaderSize = 48
	mapped        = 2 * walHeaderSize
)

// openCommitWatch maps the WAL-index header of the SQLite database opened as dsn at path.
func openCommitWatch(ctx context.Context, dsn, path string) (*commitWatch, error) {
	pinDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	pinDB.SetMaxOpenConns(1)
	w := &commitWatch{pinDB: pinDB}
	if w.pin, err = pinDB.Conn(ctx); err != nil {
		w.close()
		return nil, err
	}
	// A read opens the connection's WAL index, and with it the -shm file and its lock.
	var mode string
	if err := w.pin.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		w.close()
		return nil, err
	}
	var n int
	if err := w.pin.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil {
		w.close()
		return nil, err
	}
	if mode != "wal" {
		w.close()
		return nil, fmt.Errorf("database %s is in journal mode %q, not wal", path, mode)
	}
	// SQLite names the -shm file after the database file as it resolved it (symlinks
	// followed): map that one, never a file of the same name beside a link.
	var file string
	if err := w.pin.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		w.close()
		return nil, err
	}
	if w.mem, w.release, err = mapShared(file+"-shm", mapped); err != nil {
		w.close()
		return nil, err
	}
	if _, ok := w.readMark(); !ok {
		// The descriptor stays open: closing it now would drop the pool's locks.
		w.close()
		return nil, fmt.Errorf("%s-shm holds no valid WAL-index header", path)
	}
	return w, nil
}

// mark reads the WAL-index header (it never waits: ctx is not needed).
func (w *commitWatch) mark(context.Context) (commitMark, bool) { return w.readMark() }

// readMark reads the WAL-index header. ok is false while the two copies differ (a commit
// is being published) or the header is not initialised: no mark is taken then.
func (w *commitWatch) readMark() (m commitMark, ok bool) {
	// Somebody may truncate the -shm file under the mapping: a fault then means no mark,
	// as SQLite (modernc's SEH emulation) turns its own into SQLITE_IOERR_IN_PAGE.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			m, ok = commitMark{}, false
		}
	}()
	p := unsafe.Pointer(&w.mem[0])
	var second commitMark
	for i := range m {
		m[i] = atomic.LoadUint32((*uint32)(unsafe.Add(p, 4*i)))
	}
	for i := range second {
		second[i] = atomic.LoadUint32((*uint32)(unsafe.Add(p, walHeaderSize+4*i)))
	}
	// isInit is the byte at offset 12, the first byte of the fourth word.
	isInit := *(*byte)(unsafe.Pointer(&m[3]))
	return m, m == second && isInit != 0
}

// latest is mark: the header is always current.
func (w *commitWatch) latest() (commitMark, bool) { return w.readMark() }

// waits: a mark is a read of memory.
func (w *commitWatch) waits() bool { return false }

// stop closes the watch and returns what lets go of the -shm file's descriptor.
func (w *commitWatch) stop() (release func()) {
	w.close()
	return w.release
}

// close unmaps the header and lets go of the pinned connection, in that order.
func (w *commitWatch) close() {
	if w.mem != nil {
		unmap(w.mem)
		w.mem = nil
	}
	if w.pin != nil {
		w.pin.Close()
	}
	w.pinDB.Close()
}

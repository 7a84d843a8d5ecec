package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite" // also registers the "sqlite" driver

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/store"
)

//go:embed migrations
var migrations embed.FS

// DB is a store.Store on a SQL database. A DB made by WithTx is bound to one transaction.
type DB struct {
	db      *sql.DB
	q       querier
	dialect dialect
	// afterCommit collects what AfterCommit defers while bound to a transaction.
	afterCommit *[]func()
	// stmts are the prepared statements of the dialects that prepare (nil: none), shared
	// by the DB and the DBs bound to its transactions.
	stmts *stmtCache
	// metrics counts the database's errors (SetMetrics); shared by the DBs of transactions.
	metrics *metrics.Recorder
	// sessions answers GetSessionUser while nobody commits (nil in a transaction, and on
	// SQLite where the WAL index cannot be mapped).
	sessions *sessionCache
	// sessionsErr says why a SQLite database has no session cache.
	sessionsErr error
	// tx is what LockAccount must know of the transaction d is bound to; nil outside one.
	tx *txState
	// writes lets one writer of this process at a time ask SQLite for its write lock
	// (writelock.go); nil on PostgreSQL. writeWait bounds the wait for it.
	writes    *writeLock
	writeWait time.Duration
}

// txState is what a transaction has done so far, as LockAccount must know it.
type txState struct {
	wrote  bool   // a statement that writes or locks rows has run
	locked string // the account locked, by user id; "" for none
}

// SetMetrics makes d count the database's errors in r. Call it before d is used.
func (d *DB) SetMetrics(r metrics.Recorder) { *d.metrics = metrics.Or(r) }

var _ store.Store = (*DB)(nil)

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dialect holds what differs between SQL databases.
type dialect struct {
	name          string
	goose         goose.Dialect
	migrationsDir string
	// rebind turns the '?' placeholders the queries are written with into the dialect's.
	rebind func(string) string
	// isUnique reports a unique-constraint violation and names the column when it can.
	isUnique func(error) (field string, ok bool)
	// isUnavailable reports errors that mean the database cannot serve right now.
	isUnavailable func(error) bool
	// isDeadlock reports a statement the database ended to break a deadlock: it changed
	// nothing, and may be run again.
	isDeadlock func(error) bool
	// bytewise follows a text column in ORDER BY so both databases sort alike.
	bytewise string
	// skipLocked ends a SELECT whose rows a statement claims: parallel claimers skip the
	// rows another holds instead of waiting for them. Empty where writers take turns.
	skipLocked string
	// prepare keeps every query prepared once per connection (stmt.go). SQLite parses
	// the text again for every unprepared query; pgx prepares and caches statements itself.
	prepare bool
	// forUpdate ends a SELECT whose rows the transaction locks until it ends, so parallel
	// transactions that read them take turns. Empty where writers take turns anyway.
	forUpdate string
	// lockAccount is the statement LockAccount runs, with the account's key as its
	// argument. Empty where writers take turns anyway.
	lockAccount string
}

var sqliteDialect = dialect{
	name:          "sqlite",
	goose:         goose.DialectSQLite3,
	migrationsDir: "migrations/sqlite",
	rebind:        func(q string) string { return q },
	isUnique: func(err error) (string, bool) {
		msg := err.Error()
		if !strings.Contains(msg, "UNIQUE constraint failed") {
			return "", false
		}
		switch {
		case strings.Contains(msg, "username_norm"):
			return "username", true
		case strings.Contains(msg, "email_norm"):
			return "email", true
		}
		return "record", true
	},
	// SQLITE_BUSY: another process (the command line, a second server on the same file)
	// held the write lock past the busy timeout; nothing was written.
	isUnavailable: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
	},
	isDeadlock: func(error) bool { return false }, // writers take turns
	prepare:    true,
}

// OpenSQLite opens (creating when needed) the SQLite database at path and applies migrations.
// Several processes may open the same file: WAL mode and a busy timeout let the CLI work
// while the server runs.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database directory: %w", apperr.QuotePathError(err))
	}
	// The database holds password hashes and session token hashes: it is private to the
	// owner before SQLite first touches it, because SQLite gives the -wal and -shm files
	// (which hold the same data) the mode of the database file when it creates them.
	if err := restrictFiles(path); err != nil {
		return nil, err
	}
	// A checkpoint every walCheckpointPages pages instead of SQLite's 1,000: the hot pages
	// (sessions, the audit log's tail and indexes, throttle budgets) are written to the WAL
	// many times between two checkpoints and copied back once each, with two fsyncs.
	dsn := fileURI(path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(walCheckpointPages) + ")&_txlock=immediate"
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", apperr.QuotePath(path), err)
	}
	// Every connection stays open: opening one reads the schema again, and the statements
	// prepared on it would be lost.
	sqlDB.SetMaxOpenConns(sqliteConns)
	sqlDB.SetMaxIdleConns(sqliteConns)
	d := &DB{db: sqlDB, q: sqlDB, dialect: sqliteDialect, stmts: newStmtCache(), metrics: noMetrics(),
		writes: newWriteLock(), writeWait: writeWait}
	if err := d.Migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	// Without the WAL index mapped, every request reads its session from the database, as
	// on PostgreSQL: slower, never wrong.
	if w, err := openCommitWatch(ctx, dsn, path); err == nil {
		d.sessions = newSessionCache(w)
	} else {
		d.sessionsErr = err
	}
	return d, nil
}

// fileURI is the SQLite URI of the file at path, without parameters: the path escaped, so
// that a directory named with '?', '#' or '%' opens the file it names, not another.
func fileURI(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath()
}

// restrictFiles creates the database file with mode 0600 when it does not exist, and
// sets that mode on it and on its -wal and -shm files when they do.
func restrictFiles(path string) error {
	// An existing file is not opened: closing a descriptor of it would drop every POSIX
	// lock this process holds on it, those of SQLite connections already open included.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("open database file: %w", apperr.QuotePathError(err))
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restrict database file mode: %w", apperr.QuotePathError(err))
		}
	}
	return nil
}

// Migrate applies every pending migration. It refuses a database whose schema is newer
// than this binary knows, so an old binary never runs against a newer schema.
func (d *DB) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, d.dialect.migrationsDir)
	if err != nil {
		return err
	}
	var opts []goose.ProviderOption
	if d.dialect.name == "postgres" {
		// Instances starting together take turns: a session-level advisory lock, one per
		// schema, so deployments (and tests) in other schemas of the database never wait
		// for this one's migrations, which can be long (a concurrent index build waits for
		// every transaction running in the database).
		var schema string
		if err := d.db.QueryRowContext(ctx, `SELECT COALESCE(current_schema(), '')`).Scan(&schema); err != nil {
			return fmt.Errorf("read the schema: %w", d.wrap(err))
		}
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID(schema)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(d.dialect.goose, d.db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	sources := p.ListSources()
	known := int64(0)
	if len(sources) > 0 {
		known = sources[len(sources)-1].Version
	}
	if current > known {
		return fmt.Errorf("database schema version %d is newer than this binary supports (%d): upgrade twofold", current, known)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// migrationLockID is the advisory lock a PostgreSQL schema's migrations take: goose's own
// for the default schema, as releases before took it for every schema, so an older and a
// newer binary starting together on it still take turns; a hash of the name for any other.
func migrationLockID(schema string) int64 {
	if schema == "public" || schema == "" {
		return lock.DefaultLockID
	}
	h := fnv.New64a()
	h.Write([]byte("twofold migrations " + schema))
	return int64(h.Sum64())
}

// sqliteBusy is SQLite's SQLITE_BUSY result code (https://sqlite.org/rescode.html#busy).
const sqliteBusy = 5

// walCheckpointPages is how many pages SQLite's WAL holds before a commit copies them back
// into the database file: 4,000 pages of 4 KiB, so the -wal file grows to about 16 MB.
const walCheckpointPages = 4000

// sqliteConns is the size of SQLite's connection pool: readers run in parallel in WAL
// mode, writers take turns.
const sqliteConns = 8

// Close closes the database and its prepared statements.
func (d *DB) Close() error {
	var release func()
	if d.sessions != nil {
		release = d.sessions.close()
	}
	d.stmts.close()
	err := d.db.Close()
	if release != nil {
		// database/sql closes a connection in use (a transaction, rows not yet closed) only
		// when it is returned: the descriptor, whose closing drops that connection's locks
		// too, waits for it.
		if d.db.Stats().OpenConnections == 0 {
			release()
		} else {
			go func() {
				for d.db.Stats().OpenConnections > 0 {
					time.Sleep(10 * time.Millisecond)
				}
				release()
			}()
		}
	}
	return err
}

// SessionCacheStats reports whether GetSessionUser is cached and how many lookups
// the cache answered and how many it did not.
func (d *DB) SessionCacheStats() (hits, misses uint64, on bool) {
	if d.sessions == nil {
		return 0, 0, false
	}
	hits, misses = d.sessions.stats()
	return hits, misses, true
}

// SessionBarriers reports how many barriers the session cache sent to PostgreSQL (ok false
// on SQLite, whose cache sends none).
func (d *DB) SessionBarriers() (n uint64, ok bool) {
	if d.sessions == nil {
		return 0, false
	}
	return d.sessions.barriers()
}

// SessionCacheErr says why a SQLite database has no session cache (nil: it has one, or the
// database is PostgreSQL, whose cache always exists and answers once its listener listens).
func (d *DB) SessionCacheErr() error { return d.sessionsErr }

// PoolStats reports the connection pool: open and idle connections, the limit, and how
// often and how long requests waited for a connection.
func (d *DB) PoolStats() sql.DBStats { return d.db.Stats() }

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		(*d.metrics).DatabaseError(true)
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

// inTx says whether d is the store of a transaction (WithTx's fn got it).
func (d *DB) inTx() bool {
	_, ok := d.q.(*sql.Tx)
	return ok
}

// WithTx runs fn in one transaction.
func (d *DB) WithTx(ctx context.Context, fn func(store.Store) error) error {
	if d.inTx() {
		return fn(d)
	}
	after, err := d.runTx(ctx, fn)
	if err != nil {
		return err
	}
	// After the write lock is let go: what runs here may write again.
	for _, f := range after {
		f()
	}
	return nil
}

// runTx runs fn in a transaction under the write lock and returns what AfterCommit
// deferred.
func (d *DB) runTx(ctx context.Context, fn func(store.Store) error) ([]func(), error) {
	// Every SQLite transaction writes or may (BEGIN IMMEDIATE), so every one takes turns.
	if err := d.writes.acquire(ctx, d.writeWait); err != nil {
		return nil, d.lockErr(err)
	}
	defer d.writes.release()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, d.wrap(err)
	}
	// Rolls back when fn fails or panics (a transaction left open would hold SQLite's
	// write lock forever); after Commit it is a no-op.
	defer tx.Rollback()
	var after []func()
	if err := fn(&DB{db: d.db, q: tx, dialect: d.dialect, afterCommit: &after, stmts: d.stmts, metrics: d.metrics,
		tx: &txState{}, writes: d.writes, writeWait: d.writeWait}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, d.wrap(err)
	}
	return after, nil
}

// AfterCommit runs fn after the transaction commits, or now outside one.
func (d *DB) AfterCommit(fn func()) {
	if d.afterCommit == nil {
		fn()
		return
	}
	*d.afterCommit = append(*d.afterCommit, fn)
}

// accountLockClass is the first of the two keys of an account's advisory lock, so its locks
// cannot meet another use of PostgreSQL's advisory locks ("tfac"; the migrations' lock is a
// single 64-bit key, a key space of its own).
const accountLockClass = 0x74666163

// LockAccount makes the transaction d is bound to the only one that works on the account
// until it ends (store.Store). On PostgreSQL it is a transaction-level advisory lock keyed
// by a hash of the user id (two accounts that share a hash only take turns); on SQLite,
// where a writing transaction holds the database's one write lock from its start, it runs
// nothing. Either way it refuses to come after a statement that wrote or locked rows, and
// a second account's, in the same transaction (store.ErrLockOrder): a transaction waiting
// for the lock must hold no row that the lock's holder could be waiting for.
func (d *DB) LockAccount(ctx context.Context, userID string) error {
	if d.tx == nil {
		return store.ErrLockOrder
	}
	if d.tx.locked == userID {
		return nil
	}
	if d.tx.wrote || d.tx.locked != "" {
		return fmt.Errorf("%w: account %q after other writes or another account", store.ErrLockOrder, userID)
	}
	d.tx.locked = userID
	if d.dialect.lockAccount == "" {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(userID))
	_, err := d.q.ExecContext(ctx, d.dialect.lockAccount, accountLockClass, int32(h.Sum32()))
	return d.wrap(err)
}

// noteWrite records that query, about to run in d's transaction, writes or locks rows.
func (d *DB) noteWrite(query string) {
	if d.tx != nil && !d.tx.wrote && writes(query) {
		d.tx.wrote = true
	}
}

// writes says whether query writes or locks rows: anything but a plain SELECT (a WITH
// counts as a write, as it may hold one).
func writes(query string) bool {
	q := strings.TrimSpace(query)
	return len(q) < 6 || !strings.EqualFold(q[:6], "SELECT") || strings.Contains(q, " FOR UPDATE")
}

func (d *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := checkText(args); err != nil {
		return nil, err
	}
	d.noteWrite(query)
	unlock, err := d.lockWrite(ctx, query)
	if err != nil {
		return nil, err
	}
	defer unlock()
	query = d.dialect.rebind(query)
	if st := d.stmt(ctx, query); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, d.wrap(err)
	}
	res, err := d.q.ExecContext(ctx, query, args...)
	return res, d.wrap(err)
}

// execOne runs a write that must change exactly one row, else ErrNotFound.
func (d *DB) execOne(ctx context.Context, query string, args ...any) error {
	res, err := d.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return d.wrap(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// row is a *sql.Row, or the error that kept the query from running. A row that writes
// outside a transaction holds the write lock until it is scanned (SQLite runs the
// statement then): every queryRow is scanned at once.
type row struct {
	*sql.Row
	err    error
	unlock func()
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if r.unlock != nil {
		defer r.unlock()
	}
	return r.Row.Scan(dest...)
}

func (d *DB) queryRow(ctx context.Context, query string, args ...any) row {
	if err := checkText(args); err != nil {
		return row{err: err}
	}
	d.noteWrite(query)
	unlock, err := d.lockWrite(ctx, query)
	if err != nil {
		return row{err: err}
	}
	query = d.dialect.rebind(query)
	if st := d.stmt(ctx, query); st != nil {
		return row{Row: st.QueryRowContext(ctx, args...), unlock: unlock}
	}
	return row{Row: d.q.QueryRowContext(ctx, query, args...), unlock: unlock}
}

// rows are the rows of a query. Those of a statement that writes outside a transaction
// (an UPDATE … RETURNING) hold the write lock until they are closed, as SQLite writes while
// they are read: close them before the next call to the store, which may wait for the
// lock.
type rows struct {
	*sql.Rows
	unlock func()
}

// Close closes the rows and lets go of the write lock they hold. It may be called again.
func (r *rows) Close() error {
	err := r.Rows.Close()
	if r.unlock != nil {
		r.unlock()
		r.unlock = nil
	}
	return err
}

// query runs a statement that returns rows. One that writes outside a transaction takes
// the write lock as exec does, and holds it until the rows are closed.
func (d *DB) query(ctx context.Context, query string, args ...any) (*rows, error) {
	if err := checkText(args); err != nil {
		return nil, err
	}
	d.noteWrite(query)
	unlock, err := d.lockWrite(ctx, query)
	if err != nil {
		return nil, err
	}
	query = d.dialect.rebind(query)
	var r *sql.Rows
	if st := d.stmt(ctx, query); st != nil {
		r, err = st.QueryContext(ctx, args...)
	} else {
		r, err = d.q.QueryContext(ctx, query, args...)
	}
	if err != nil {
		unlock()
		return nil, d.wrap(err)
	}
	return &rows{Rows: r, unlock: unlock}, nil
}

// checkText refuses a string argument that is not valid UTF-8 or holds a NUL before the
// query runs, so both databases answer alike (PostgreSQL would refuse it with an error of
// its own, SQLite would store it).
func checkText(args []any) error {
	for _, a := range args {
		if s, ok := a.(string); ok && (!utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0) {
			return store.ErrInvalidText
		}
	}
	return nil
}

// wrap maps driver errors to the store's sentinel errors.
func (d *DB) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, store.ErrUnavailable): // the write lock's, counted already
		return err
	}
	if field, ok := d.dialect.isUnique(err); ok {
		return &store.ConflictError{Field: field}
	}
	if d.dialect.isUnavailable(err) {
		(*d.metrics).DatabaseError(true)
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	(*d.metrics).DatabaseError(false)
	if d.dialect.isDeadlock(err) {
		// PostgreSQL ended this transaction to break a deadlock with another: nothing of
		// it was written, and the request may simply be made again. It answers 503 with
		// Retry-After, not 500; the driver's error stays inside (AppendAudit retries on it).
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// noMetrics is where a DB counts its errors until SetMetrics.
func noMetrics() *metrics.Recorder {
	var r metrics.Recorder = metrics.Nop{}
	return &r
}

// Times are stored as Unix milliseconds; 0 is the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
)

// PoolOptions bound the connection pool of a PostgreSQL store.
type PoolOptions struct {
	MaxOpenConns    int           // 0: 20
	MaxIdleConns    int           // 0: MaxOpenConns
	ConnMaxLifetime time.Duration // 0: 30 minutes
}

var postgresDialect = dialect{
	name:          "postgres",
	goose:         goose.DialectPostgres,
	migrationsDir: "migrations/postgres",
	rebind:        rebindDollar,
	isUnique: func(err error) (string, bool) {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			return "", false
		}
		switch {
		case strings.Contains(pe.ConstraintName, "username_norm"):
			return "username", true
		case strings.Contains(pe.ConstraintName, "email_norm"):
			return "email", true
		}
		return "record", true
	},
	isUnavailable: pgUnavailable,
	isDeadlock: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "40P01" // deadlock_detected
	},
	bytewise:   ` COLLATE "C"`,
	skipLocked: ` FOR UPDATE SKIP LOCKED`,
	forUpdate:  ` FOR UPDATE`,
	// Two int4 keys: a key space apart from the single bigint keys of the migrations.
	lockAccount: `SELECT pg_advisory_xact_lock($1, $2)`,
}

// OpenPostgres connects to the PostgreSQL database at url (postgres://...) and applies
// migrations. An unreachable database is an error that wraps store.ErrUnavailable.
func OpenPostgres(ctx context.Context, url string, pool PoolOptions) (*DB, error) {
	sqlDB, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if pool.MaxOpenConns <= 0 {
		pool.MaxOpenConns = 20
	}
	if pool.MaxIdleConns <= 0 || pool.MaxIdleConns > pool.MaxOpenConns {
		pool.MaxIdleConns = pool.MaxOpenConns
	}
	if pool.ConnMaxLifetime <= 0 {
		pool.ConnMaxLifetime = 30 * time.Minute
	}
	sqlDB.SetMaxOpenConns(pool.MaxOpenConns)
	sqlDB.SetMaxIdleConns(pool.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(pool.ConnMaxLifetime)
	d := &DB{db: sqlDB, q: sqlDB, dialect: postgresDialect, metrics: noMetrics()}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.Ping(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := d.Migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	var schema string // the sessions table's, as its trigger names it
	if err := d.queryRow(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = 'sessions'::regclass`).Scan(&schema); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("read the schema's name: %w", err)
	}
	d.sessions = newSessionCache(newNotifyWatch(url, schema, sqlDB))
	return d, nil
}

// rebindDollar turns '?' placeholders into $1, $2, ... (the queries hold no '?' otherwise).
// Each text is rewritten once and kept: every query on PostgreSQL passes through here, and
// rewriting the session check's 480 bytes byte by byte on every request cost 0.5 µs and an
// allocation (16 ns and none now). Past maxRebound texts (the store's queries are
// constants but for a few built from lists) a text is rewritten on every call instead.
func rebindDollar(q string) string {
	if r, ok := rebound.Load(q); ok {
		return r.(string)
	}
	r := rebindText(q)
	if reboundN.Load() < maxRebound {
		if _, loaded := rebound.LoadOrStore(q, r); !loaded {
			reboundN.Add(1)
		}
	}
	return r
}

// maxRebound bounds the texts rebindDollar keeps, as maxStmts bounds SQLite's statements.
const maxRebound = maxStmts

var (
	rebound  sync.Map // query text with '?' → with $n
	reboundN atomic.Int32
)

// rebindText is rebindDollar's rewrite, without keeping it.
func rebindText(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			b.WriteString(q)
			return b.String()
		}
		n++
		b.WriteString(q[:i])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		q = q[i+1:]
	}
}

// pgUnavailable reports errors that mean the database cannot serve right now: a lost or
// refused connection, or the server shutting down or killing our backend.
func pgUnavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "unexpected EOF") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset")
}

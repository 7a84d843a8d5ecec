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
	bytewise:      ` COLLATE "C"`,
	skipLocked:    ` FOR UPDATE SKIP LOCKED`,
	forUpdate:     ` FOR UPDATE`,
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
	return d, nil
}

// rebindDollar turns '?' placeholders into $1, $2, ... (the queries hold no '?' otherwise).
func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
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

package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/pressly/goose/v3"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// BackupSQLite writes a consistent copy of the SQLite database at path to dest with
// VACUUM INTO: one read transaction, so the copy is the database as of one instant even
// while a server writes to it, and the writers are not blocked. dest must not exist; it
// is created with mode 0600 (it holds what the database holds). It returns the schema
// version of the copy, checked as CheckSQLite does. On error dest is removed.
func BackupSQLite(ctx context.Context, path, dest string) (int64, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("no database to back up: %w", apperr.QuotePathError(err))
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("%s already exists: choose a new file name", apperr.QuotePath(dest))
		}
		return 0, fmt.Errorf("create the backup file: %w", apperr.QuotePathError(err))
	}
	f.Close() // VACUUM INTO writes into an empty file
	version, err := backupSQLite(ctx, path, dest)
	if err != nil {
		os.Remove(dest)
		return 0, err
	}
	return version, nil
}

func backupSQLite(ctx context.Context, path, dest string) (int64, error) {
	db, err := sql.Open("sqlite", fileURI(path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("open sqlite %s: %w", apperr.QuotePath(path), err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return 0, fmt.Errorf("back up %s: %w", apperr.QuotePath(path), err)
	}
	if err := os.Chmod(dest, 0o600); err != nil {
		return 0, apperr.QuotePathError(err)
	}
	version, err := CheckSQLite(ctx, dest)
	if err != nil {
		return 0, fmt.Errorf("the copy does not check out: %w", err)
	}
	return version, nil
}

// CheckSQLite opens the SQLite file at path read-only and returns its schema version when
// it is a sound twofold database this binary can run: SQLite's quick_check passes, the
// migration table and the core tables exist, and the version is one of this binary's
// migrations (an older one is migrated at the next start). It never writes to the file.
func CheckSQLite(ctx context.Context, path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, apperr.QuotePathError(err)
	}
	q := apperr.QuotePath(path)
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", q)
	}
	db, err := sql.Open("sqlite", fileURI(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return 0, fmt.Errorf("%s is not an SQLite database: %w", q, err)
	}
	if check != "ok" {
		return 0, fmt.Errorf("%s is damaged: %s", q, apperr.Quote(check))
	}
	for _, table := range []string{"goose_db_version", "users", "sessions", "audit_events"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, fmt.Errorf("%s is not a twofold database: it has no %s table", q, table)
		}
	}
	var version sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version WHERE is_applied").Scan(&version); err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", q, err)
	}
	known, err := knownVersion(db)
	if err != nil {
		return 0, err
	}
	if !version.Valid || version.Int64 < 1 {
		return 0, fmt.Errorf("%s is not a twofold database: no migration applied", q)
	}
	if version.Int64 > known {
		return 0, fmt.Errorf("%s has schema version %d, newer than this binary supports (%d): use a newer twofold", q, version.Int64, known)
	}
	return version.Int64, nil
}

// knownVersion is the newest SQLite migration this binary has.
func knownVersion(db *sql.DB) (int64, error) {
	fsys, err := fs.Sub(migrations, sqliteDialect.migrationsDir)
	if err != nil {
		return 0, err
	}
	p, err := goose.NewProvider(sqliteDialect.goose, db, fsys)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	sources := p.ListSources()
	if len(sources) == 0 {
		return 0, errors.New("this binary has no migrations")
	}
	return sources[len(sources)-1].Version, nil
}

// Backup reads, read-only, what tells the master key of a SQLite file that no server
// uses (a backup before it is restored): its key check value, its newest authenticator
// secret and its newest signing key, as DB.KeyCheck, DB.AnyTOTPSecret and
// DB.NewestOIDCSigningKey do. A file of a schema from before the key check has
// no value: KeyCheck answers store.ErrNotFound. Close it when done.
type Backup struct {
	db   *sql.DB
	path string
}

// OpenBackup opens the SQLite file at path read-only; it reads nothing yet.
func OpenBackup(path string) (*Backup, error) {
	db, err := sql.Open("sqlite", fileURI(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", apperr.QuotePath(path), err)
	}
	return &Backup{db: db, path: path}, nil
}

// Close closes the file.
func (b *Backup) Close() error { return b.db.Close() }

// KeyCheck returns the sealed key check value; store.ErrNotFound when there is none.
func (b *Backup) KeyCheck(ctx context.Context) ([]byte, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'key_check'`).Scan(&n)
	if err != nil || n == 0 {
		return nil, cmp.Or(b.wrap(err), store.ErrNotFound)
	}
	var sealed []byte
	err = b.db.QueryRowContext(ctx, selectKeyCheck).Scan(&sealed)
	return sealed, b.wrap(err)
}

// AnyTOTPSecret returns the newest sealed authenticator secret and its user's id
// (selectNewestTOTPSecret); store.ErrNotFound when there is none.
func (b *Backup) AnyTOTPSecret(ctx context.Context) (userID string, sealed []byte, err error) {
	err = b.db.QueryRowContext(ctx, selectNewestTOTPSecret).Scan(&userID, &sealed)
	return userID, sealed, b.wrap(err)
}

// NewestOIDCSigningKey returns the newest signing key (selectNewestSigningKey);
// store.ErrNotFound when there is none.
func (b *Backup) NewestOIDCSigningKey(ctx context.Context) (*store.OIDCSigningKey, error) {
	var k store.OIDCSigningKey
	var created int64
	if err := b.db.QueryRowContext(ctx, selectNewestSigningKey).Scan(&k.ID, &k.Alg, &k.PrivateEnc, &created); err != nil {
		return nil, b.wrap(err)
	}
	k.CreatedAt = fromMS(created)
	return &k, nil
}

func (b *Backup) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	}
	return fmt.Errorf("read %s: %w", apperr.QuotePath(b.path), err)
}

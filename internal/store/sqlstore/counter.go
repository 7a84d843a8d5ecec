package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// TakeFromWindow counts an action in one conditional upsert: an existing window is only
// updated while it holds fewer than limit actions. Both PostgreSQL and SQLite apply the
// upsert's WHERE to the latest committed row under a row (or database) lock, so no more
// than limit are granted however many instances race. A refusal is counted by a second
// statement, whose RETURNING numbers the refusals one by one.
func (d *DB) TakeFromWindow(ctx context.Context, name string, start time.Time, limit int) (bool, int, error) {
	if limit < 1 {
		return false, 0, errors.New("sqlstore: a window's limit must be at least 1")
	}
	var used int
	err := d.queryRow(ctx, `INSERT INTO counter_windows (name, window_start, used, refused) VALUES (?, ?, 1, 0)
		ON CONFLICT (name, window_start) DO UPDATE SET used = counter_windows.used + 1
		WHERE counter_windows.used < ?
		RETURNING used`, name, ms(start), limit).Scan(&used)
	if err == nil {
		return true, 0, nil
	}
	if err = d.wrap(err); !errors.Is(err, store.ErrNotFound) {
		return false, 0, err
	}
	var refused int
	err = d.queryRow(ctx, `UPDATE counter_windows SET refused = refused + 1 WHERE name = ? AND window_start = ?
		RETURNING refused`, name, ms(start)).Scan(&refused)
	if err != nil {
		return false, 0, d.wrap(err)
	}
	return false, refused, nil
}
